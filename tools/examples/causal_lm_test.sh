#!/usr/bin/env bash
set -euo pipefail
example="$1"
infer="$2"
farm="$3"
export QEFF_HOME="$TEST_TMPDIR/home"
# The example and infer on the same (embedded stories260K) model and prompt: same ids, and
# infer reuses the example's ONNX and program (same keys, one source).
"$example" "" "Once upon a time" 12 >"$TEST_TMPDIR/ex.txt"
"$infer" --prompt="Once upon a time" --generation_len=12 --prompt_len=32 \
  --ctx_len=128 >"$TEST_TMPDIR/infer.txt"
ex_ids=$(grep '^Token ids : ' "$TEST_TMPDIR/ex.txt" | sed 's/^Token ids : //')
in_ids=$(grep '^Token ids : ' "$TEST_TMPDIR/infer.txt" | sed 's/^Token ids : //')
test -n "$ex_ids"
[ "$ex_ids" = "$in_ids" ] || { echo "example $ex_ids != infer $in_ids"; exit 1; }
grep -q "Reusing ONNX" "$TEST_TMPDIR/infer.txt"
grep -q "Reusing program" "$TEST_TMPDIR/infer.txt"
# hashed_compile_params.json: the folder name is QEfficient's hash of it.
qpc=$(grep '^QPC: ' "$TEST_TMPDIR/ex.txt" | sed 's/^QPC: //')
onnx=$(grep '^ONNX: ' "$TEST_TMPDIR/ex.txt" | sed 's/^ONNX: //')
/usr/bin/python3 - "$qpc" "$onnx" <<'PY'
import hashlib, json, os, sys
def h(p):
    d = json.load(open(p))
    return hashlib.sha256(json.dumps(d, skipkeys=True, sort_keys=True, indent=None,
        separators=(",", ":"), ensure_ascii=True).encode()).hexdigest()[:16]
qpc, onnx = sys.argv[1], sys.argv[2]
assert os.path.basename(qpc) == "qpc-" + h(os.path.join(qpc, "hashed_compile_params.json")), qpc
d = os.path.dirname(onnx)
assert os.path.basename(d) == "LlamaForCausalLM-" + h(os.path.join(d, "hashed_export_params.json")), d
assert os.path.basename(onnx) == "LlamaForCausalLM.onnx", onnx
assert os.path.basename(os.path.dirname(d)) == "LlamaForCausalLM", d
assert os.path.isfile(os.path.join(qpc, "qpc", "program.bin")), qpc
PY
# A farm-compiled continuous-batching program is reused by infer.
model="$(pwd)/models/stories260K/stories260K.gguf"
echo "{\"id\": \"cb\", \"model\": \"$model\", \"prompt_len\": 32, \"ctx_len\": 128, \"continuous_batching\": true, \"full_batch_size\": 2}" >"$TEST_TMPDIR/jobs.jsonl"
"$farm" --jobs="$TEST_TMPDIR/jobs.jsonl" --qeff_home="$QEFF_HOME" >"$TEST_TMPDIR/farm.txt"
grep -q "programs 1 written" "$TEST_TMPDIR/farm.txt"
printf 'Once upon a time\nThe dog\n' >"$TEST_TMPDIR/prompts.txt"
"$infer" --model="$model" --prompts_file="$TEST_TMPDIR/prompts.txt" --full_batch_size=2 \
  --generation_len=6 >"$TEST_TMPDIR/cb.txt"
grep -q "Reusing program" "$TEST_TMPDIR/cb.txt"
echo PASS
