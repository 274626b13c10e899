#!/usr/bin/env bash
# Install everything the product and its tests need, into ./.venv (idempotent; safe to re-run).
#   - Python packages: the project and its test extras (pip install ".[test]"), which builds the TypeScript
#     labextension through the hatch build hook and installs it with the server extension enabled;
#   - the Node packages of the UI tests (ui-tests/, Galata);
#   - Debian's Chromium for the UI tests (only when QCL_WITH_BROWSER=1; needs root for apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-}"
export YARN_ENABLE_IMMUTABLE_INSTALLS="${YARN_ENABLE_IMMUTABLE_INSTALLS:-true}"  # the lockfiles are the truth

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install --quiet --upgrade pip

echo "==> installing Python packages (the first run takes a few minutes)"
quiet_pip() {  # pip, without the machine's harmless "Location ... is ignored" warnings; its failures still fail
  local log
  log="$(mktemp)"
  if ! python -m pip install --quiet "$@" >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" >&2 || true
    rm -f "$log"
    return 1
  fi
  grep -v "^WARNING: Location" "$log" || true
  rm -f "$log"
}
quiet_pip "jupyterlab>=4.4,<5"  # brings jlpm
quietly() {  # a command's output only when it fails (then all of it), else its last lines
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  tail -n 3 "$log"
  rm -f "$log"
}
echo "==> building the labextension"
quietly jlpm install
quietly jlpm build:prod
echo "==> installing qiskit-connector-lab with its test and lint extras"
quiet_pip ".[test,lint]"
python -c "import qiskit_connector_lab, qiskit_ibm_runtime, qiskit_aer"

if [ "${QCL_WITH_BROWSER:-0}" = "1" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing Debian Chromium for the UI tests"
    if [ "$(id -u)" = "0" ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
  fi
  echo "==> installing the UI test packages"
  (cd ui-tests && quietly jlpm install)
fi
echo "==> setup done"
