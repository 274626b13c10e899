#!/usr/bin/env bash
# Refresh the README's screenshots on purpose: run the UI tests (they write to the ignored
# ui-tests/test-results/screenshots/, which Playwright empties at the start of each run), then copy the pictures
# into docs/screenshots/. Commit the result yourself. Extra arguments go to `playwright test`.
set -euo pipefail
cd "$(dirname "$0")/.."
QCL_WITH_BROWSER=1 bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export QCONNECTOR_UI_STATE_DIR="${QCONNECTOR_UI_STATE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/qcl-ui-tests-XXXXXX")}"
SHOTS=ui-tests/test-results/screenshots
mkdir -p docs/screenshots

copy() {  # copy the named screenshots of the run that just ended
  local name
  for name in "$@"; do
    cp "$SHOTS/$name" docs/screenshots/
    echo "    docs/screenshots/$name"
  done
}

# --- Jobs view (issue 12) ---------------------------------------------------------------------------------
# The local fleet's run, then the IBM path's run (the test server with the API emulator inside it).
JOBS_LOCAL_SHOTS=(jobs-light.png jobs-dark.png job-detail-dark.png)
JOBS_IBM_SHOTS=(jobs-ibm-queued.png)
echo "==> UI tests of the Jobs view on the local fleet"
(cd ui-tests && jlpm playwright test tests/jobs.spec.ts "$@")
copy "${JOBS_LOCAL_SHOTS[@]}"
echo "==> UI tests of the Jobs view on the IBM path (emulator)"
(cd ui-tests && QCONNECTOR_UI_PROVIDER=ibm QCONNECTOR_UI_STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/qcl-ui-ibm-XXXXXX")" \
  jlpm playwright test tests/jobs-ibm.spec.ts "$@")
copy "${JOBS_IBM_SHOTS[@]}"
