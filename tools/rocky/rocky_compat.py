"""Python 3.10+ compatibility for the Rocky- and Queens-era test venvs, imported at start-up by rocky_compat.pth.

oslo.messaging 8.1.4 and its Rocky-era dependencies still use the ABC aliases
(collections.Mapping, ...) that Python 3.10 removed; give them back.
Test tooling only: no deployed code depends on it.
"""

import collections
import collections.abc

for _name in collections.abc.__all__:
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))
