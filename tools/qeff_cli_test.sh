#!/usr/bin/env bash
# QEfficient's documented command lines (README, docs/source/quick_start.md),
# unchanged apart from the model path, through infer / export / compile /
# execute; stories260K's text through infer and export -> compile ->
# execute; a table of bad flags (one clear line each, non-zero exit).
set -euo pipefail
infer="$1"; export_tool="$2"; compile="$3"; execute="$4"; make_model="$5"
export QEFF_HOME="$TEST_TMPDIR/home"
t="$TEST_TMPDIR"
"$make_model" --arch=gpt2 --out="$t/gpt2" >/dev/null
gpt2="$t/gpt2"

report() {  # the run report's four lines between the rules
  grep -q "^========================= Performance Stats =========================$" "$1"
  grep -Eq "^Average Prefill time a\.k\.a TTFT is= [0-9]+\.[0-9]+ sec$" "$1"
  grep -Eq "^Decode is= [0-9]+\.[0-9]+ tokens/sec$" "$1"
  grep -Eq "^Total is= [0-9]+\.[0-9]+ tokens/sec$" "$1"
  grep -Eq "^Total \(E2E\) inference time is= [0-9]+\.[0-9]+ sec$" "$1"
}

# README: cloud.infer.
"$infer" --model_name "$gpt2" --batch_size 1 --prompt_len 32 --ctx_len 128 --mxfp6 --num_cores 16 --device_group [0] --prompt "My name is" --mos 1 --aic_enable_depth_first >"$t/r1.txt"
report "$t/r1.txt"
grep -q "^Prompt : My name is$" "$t/r1.txt"
grep -q "^num_cores 16: cpu:0 has [0-9]* cores; using" "$t/r1.txt" || [ "$(nproc)" -ge 16 ]
grep -q "no effect on cpu" "$t/r1.txt"
# The same with continuous batching (3 slots; one prompt repeated to fill).
"$infer" --model_name "$gpt2" --batch_size 1 --prompt_len 32 --ctx_len 128 --mxfp6 --num_cores 16 --device_group [0] --prompt "My name is" --mos 1 --aic_enable_depth_first --full_batch_size 3 >"$t/r2.txt"
report "$t/r2.txt"
[ "$(grep -c '^Prompt : My name is$' "$t/r2.txt")" = 3 ]
# features_enablement.md: continuous batching, three prompts, no batch_size.
"$infer" --model_name "$gpt2" --prompt_len 32 --ctx_len 128 --num_cores 16 --device_group [0] --prompt "My name is|The flat earth theory is the belief that|The sun rises from" --mxfp6 --mos 1 --aic_enable_depth_first --full_batch_size 3 >"$t/r5.txt"
report "$t/r5.txt"
[ "$(grep -c '^Prompt : ' "$t/r5.txt")" = 3 ]
# quick_start.md: batch_size 3 with '|' prompts, and a prompts file.
"$infer" --model_name "$gpt2" --batch_size 3 --prompt_len 32 --ctx_len 128 --num_cores 16 --device_group [0] --prompt "My name is|The flat earth theory is the belief that|The sun rises from" --mxfp6 --mos 1 --aic_enable_depth_first >"$t/r3.txt"
report "$t/r3.txt"
[ "$(grep -c '^Prompt : ' "$t/r3.txt")" = 3 ]
grep -q "^Prompt : The sun rises from$" "$t/r3.txt"
printf 'My name is\nThe flat earth theory is the belief that\nThe sun rises from\n' >"$t/prompts.txt"
"$infer" --model_name "$gpt2" --batch_size 3 --prompt_len 32 --ctx_len 128 --num_cores 16 --device_group [0] --prompts_txt_file_path "$t/prompts.txt" --mxfp6 --mos 1 --aic_enable_depth_first >"$t/r4.txt"
# Same prompts, same batch: same completions either way.
diff <(grep '^Completion : ' "$t/r3.txt") <(grep '^Completion : ' "$t/r4.txt")
# quick_start.md: cloud.execute on infer's program (its qpc/ form).
qpc=$(grep '^Reusing program: \|^Compiled program: ' "$t/r1.txt" | sed 's/^[A-Za-z]* program: //')
"$execute" --model_name "$gpt2" --qpc_path "$qpc/qpc" --prompt "My name is" --device_group [0] >"$t/e1.txt"
report "$t/e1.txt"
diff <(grep '^Completion : \|^Token ids : ' "$t/r1.txt") <(grep '^Completion : \|^Token ids : ' "$t/e1.txt")
# quick_start.md: the multi-device line gets the named refusal.
if "$infer" --model_name "$gpt2" --batch_size 1 --prompt_len 32 --ctx_len 128 --mxfp6 --num_cores 16 --device-group [0,1] --prompt "def fibonacci(n):" --mos 2 --aic_enable_depth_first 2>"$t/err"; then exit 1; fi
grep -q "num_devices=2" "$t/err"
if "$execute" --model_name "$gpt2" --qpc-path "$qpc/qpc" --prompt "def binary_search(array: np.array, k: int):" --device-group [0,1] 2>"$t/err"; then exit 1; fi
grep -q "num_devices=2" "$t/err"
# Without --mos / --aic_enable_depth_first there is no note about them.
"$infer" --model_name "$gpt2" --prompt "My name is" --generation_len 4 >"$t/r6.txt"
if grep -q "no effect on cpu" "$t/r6.txt"; then exit 1; fi

