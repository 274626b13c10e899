#!/usr/bin/env bash
# Run every test: Python (pytest), TypeScript (jest) and the UI (Galata in Debian Chromium).
# Installs what is missing first (scripts/setup.sh). This is the command CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
QCL_WITH_BROWSER=1 bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate

echo "==> TypeScript unit tests"
jlpm test

echo "==> UI tests (Galata, Chromium)"
(cd ui-tests && jlpm playwright test)

echo "==> Python tests"
python -m pytest -q

echo "==> IBM-path tests on the older qiskit-ibm-runtime minors"
bash scripts/runtime_matrix.sh
