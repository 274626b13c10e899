#!/usr/bin/env bash
# Install everything the product and its tests need, into ./.venv (idempotent; safe to re-run).
#   - Python packages: the project and its test extras (pip install ".[test]"), which builds the TypeScript
#     labextension through the hatch build hook and installs it with the server extension enabled;
#   - the Node packages of the UI tests (ui-tests/, Galata);
#   - Debian's Chromium for the UI tests (only when QCL_WITH_BROWSER=1; needs root for apt-get).
# A run when nothing changed since the last one installs nothing: a stamp in .venv holds a hash of the inputs
# (sources, lockfiles, Python version), and only a different hash reinstalls.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-}"
export YARN_ENABLE_IMMUTABLE_INSTALLS="${YARN_ENABLE_IMMUTABLE_INSTALLS:-true}"  # the lockfiles are the truth
NODE_MIN=20

PYTHON="${PYTHON:-python3}"

inputs_hash() {  # what the installed product is built from; file names and contents, in a stable order
  local inputs=() path
  for path in pyproject.toml package.json yarn.lock install.json tsconfig.json src style schema jupyter-config \
    qiskit_connector_lab; do
    if [ -e "$path" ]; then inputs+=("$path"); fi
  done
  {
    "$PYTHON" --version 2>&1
    find "${inputs[@]}" -type f \
      ! -path '*/__pycache__/*' ! -path 'qiskit_connector_lab/labextension/*' ! -name '_version.py' \
      ! -path 'src/__tests__/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}

ui_hash() {
  sha256sum ui-tests/package.json ui-tests/yarn.lock | sha256sum | cut -d' ' -f1
}

check_node() {  # one line, and a way out, when Node is missing or too old
  local version
  if ! version="$(node --version 2>/dev/null)"; then
    echo "qiskit-connector-lab: building the sidebar from source needs Node.js >= ${NODE_MIN}, and there is no" \
      "'node' on the PATH. Install Node.js ${NODE_MIN} or newer, or install a built wheel instead" \
      "(pip install qiskit_connector_lab-*.whl needs no Node)." >&2
    exit 1
  fi
  local major="${version#v}"
  major="${major%%.*}"
  if ! [ "$major" -ge "$NODE_MIN" ] 2>/dev/null; then
    echo "qiskit-connector-lab: building the sidebar from source needs Node.js >= ${NODE_MIN}, but 'node' is" \
      "${version}. Install Node.js ${NODE_MIN} or newer, or install a built wheel instead" \
      "(pip install qiskit_connector_lab-*.whl needs no Node)." >&2
    exit 1
  fi
}

quietly() {  # a command's output only when it fails (then all of it)
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

quiet_pip() {  # pip without its chatter; its failures print everything
  quietly python -m pip install --quiet --disable-pip-version-check "$@"
}

STAMP=.venv/.qcl-installed
UI_STAMP=ui-tests/node_modules/.qcl-installed
want="$(inputs_hash)"
if [ -x .venv/bin/jupyter ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "==> qiskit-connector-lab is installed and up to date in .venv"
else
  check_node
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
  fi
  # shellcheck disable=SC1091
  . .venv/bin/activate
  echo "==> installing Python packages and building the sidebar (the first run takes a few minutes)"
  quiet_pip --upgrade pip
  quiet_pip "jupyterlab>=4.4,<5"  # brings jlpm
  quietly jlpm install
  quietly jlpm build:prod
  quiet_pip ".[test,lint]"
  python -c "import qiskit_connector_lab, qiskit_ibm_runtime, qiskit_aer"
  echo "$want" >"$STAMP"
fi

if [ "${QCL_WITH_BROWSER:-0}" = "1" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing Debian Chromium for the UI tests"
    if [ "$(id -u)" = "0" ]; then
      quietly apt-get update -qq && DEBIAN_FRONTEND=noninteractive quietly apt-get install -y -qq chromium
    else
      quietly sudo apt-get update -qq && quietly sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    fi
  fi
  if [ ! -f "$UI_STAMP" ] || [ "$(cat "$UI_STAMP")" != "$(ui_hash)" ]; then
    check_node
    echo "==> installing the UI test packages"
    # shellcheck disable=SC1091
    . .venv/bin/activate
    (cd ui-tests && quietly jlpm install)
    ui_hash >"$UI_STAMP"
  fi
fi
