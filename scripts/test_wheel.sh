#!/usr/bin/env bash
# The install path of a user: build the wheel, install it ALONE into a fresh virtual environment whose PATH has no
# Node.js, check that JupyterLab lists the labextension and the server extension as enabled, and load the sidebar in
# Chromium against a server of that environment (ui-tests/tests/wheel.spec.ts). Part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
. .venv/bin/activate
work="$(mktemp -d "${TMPDIR:-/tmp}/qcl-wheel-XXXXXX")"
trap 'rm -rf "$work"' EXIT

quietly() {  # a command's output only when it fails
  if ! "$@" >"$work/step.log" 2>&1; then
    cat "$work/step.log" >&2
    return 1
  fi
}

# The wheel: the labextension is already built (setup.sh), so the build hook skips the Node build.
quietly python -m pip wheel --no-deps --disable-pip-version-check -w "$work/dist" .
wheel="$(ls "$work"/dist/qiskit_connector_lab-*.whl)"
echo "wheel: $(basename "$wheel"), $(du -k "$wheel" | cut -f1) KiB"

# A fresh venv from the same Python, and only the wheel (and what it depends on, from the package index).
PY="$(python -c 'import sys; print(sys._base_executable)')"
"$PY" -m venv "$work/venv"
quietly "$work/venv/bin/python" -m pip install --disable-pip-version-check "$wheel"

# No Node.js for anything below: PATH is the venv's bin only.
export QCL_WHEEL_VENV="$work/venv"
nodeless=(env PATH="$work/venv/bin")
if "${nodeless[@]}" sh -c 'command -v node' >/dev/null 2>&1; then
  echo "test_wheel.sh: node is still on the PATH of the wheel's environment" >&2
  exit 1
fi
plain() { sed 's/\x1b\[[0-9;]*m//g'; }  # without the terminal colours
labext="$("${nodeless[@]}" "$work/venv/bin/jupyter" labextension list 2>&1 | plain)"
serverext="$("${nodeless[@]}" "$work/venv/bin/jupyter" server extension list 2>&1 | plain)"
if ! grep -Eq "qiskit-connector-lab v[0-9.]+ enabled +OK" <<<"$labext"; then
  echo "$labext" >&2
  echo "test_wheel.sh: the labextension is not listed as enabled" >&2
  exit 1
fi
if ! grep -Eq "qiskit_connector_lab enabled" <<<"$serverext"; then
  echo "$serverext" >&2
  echo "test_wheel.sh: the server extension is not enabled" >&2
  exit 1
fi
echo "lab and server extensions enabled, no Node.js on the PATH"

export QCONNECTOR_UI_STATE_DIR="${QCONNECTOR_UI_STATE_DIR:-$work/state}"
mkdir -p "$QCONNECTOR_UI_STATE_DIR"
if ! (cd ui-tests && jlpm playwright test --config playwright.wheel.config.js); then
  cat "$QCONNECTOR_UI_STATE_DIR/jupyter-wheel-server.log" >&2 || true
  exit 1
fi
