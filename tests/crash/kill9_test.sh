#!/usr/bin/env bash
# Crash safety of export, compile and sweep (tools/crash_safety_test.sh
# covers infer and farm): each is killed with SIGKILL at many points; then
# every artifact present verifies (an exported folder compiles, a program
# folder runs), a rerun completes, and no temporary is left. Then two
# processes compile the same key at once: one publishes, the other reuses,
# neither fails.
set -euo pipefail
export_tool="$1"; compile="$2"; sweep="$3"; execute="$4"; infer="$5"
t="$TEST_TMPDIR"
export QEFF_HOME="$t/home"
stories="$(pwd)/models/stories260K/stories260K.gguf"
kills=0
kill_after() {  # kill_after SECONDS CMD...: runs CMD, SIGKILLs it after SECONDS
  local delay="$1"; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
}
no_temporaries() {
  local left
  left=$(find "$@" \( -name '*.tmp-*' -o -name '.*.lock' \) 2>/dev/null | wc -l)
  [ "$left" = 0 ] || { find "$@" \( -name '*.tmp-*' -o -name '.*.lock' \); echo "FAIL: $left temporaries left"; exit 1; }
}

# Export: killed at 12 points, each a new key (full_batch_size varies).
for i in $(seq 1 12); do
  kill_after "$(awk -v i="$i" 'BEGIN { printf "%.3f", 0.015 * i }')" \
    "$export_tool" --model_name "$stories" --full_batch_size $((i % 4))
done
for f in 0 1 2 3; do "$export_tool" --model_name "$stories" --full_batch_size $f >/dev/null; done
no_temporaries "$QEFF_HOME"
# The plain (not continuous-batching) export: its folder's key says so.
params=$(grep -l '"continuous_batching": false' \
  $(find "$QEFF_HOME" -name hashed_export_params.json) | head -1)
onnx="$(dirname "$params")/LlamaForCausalLM.onnx"
[ -f "$onnx" ]
n_exports=$(find "$QEFF_HOME" -name hashed_export_params.json | wc -l)
echo "exports after kills and reruns: $n_exports"
[ "$n_exports" -ge 2 ]  # full_batch_size 0 and >0: two graphs

# Compile: killed at 16 points over 4 keys, into their --qpc_path folders.
for i in $(seq 1 16); do
  ctx=$((64 + 32 * (i % 4)))
  kill_after "$(awk -v i="$i" 'BEGIN { printf "%.3f", 0.02 * i }')" \
    "$compile" --onnx_path "$onnx" --qpc_path "$t/q$ctx" --device_group [0] \
    --num_cores 1 --prompt_len 8 --ctx_len "$ctx"
done
for ctx in 64 96 128 160; do
  "$compile" --onnx_path "$onnx" --qpc_path "$t/q$ctx" --device_group [0] \
    --num_cores 1 --prompt_len 8 --ctx_len "$ctx" >/dev/null
  "$execute" --qpc_path "$t/q$ctx/qpcs" --generation_len 2 --prompt "Once" >"$t/x.txt"
  grep -q "^Completion : " "$t/x.txt"
done
no_temporaries "$t"/q*

# Sweep: killed at 6 points of a 2-cell grid; a rerun completes both cells.
cat >"$t/grid.json" <<JSON
{"models": ["$stories"], "precisions": ["f32", "q8_0"],
 "shapes": [{"prompt_len": 8, "ctx_len": 64}], "generation_len": 4}
JSON
for i in $(seq 1 6); do
  kill_after "$(awk -v i="$i" 'BEGIN { printf "%.3f", 0.25 * i }')" \
    "$sweep" --grid="$t/grid.json" --out="$t/sweep"
done
"$sweep" --grid="$t/grid.json" --out="$t/sweep" >"$t/sweep.txt"
grep -q "2 cells" "$t/sweep.txt"
/usr/bin/python3 -c "import json,sys; c=json.load(open(sys.argv[1])); assert len(c)==2, c" "$t/sweep/sweep.json"
no_temporaries "$t/sweep" "$QEFF_HOME"
echo "killed $kills runs"
[ "$kills" -ge 5 ]  # how many land depends on the machine's speed

# Two processes compile the same key at once, twice: into one --qpc_path
# and, through infer, into one QEFF_HOME key. Both succeed; one folder.
for round in 1 2; do
  rm -rf "$t/same"
  "$compile" --onnx_path "$onnx" --qpc_path "$t/same" --device_group [0] \
    --num_cores 1 --prompt_len 8 --ctx_len 224 >"$t/a.txt" 2>&1 &
  a=$!
  "$compile" --onnx_path "$onnx" --qpc_path "$t/same" --device_group [0] \
    --num_cores 1 --prompt_len 8 --ctx_len 224 >"$t/b.txt" 2>&1 &
  b=$!
  wait $a || { cat "$t/a.txt"; echo "FAIL: first concurrent compile"; exit 1; }
  wait $b || { cat "$t/b.txt"; echo "FAIL: second concurrent compile"; exit 1; }
  "$execute" --qpc_path "$t/same/qpcs" --generation_len 2 --prompt "Once" | grep -q "^Completion : "
  no_temporaries "$t/same"
done
"$infer" --ctx_len 240 --prompt_len 8 --generation_len 2 >"$t/i1.txt" 2>&1 &
a=$!
"$infer" --ctx_len 240 --prompt_len 8 --generation_len 2 >"$t/i2.txt" 2>&1 &
b=$!
wait $a && wait $b || { cat "$t/i1.txt" "$t/i2.txt"; echo "FAIL: concurrent infer"; exit 1; }
grep -q "^Completion : " "$t/i1.txt" && grep -q "^Completion : " "$t/i2.txt"
[ "$(find "$QEFF_HOME" -maxdepth 3 -type d -name 'qpc-*' | xargs -n1 basename | sort | uniq -d | wc -l)" = 0 ]
no_temporaries "$QEFF_HOME"
echo PASS
