#!/usr/bin/env bash
# Regenerates requirements/deploy-runtime.lock.txt from deploy-runtime.in: every
# package the deploy and rollback jobs install, pinned, with the sha256 of each
# of its files on PyPI (pip-compile --generate-hashes). Those jobs install it
# with `pip install --require-hashes --no-deps --only-binary :all:`.
#
# pip-tools runs in a throwaway venv (not .venv), against PyPI only: this
# machine's pip configuration (find-links, extra indexes, constraints) is
# ignored, so that the hashes are those of the files GitHub's runners download.
# Python 3.11, as the workflows' actions/setup-python. Run: make deploy-lock
# (make deploy-lock LOCK_ARGS=--upgrade: the newest versions the .in allows).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
  echo "lock-deploy-runtime: needs Python 3.11 (the workflows' version), got $("$python" --version)" >&2
  exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_NO_INDEX PIP_REQUIRE_HASHES
index="${PIP_INDEX_URL:-https://pypi.org/simple}"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --index-url "$index" pip-tools==7.7.0
CUSTOM_COMPILE_COMMAND="make deploy-lock" "$work/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
  --no-emit-index-url --no-emit-find-links --index-url "$index" \
  --output-file requirements/deploy-runtime.lock.txt "$@" requirements/deploy-runtime.in
echo "lock-deploy-runtime: requirements/deploy-runtime.lock.txt"
