#!/usr/bin/env bash
# Set up (first run: a few minutes) and start JupyterLab with qiskit-connector-lab, on the offline local fleet
# unless IBM credentials are configured (.env or environment). Extra arguments go to `jupyter lab`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
extra=()
if [ "$(id -u)" = "0" ]; then extra+=(--allow-root); fi
exec jupyter lab "${extra[@]}" "$@"
