#!/usr/bin/env bash
# The IBM-path tests against each of the newest qiskit-ibm-runtime minors, each in its own venv
# (.venv-runtime-X.Y, reused when it exists). The main venv (scripts/setup.sh) covers the newest; this covers the
# older ones the package still declares (pyproject.toml: qiskit-ibm-runtime>=0.49).
# Usage: bash scripts/runtime_matrix.sh [VERSION ...]   (default: 0.49 0.50)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then versions=(0.49 0.50); fi
TESTS=(tests/test_runtime_internals.py tests/test_ibm_path.py tests/test_faults_core.py tests/test_faults_magic.py
       tests/test_faults_server.py tests/test_secrets_audit.py)
for version in "${versions[@]}"; do
  venv=".venv-runtime-$version"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import qiskit_ibm_runtime as r, sys; sys.exit(not r.__version__.startswith('$version.'))" 2>/dev/null; then
    echo "==> creating $venv (qiskit-ibm-runtime $version.*)"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    log="$(mktemp)"
    # The package's own dependencies and test extras, read from pyproject.toml, with the runtime pinned to this minor.
    mapfile -t deps < <("$PYTHON" - <<'PY'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for dep in project["dependencies"] + project["optional-dependencies"]["test"]:
    if not dep.startswith("qiskit-ibm-runtime"):
        print(dep)
PY
)
    if ! "$venv/bin/python" -m pip install --quiet "qiskit-ibm-runtime==$version.*" "${deps[@]}" >"$log" 2>&1; then
      grep -v "^WARNING: Location" "$log" >&2; rm -f "$log"; exit 1
    fi
    rm -f "$log"
  fi
  installed="$("$venv/bin/python" -c 'import qiskit_ibm_runtime as r; print(r.__version__)')"
  echo "==> IBM-path tests with qiskit-ibm-runtime $installed"
  # The source tree is imported directly (PYTHONPATH): the same code as the main run, without a second build.
  PYTHONPATH="$PWD" "$venv/bin/python" -m pytest -q -p no:cacheprovider "${TESTS[@]}"
done
