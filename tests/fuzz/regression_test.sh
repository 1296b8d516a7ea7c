#!/usr/bin/env bash
# Runs a fuzz target over its seed and regression folders (those present)
# and any extra seed files; fails on any crash or sanitizer report.
set -euo pipefail
target="$1"; shift
args=()
for p in "$@"; do [[ -e "$p" ]] && args+=("$p"); done
"$target" "${args[@]}"
