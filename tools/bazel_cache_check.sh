#!/usr/bin/env bash
# Exports and compiles are cacheable Bazel actions (tools/defs.bzl): after a
# build of //examples/..., (1) a second build executes no action, and (2) a
# clean output base sharing the disk cache (.bazelrc.local, setup.sh)
# executes no QeffExport/QeffCompile action (every one is a cache hit).
# Reads Bazel's execution log. Run from the workspace root (CI runs it after
# the suite, which built //examples/...).
set -euo pipefail
cd "$(dirname "$0")/.."
t="$(mktemp -d)"
trap 'bazel --output_base="$t/ob" shutdown >/dev/null 2>&1 || true; rm -rf "$t"' EXIT
count() {  # log file -> "executed cache_hits" for Qeff* spawns
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec, i, ran, hit = json.JSONDecoder(), 0, 0, 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    obj, i = dec.raw_decode(text, i)
    if obj.get("mnemonic", "").startswith("Qeff"):
        if obj.get("remoteCacheHit"):
            hit += 1
        else:
            ran += 1
print(ran, hit)
PY
}
bazel build //examples/... >/dev/null 2>&1
bazel build //examples/... --execution_log_json_file="$t/again.json" 2>"$t/again.txt"
read -r ran hit < <(count "$t/again.json")
echo "cache check: second build: $ran Qeff actions executed, $hit cache hits"
grep -q "1 process: 1 internal" "$t/again.txt" || { cat "$t/again.txt"; exit 1; }
[ "$ran" = 0 ]
bazel --output_base="$t/ob" build //examples/... --execution_log_json_file="$t/clean.json" 2>"$t/clean.txt"
read -r ran hit < <(count "$t/clean.json")
echo "cache check: clean output base: $ran Qeff actions executed, $hit cache hits"
[ "$ran" = 0 ] && [ "$hit" = 10 ]
echo "cache check: PASS"
