#!/usr/bin/env bash
# Crash safety: infer and farm killed with SIGKILL at many points of export,
# compile and write; afterwards a rerun completes, every artifact present
# loads, and no temporary folder or file is left behind.
set -euo pipefail
infer="$1"; farm="$2"; execute="$3"
export QEFF_HOME="$TEST_TMPDIR/home"
t="$TEST_TMPDIR"
stories="$(pwd)/models/stories260K/stories260K.gguf"
kills=0
for i in $(seq 1 24); do
  ctx=$((64 + 32 * (i % 6)))  # several keys, so kills land in new work
  delay=$(awk -v i="$i" 'BEGIN { printf "%.3f", 0.01 * i }')
  "$infer" --ctx_len "$ctx" --generation_len 2 >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null && kills=$((kills + 1)) || true
  wait "$pid" 2>/dev/null || true
done
: >"$t/all.jsonl"
for i in $(seq 1 8); do
  echo "{\"model\": \"$stories\", \"prompt_len\": 8, \"ctx_len\": $((48 + 16 * i))}" >"$t/jobs.jsonl"
  cat "$t/jobs.jsonl" >>"$t/all.jsonl"
  "$farm" --jobs="$t/jobs.jsonl" --qeff_home="$QEFF_HOME" >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v i="$i" 'BEGIN { printf "%.3f", 0.02 * i }')"
  kill -9 "$pid" 2>/dev/null && kills=$((kills + 1)) || true
  wait "$pid" 2>/dev/null || true
done
echo "killed $kills runs"
# Reruns complete (every key the killed runs touched), every program folder
# loads and runs.
for c in 64 96 128 160 192 224; do
  "$infer" --ctx_len "$c" --generation_len 2 >"$t/ok.txt"
  grep -q "^Completion : " "$t/ok.txt"
done
"$farm" --jobs="$t/all.jsonl" --qeff_home="$QEFF_HOME" >/dev/null
n=0
for q in $(find "$QEFF_HOME" -maxdepth 3 -type d -name 'qpc-*'); do
  "$execute" --qpc_path "$q" --generation_len 2 >/dev/null
  n=$((n + 1))
done
echo "programs verified: $n"
[ "$n" -ge 14 ]
for d in $(find "$QEFF_HOME" -mindepth 2 -maxdepth 2 -type d -name '*ForCausalLM-*'); do
  test -f "$d/hashed_export_params.json" && test -f "$d/LlamaForCausalLM.onnx"
done
# A killed writer's temporaries are removed when its key is published
# again; every key was rerun above.
stale=$(find "$QEFF_HOME" \( -name '*.tmp-*' -o -name '.*.lock' \) | wc -l)
echo "temporaries left: $stale"
[ "$stale" = 0 ] || { find "$QEFF_HOME" \( -name '*.tmp-*' -o -name '.*.lock' \); exit 1; }
echo PASS
