#!/usr/bin/env bash
# Refresh the README's screenshots on purpose: run the UI tests (they write to the ignored
# ui-tests/test-results/screenshots/, which Playwright empties at the start of each run), then copy the pictures
# into docs/screenshots/. Commit the result yourself. Extra arguments go to `playwright test`.
set -euo pipefail
cd "$(dirname "$0")/.."
QCL_WITH_BROWSER=1 bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
SHOTS=ui-tests/test-results/screenshots
mkdir -p docs/screenshots

copy() {  # copy the named screenshots of the run that just ended (all of them without names)
  local name
  if [ $# -eq 0 ]; then set -- $(cd "$SHOTS" && ls -1 ./*.png | sed 's#^./##'); fi
  for name in "$@"; do
    cp "$SHOTS/$name" docs/screenshots/
    echo "    docs/screenshots/$name"
  done
}

# --- The sidebar, the detail, the summary, Notebook 7, and the local fleet's Jobs view ---------------
echo "==> UI tests on the local fleet"
export QCONNECTOR_UI_STATE_DIR="${QCONNECTOR_UI_STATE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/qcl-ui-tests-XXXXXX")}"
(cd ui-tests && jlpm playwright test "$@")
copy

# --- Jobs view on the IBM path: the test server with the API emulator inside it ----------------------
JOBS_IBM_SHOTS=(jobs-ibm-queued.png)
echo "==> UI tests of the Jobs view on the IBM path (emulator)"
(cd ui-tests && QCONNECTOR_UI_PROVIDER=ibm QCONNECTOR_UI_STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/qcl-ui-ibm-XXXXXX")" \
  jlpm playwright test tests/jobs-ibm.spec.ts "$@")
copy "${JOBS_IBM_SHOTS[@]}"

# --- Sign-in: the test server with the API emulator inside it and no key configured -------------------
SIGNIN_SHOTS=(signin-form.png signin-instances.png signin-signed-in.png)
echo "==> UI tests of the sign-in (emulator)"
(cd ui-tests && QCONNECTOR_UI_PROVIDER=signin QCONNECTOR_UI_STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/qcl-ui-signin-XXXXXX")" \
  jlpm playwright test tests/signin.spec.ts "$@")
copy "${SIGNIN_SHOTS[@]}"
