#!/usr/bin/env bash
# Build context of the Queens image (tools/images.sh debian12-queens, argument:
# the context directory): the Rocky image's test programs and its Python 3.10+
# shim, shared rather than copied (the Dockerfile points the programs at /opt/queens).
# The image is rebuilt when tools/queens/ changes, not tools/rocky/: after changing
# those, `docker rmi zeromq-messaging/debian12-queens` (a fresh machine builds anew).
set -euo pipefail
cp "$(dirname "$0")/../rocky/"{rpc_server.py,rpc_client.py,rocky_compat.py,rocky_compat.pth} "$1/"
