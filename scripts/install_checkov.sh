#!/usr/bin/env bash
# Install checkov (policy scanner for the rendered chart) into its own venv, from PyPI only:
#   .tools/checkov/            the venv (its dependencies never touch the project's .venv)
#   .tools/bin/checkov         a symlink to its entry point
# Idempotent: does nothing when the pinned version is already there (marker file written only
# after a complete install). ~50 s, ~300 MB.
# Usage: scripts/install_checkov.sh            (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail

CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/checkov"
BIN="$ROOT/.tools/bin"
MARKER="$VENV/.installed-$CHECKOV_VERSION"
PYTHON="${PYTHON:-python3}"

if [[ ! -f "$MARKER" ]]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  "$VENV/bin/checkov" --version >/dev/null
  touch "$MARKER"
  echo "install_checkov: installed checkov $CHECKOV_VERSION into $VENV"
else
  echo "install_checkov: checkov $CHECKOV_VERSION already in $VENV"
fi
mkdir -p "$BIN"
ln -sfn "$VENV/bin/checkov" "$BIN/checkov"
