#!/usr/bin/env bash
# Start JupyterLab with qiskit-connector-lab on a notebooks folder, never on the source tree.
#
#   bash scripts/run.sh                  # ./notebooks (git-ignored), with the examples copied in
#   bash scripts/run.sh ~/class          # any folder (created if missing)
#   bash scripts/run.sh ~/class --no-browser --port 8890   # arguments after the folder go to `jupyter lab`
#
# The first run installs into ./.venv (a few minutes); later runs reinstall only when the sources changed.
# It uses the offline local fleet unless IBM credentials are configured (a .env in or above the folder, or the
# environment: see .env.example).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

folder="$ROOT/notebooks"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  folder="$1"
  shift
fi

bash "$ROOT/scripts/setup.sh"

mkdir -p "$folder"
folder="$(cd "$folder" && pwd)"
if [ "$folder" = "$ROOT" ]; then
  echo "qiskit-connector-lab: run.sh opens a notebooks folder, not the source tree; give another folder," \
    "e.g. bash scripts/run.sh ~/quantum-class" >&2
  exit 2
fi
if [ "$folder" = "$ROOT/notebooks" ]; then
  # The examples, copied once: a copy you changed is never overwritten.
  for notebook in "$ROOT"/examples/*.ipynb; do
    [ -e "$folder/$(basename "$notebook")" ] || cp "$notebook" "$folder/"
  done
fi

extra=()
if [ "$(id -u)" = "0" ]; then extra+=(--allow-root); fi
cd "$folder"
echo "==> JupyterLab on $folder"
exec "$ROOT/.venv/bin/jupyter" lab "${extra[@]}" "$@"