# stories260K (the embedded default): llama.cpp's greedy text, through
# infer and through export -> compile -> execute.
story=", there was a little girl named Lily. She loved to play outside in the park."
"$infer" --prompt "Once upon a time" --generation_len 40 >"$t/s1.txt"
grep -q "^Completion : $story" "$t/s1.txt"
"$export_tool" >"$t/x.txt"
onnx=$(sed -n 's/^[A-Za-z]* ONNX: //p' "$t/x.txt")
test -f "$onnx"
"$compile" --onnx_path "$onnx" --qpc-path "$t/out" --batch_size 1 --prompt_len 32 --ctx_len 128 --num_cores 16 --device_group [0] >"$t/c.txt"
grep -q "^Compiled program: $t/out/qpcs$" "$t/c.txt"
test -f "$t/out/qpcs/qpc/program.bin"
"$execute" --qpc_path "$t/out/qpcs" --prompt "Once upon a time" --device_group [0] --generation_len 40 >"$t/s2.txt"
grep -q "^Completion : $story" "$t/s2.txt"
diff <(grep '^Token ids : ' "$t/s1.txt") <(grep '^Token ids : ' "$t/s2.txt")
# Two '|' prompts: one result each.
"$infer" --prompt "Once upon a time|Lily saw a dog" --generation_len 8 >"$t/s3.txt"
[ "$(grep -c '^Prompt : ' "$t/s3.txt")" = 2 ]
[ "$(grep -c '^Token ids : ' "$t/s3.txt")" = 2 ]

# Sampling (QEfficient's sampler parameters): a seed reproduces its text.
"$infer" --prompt "Once upon a time" --generation_len 24 --temperature 0.8 --top_k 40 --seed 1 >"$t/a1.txt"
"$infer" --prompt "Once upon a time" --generation_len 24 --temperature 0.8 --top_k 40 --seed 1 >"$t/a2.txt"
diff <(grep '^Token ids' "$t/a1.txt") <(grep '^Token ids' "$t/a2.txt")

# Bad flags and values: one clear line each, non-zero exit.
bad() {  # tool, expected text, args...
  local tool="$1" want="$2"; shift 2
  if "$tool" "$@" >/dev/null 2>"$t/err"; then echo "accepted: $*"; exit 1; fi
  grep -q -- "$want" "$t/err" || { echo "for $*:"; cat "$t/err"; exit 1; }
}
bad "$infer" "no_such_flag" --no_such_flag=1
bad "$infer" "device_group" --device_group "[x]"
bad "$infer" "no card 1" --device_group "[1]"
bad "$infer" "enable_qnn" --enable_qnn
bad "$infer" "temperature must be >= 0" --temperature -1
bad "$infer" "top_p must be in (0, 1]" --temperature 1 --top_p 0
bad "$infer" "offline" --hf_token abc
bad "$infer" "exclusive" --batch_size 2 --full_batch_size 2
bad "$infer" "batch_size must be" --batch_size 0
bad "$infer" "unknown device 'tpu'" --device tpu
bad "$infer" "ctx_len" --prompt_len 64 --ctx_len 32
bad "$infer" "missing.gguf" --model_name "$t/missing.gguf"
bad "$infer" "same flag" --model_name a --model b
bad "$infer" "ctx_len" --generation_len 500
bad "$infer" "the retained state (KV cache, 10 tensors) needs" --ctx_len 2000000000 --generation_len 4
bad "$compile" "required" --onnx_path "$onnx"
bad "$compile" "temperature" --onnx_path "$onnx" --qpc_path "$t/o4" --num_cores 1 --device_group [0] --temperature 1
bad "$compile" "--num_cores and --device_group are required" --onnx_path "$onnx" --qpc_path "$t/o2"
bad "$compile" "continuous-batching export" --onnx_path "$onnx" --qpc_path "$t/o3" --num_cores 1 --device_group [0] --full_batch_size 2
bad "$execute" "--qpc_path is required"
bad "$execute" "qconfig.json" --qpc_path "$t/nowhere"
bad "$execute" "full_batch_size" --qpc_path "$t/out/qpcs" --full_batch_size 4
echo PASS
