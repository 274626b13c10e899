#!/usr/bin/env bash
# Refresh the README's screenshots on purpose: run the UI tests (they write to the ignored
# ui-tests/test-results/screenshots/), then copy the pictures into docs/screenshots/. Commit the result yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
QCL_WITH_BROWSER=1 bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export QCONNECTOR_UI_STATE_DIR="${QCONNECTOR_UI_STATE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/qcl-ui-tests-XXXXXX")}"
(cd ui-tests && jlpm playwright test "$@")
mkdir -p docs/screenshots
cp ui-tests/test-results/screenshots/*.png docs/screenshots/
echo "==> copied into docs/screenshots/:"
ls -1 ui-tests/test-results/screenshots/
