#!/usr/bin/env bash
# Run every test: TypeScript (jest), the UI (Galata in Debian Chromium, JupyterLab and Notebook 7), the built wheel
# in a fresh virtual environment without Node.js, and Python (pytest). Installs what is missing first
# (scripts/setup.sh). This is the command CI runs (.ci/run). The output stays short unless something fails, and
# the checkout stays clean (screenshots go to the ignored ui-tests/test-results/screenshots/; scripts/screenshots.sh
# refreshes the README's).
set -euo pipefail
cd "$(dirname "$0")/.."
QCL_WITH_BROWSER=1 bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate

echo "==> TypeScript unit tests (jest)"
jlpm test

echo "==> UI tests (Galata, Chromium: JupyterLab and Notebook 7)"
export QCONNECTOR_UI_STATE_DIR="${QCONNECTOR_UI_STATE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/qcl-ui-tests-XXXXXX")}"
if ! (cd ui-tests && jlpm playwright test); then
  echo "--- the Jupyter server's log ---" >&2
  cat "$QCONNECTOR_UI_STATE_DIR/jupyter-server.log" >&2 || true
  exit 1
fi
echo "==> UI tests of the Jobs view on the IBM path (the API emulator inside the test server)"
ibm_state="$(mktemp -d "${TMPDIR:-/tmp}/qcl-ui-ibm-XXXXXX")"
if ! (cd ui-tests && QCONNECTOR_UI_PROVIDER=ibm QCONNECTOR_UI_STATE_DIR="$ibm_state" jlpm playwright test tests/jobs-ibm.spec.ts); then
  echo "--- the Jupyter server's log ---" >&2
  cat "$ibm_state/jupyter-server.log" >&2 || true
  exit 1
fi
echo "==> UI tests of the sign-in on the IBM path (no key configured; the API emulator inside the test server)"
signin_state="$(mktemp -d "${TMPDIR:-/tmp}/qcl-ui-signin-XXXXXX")"
if ! (cd ui-tests && QCONNECTOR_UI_PROVIDER=signin QCONNECTOR_UI_STATE_DIR="$signin_state" jlpm playwright test tests/signin.spec.ts); then
  echo "--- the Jupyter server's log ---" >&2
  cat "$signin_state/jupyter-server.log" >&2 || true
  exit 1
fi

echo "==> The wheel, installed alone into a fresh venv with no Node.js"
bash scripts/test_wheel.sh

echo "==> Python tests (pytest)"
python -m pytest -q

echo "==> IBM-path tests on the older qiskit-ibm-runtime minors"
bash scripts/runtime_matrix.sh
