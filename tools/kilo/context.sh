#!/usr/bin/env bash
# Build context of the Kilo image (tools/images.sh debian11-kilo, argument: the
# context directory): no get-pip for Python 2.7 here, so the last pip wheel for
# it, from PyPI, checked against its published hash.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
"$ROOT/.venv/bin/python" -m pip download -q --isolated --disable-pip-version-check --cert "$1/host-ca.crt" \
  --no-deps --only-binary :all: --python-version 2.7 -d "$1" pip==20.3.4
echo "217ae5161a0e08c0fb873858806e3478c9775caffce5168b50ec885e358c199d  $1/pip-20.3.4-py2.py3-none-any.whl" \
  | sha256sum -c --quiet
