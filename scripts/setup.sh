#!/usr/bin/env bash
# The README's first command: install everything, then release a01 and grade the sample class.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m autograder demo "$@"
