#!/usr/bin/env bash
# Build context of the Rocky-on-Python-2.7 image: the same pip wheel for Python 2.7 as the Kilo image's.
exec "$(dirname "$0")/../kilo/context.sh" "$@"
