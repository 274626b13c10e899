#!/usr/bin/env bash
# How long `bash scripts/run.sh` takes until JupyterLab answers, twice in a row: the first start installs what
# changed (everything, with --changed: the install stamp is removed first), the second finds nothing to do.
#
#   bash bench/start_time.sh             # two starts, as they are
#   bash bench/start_time.sh --changed   # forget the install stamp first, so the first start reinstalls
#
# Prints one line per start: seconds from the command to the first 200 of /lab.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${PORT:-18931}"
folder="$(mktemp -d)"
trap 'rm -rf "$folder"' EXIT

if [ "${1:-}" = "--changed" ]; then
  echo "# the stamp is removed, so the first start reinstalls"
  rm -f "$ROOT/.venv/.qcl-installed"
fi

start_once() {
  local label="$1" t0 pid
  t0=$(date +%s.%N)
  bash "$ROOT/scripts/run.sh" "$folder" --no-browser --port "$PORT" --IdentityProvider.token=bench \
    >"$folder.log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/lab?token=bench"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$folder.log" >&2
      echo "run.sh ended before JupyterLab answered" >&2
      exit 1
    fi
    sleep 0.2
  done
  python3 -c "import sys; print(f'{sys.argv[1]} start: {float(sys.argv[2]) - float(sys.argv[3]):.1f} s')" \
    "$label" "$(date +%s.%N)" "$t0"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -f "$folder.log"
}

start_once first
start_once second
