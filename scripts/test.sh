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
echo "==> UI tests of the Jobs view on the IBM path (the API emulator inside the test server)"
(cd ui-tests && QCONNECTOR_UI_PROVIDER=ibm QCONNECTOR_UI_STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/qcl-ui-ibm-XXXXXX")" \
  jlpm playwright test tests/jobs-ibm.spec.ts)

echo "==> Python tests"
python -m pytest -q

echo "==> IBM-path tests on the older qiskit-ibm-runtime minors"
bash scripts/runtime_matrix.sh
