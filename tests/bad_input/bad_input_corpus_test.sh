#!/usr/bin/env bash
# Runs the bad-input corpus against the tools built beside //tools:infer.
set -euo pipefail
tools_dir="$(cd "$(dirname "$1")" && pwd)"
exec /usr/bin/python3 tests/bad_input/bad_input_corpus.py "$tools_dir" \
  "$(pwd)/$2" "$TEST_TMPDIR/corpus"
