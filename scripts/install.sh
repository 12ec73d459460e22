#!/usr/bin/env bash
# Create .venv (if needed) and install everything the course needs, pinned, plus this project.
set -euo pipefail
cd "$(dirname "$0")/.."
# A real browser for the feedback pages' test (tests/test_feedback_page.py): Debian's chromium, where
# we are root and it is missing (elsewhere that test is skipped, saying how to install it).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        || echo "install.sh: could not install chromium (apt-get); the feedback pages' browser test will be skipped" >&2
fi
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat requirements.txt pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
    rm -f .venv/.installed-*
    touch "$stamp"
fi
