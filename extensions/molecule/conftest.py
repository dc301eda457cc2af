"""Shared by every scenario's testinfra tests (pytest loads it from the repository's rootdir down).

``nodes``: every host of the running scenario by name, reached by ``docker exec``: a
command takes milliseconds, where one through Ansible takes seconds, and the proofs run
many. The names are those of the inventory Molecule gives testinfra (--ansible-inventory).
"""

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner


@pytest.fixture(scope="module")
def nodes(request):
    names = AnsibleRunner(request.config.option.ansible_inventory).get_hosts("all")
    return {name: testinfra.get_host(f"docker://{name}") for name in names}
