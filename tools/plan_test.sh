#!/bin/bash
# plan: a sweep over three SKUs from config.json alone ranks the cells,
# writes table, CSV and chart, and names what does not fit.
set -euo pipefail
PLAN="$TEST_SRCDIR/$TEST_WORKSPACE/tools/plan"
CFG="$TEST_SRCDIR/$TEST_WORKSPACE/models/configs"
OUT="$TEST_TMPDIR/plan"
"$PLAN" --config="$CFG/llama-2-7b" --prefill_seq_lens=128 \
  --ctx_lens=1024,4096 --num_devices=1,4 --out="$OUT" > "$TEST_TMPDIR/stdout"
for f in plan.md plan.csv plan.svg; do
  [ -s "$OUT/$f" ] || { echo "missing $OUT/$f"; exit 1; }
done
# 3 SKUs x 2 ctx x 2 devices x 3 precisions = 36 cells + header.
[ "$(wc -l < "$OUT/plan.csv")" -eq 37 ] || { cat "$OUT/plan.csv"; exit 1; }
# Rank 1 exists and is an Ultra on four SoCs (the most bandwidth).
grep -q '^| 1 | ai100-ultra | pl128 ctx1024 bs1 dev4 | mxfp6+mxint8 |' \
  "$OUT/plan.md" || { cat "$OUT/plan.md"; exit 1; }
# Four SoCs of a one-SoC card are four cards.
grep -q 'ai100-standard | pl128 ctx1024 bs1 dev4 | mxfp6+mxint8 | .* | 4 |' \
  "$OUT/plan.md" || { cat "$OUT/plan.md"; exit 1; }
grep -q '<svg' "$OUT/plan.svg"
grep -q 'ai100-pro' "$OUT/plan.svg"
# Llama-2-70B in fp16 does not fit one Pro SoC: the shortfall is named.
"$PLAN" --config="$CFG/llama-2-70b" --skus=ai100-pro --precisions=fp16 \
  > "$TEST_TMPDIR/70b"
grep -q 'cannot run: .*short by' "$TEST_TMPDIR/70b" || { cat "$TEST_TMPDIR/70b"; exit 1; }
# Bad input is an error naming the flag.
if "$PLAN" --config="$CFG/llama-2-7b" --precisions=int4 2> "$TEST_TMPDIR/err"; then
  echo "int4 accepted"; exit 1
fi
grep -q "int4" "$TEST_TMPDIR/err"
echo PASS
