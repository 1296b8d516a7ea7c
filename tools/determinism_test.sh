#!/usr/bin/env bash
# Artifacts are byte-deterministic and hold no absolute paths: the same
# export and compile run in two different folders give identical files
# (ONNX + data, program container, params), so a build cache or a remote
# executor can share them.
set -euo pipefail
export_tool="$1"; compile="$2"; make_model="$3"
t="$TEST_TMPDIR"
"$make_model" --arch=qwen2 --out="$t/qwen2" >/dev/null
run() {  # dir, model
  local d="$1" m="$2"
  mkdir -p "$d"
  QEFF_HOME="$d/home" "$export_tool" --model_name "$m" --export_dir "$d/exp/model" >"$d/x.txt"
  local onnx; onnx=$(sed -n 's/^[A-Za-z]* ONNX: //p' "$d/x.txt")
  "$compile" --onnx_path "$onnx" --qpc-path "$d/out" --prompt_len 8 --ctx_len 32 --num_cores 1 --device_group [0] >/dev/null
  "$compile" --onnx_path "$onnx" --qpc-path "$d/out_mx" --prompt_len 8 --ctx_len 32 --num_cores 1 --device_group [0] --mxint8 >/dev/null
  (cd "$d" && find exp out out_mx -type f | sort | xargs sha256sum) >"$d/sums.txt"
}
for m in "$(pwd)/models/stories260K/stories260K.gguf" "$t/qwen2"; do
  rm -rf "$t/a" "$t/b"
  run "$t/a" "$m"
  run "$t/b/somewhere/else" "$m"
  diff "$t/a/sums.txt" "$t/b/somewhere/else/sums.txt"
  [ "$(wc -l <"$t/a/sums.txt")" -ge 8 ]
  if grep -rl "$t" "$t/a/exp" "$t/a/out" "$t/a/out_mx" --include=*.json --include=*.yaml; then
    echo "absolute paths in the artifacts above"; exit 1
  fi
done
echo PASS
