#!/usr/bin/env bash
# The quality gate CI runs after the tests: ruff (lint + format check) and mypy over the package, and the
# frontend's linters (stylelint, prettier, eslint). Assumes scripts/setup.sh ran (it installs the `lint` extra).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
. .venv/bin/activate
echo "==> ruff check"
ruff check qiskit_connector_lab tests bench scripts
echo "==> ruff format --check"
ruff format --check qiskit_connector_lab tests bench scripts
echo "==> mypy"
mypy
echo "==> jlpm lint:check"
jlpm lint:check
echo "==> quality gate passed"
