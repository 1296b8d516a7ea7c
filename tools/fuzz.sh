#!/usr/bin/env bash
# Fuzzes every libFuzzer target in //tests/fuzz for a bounded time under ASan +
# UBSan (--config=fuzz: Debian's clang-14), each from a seed corpus of real
# files: tests/fuzz/seeds/, stories260K.gguf, seeded test models (llama, qwen2,
# gpt2) with their GGUF, safetensors, config and tokenizer files, the
# exported ONNX and compiled program of stories260K, ONNX backend test models
# from libonnx-testdata, and tokenizer.json files under ../shared. Prints
# executions and coverage per target; a crash fails the run and its input is
# kept under $QEFF_FUZZ_OUT (default /tmp/qeff-fuzz-out) to become a
# regression input (tests/fuzz/regressions/<target>/) once the reader is fixed.
#
#   tools/fuzz.sh [SECONDS_PER_TARGET (20)] [TARGET ...]
#
# The clang build lives in an output base of its own
# ($QEFF_FUZZ_OUTPUT_BASE, default ~/.cache/qeff/bazel-fuzz), so switching
# compilers never rebuilds the gcc tree; the first build compiles every
# dependency of //tests/fuzz with clang (see the closing note for times).
# Its actions go to the disk cache of .bazelrc.local unless
# $QEFF_FUZZ_DISK_CACHE names another (a fresh one measures a cold build).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
shift || true
all=(gguf safetensors llama2c llama2c_tokenizer config_json tokenizer_json
     onnx specializations program ir_text farm_jobs openai_request wav)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")
ob="${QEFF_FUZZ_OUTPUT_BASE:-$HOME/.cache/qeff/bazel-fuzz}"
out="${QEFF_FUZZ_OUT:-/tmp/qeff-fuzz-out}"
work="$(mktemp -d /tmp/qeff-fuzz-work.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
t0=$(date +%s)
dc=()
[[ -z ${QEFF_FUZZ_DISK_CACHE:-} ]] || dc=(--disk_cache="$QEFF_FUZZ_DISK_CACHE")
bazel --output_base="$ob" build --config=fuzz "${dc[@]}" //tests/fuzz:all
bin="$(bazel --output_base="$ob" info --config=fuzz bazel-bin 2>/dev/null)/tests/fuzz"
t_build=$(($(date +%s) - t0))

# Real files (the normal build's tools write them).
bazel build //tools:infer //tools:make_test_model >/dev/null 2>&1
for a in llama qwen2 gpt2; do
  g=""; [[ $a == gpt2 ]] || g="--gguf"
  bazel-bin/tools/make_test_model --arch=$a $g --out="$work/$a" >/dev/null
done
QEFF_HOME="$work/home" bazel-bin/tools/infer --ctx_len=64 --prompt_len=8 \
  --generation_len=1 >/dev/null
seed() {  # seed TARGET FILE...: copies files into TARGET's corpus
  local t="$1"; shift
  mkdir -p "$work/corpus/$t"
  local f
  for f in "$@"; do [[ -f "$f" ]] && cp "$f" "$work/corpus/$t/$(echo "$f" | md5sum | cut -c1-12)-$(basename "$f")"; done
  return 0
}
for t in "${all[@]}"; do
  mkdir -p "$work/corpus/$t"
  [[ -d tests/fuzz/seeds/$t ]] && seed "$t" tests/fuzz/seeds/$t/*
  [[ -d tests/fuzz/regressions/$t ]] && seed "$t" tests/fuzz/regressions/$t/*
done
seed gguf models/stories260K/stories260K.gguf "$work"/*/model.gguf
seed safetensors "$work"/*/model.safetensors
seed config_json "$work"/*/config.json "$work"/*/generation_config.json "$work"/*/tokenizer_config.json
seed tokenizer_json "$work"/*/tokenizer.json
shared="${QEFF_SHARED_DIR:-$(cd .. && pwd)/shared}"
[[ -d $shared ]] && seed tokenizer_json $(find "$shared" -name tokenizer.json -size -4M 2>/dev/null | head -8)
seed onnx $(find "$work/home" -name '*.onnx') \
  $(find /usr/share/libonnx-testdata/data -name model.onnx -size -32k 2>/dev/null | head -300)
seed program $(find "$work/home" -name program.bin)
seed specializations $(find "$work/home" -name specializations.json)
seed ir_text tools/testdata/*.txt

fail=0
printf '%-20s %10s %8s %8s %s\n' target execs cov ft corpus
for t in "${targets[@]}"; do
  log="$out/$t.log"
  n_seed=$(ls "$work/corpus/$t" | wc -l)
  if ! "$bin/${t}_fuzz" -seed="${QEFF_FUZZ_SEED:-1}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
      -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$t-" \
      "$work/corpus/$t" >"$log" 2>&1; then
    fail=1
    echo "$t: CRASH (log $log; input $(ls "$out/$t"-* 2>/dev/null | grep -v '\.log$' | head -1))"
    grep -m3 -E "ERROR|runtime error|SUMMARY" "$log" || true
    continue
  fi
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  last=$(grep -E '^#[0-9]+.*cov:' "$log" | tail -1)
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo 0)
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo 0)
  printf '%-20s %10s %8s %8s %s seeds\n' "$t" "$execs" "$cov" "$ft" "$n_seed"
done
echo "fuzz: build ${t_build}s, total $(($(date +%s) - t0))s"
[[ -z ${CI:-} ]] || bazel --output_base="$ob" shutdown || true
exit $fail
