#!/usr/bin/env bash
# //tools:opt end to end: fuses a decomposed RMSNorm read from IR text, writes
# ONNX, reads that back; bad pass names and bad files are clear errors.
set -euo pipefail
opt="$1"
data="$2"
out="$TEST_TMPDIR/fused.txt"
"$opt" --input="$data" --passes=custom_rms_norm --output="$out"
grep -q 'com.qti.aisw.onnx.CustomRMSNorm(%x, %w)' "$out" || { echo "not fused:"; cat "$out"; exit 1; }
grep -q 'ReduceMean' "$out" && { echo "decomposition left behind"; exit 1; }
"$opt" --input="$data" --passes=export_pipeline --output="$TEST_TMPDIR/g.onnx"
"$opt" --input="$TEST_TMPDIR/g.onnx" --passes=custom_rms_norm | grep -q CustomRMSNorm
if "$opt" --input="$data" --passes=no_such_pass 2>"$TEST_TMPDIR/err"; then exit 1; fi
grep -q "unknown pass or pipeline 'no_such_pass'" "$TEST_TMPDIR/err"
if "$opt" --input="$TEST_TMPDIR/missing.onnx" --passes=fp16_clip 2>"$TEST_TMPDIR/err"; then exit 1; fi
grep -q "missing.onnx" "$TEST_TMPDIR/err"
echo PASS
