#!/usr/bin/env bash
# //tools:embed: the JSON contract, the specialization chosen per prompt,
# the same vectors from the HF folder and its GGUF, L2 norms of 1, and bad
# input named (pooling none, a prompt past the largest seq_len).
set -euo pipefail
embed="$1"; make_model="$2"
export QEFF_HOME="$TEST_TMPDIR/home"
t="$TEST_TMPDIR"
"$make_model" --arch=bert --gguf --out="$t/bert" >/dev/null
long="$(printf 'hello world %.0s' $(seq 1 30))"
"$embed" --model "$t/bert" --prompt "hello world|$long" --pooling cls \
  --seq_len 16,64 --output_json "$t/hf.json" >"$t/hf.txt"
grep -q '"hello world" (4 tokens, Embedding_0 seq_len 16)' "$t/hf.txt"
grep -q '(62 tokens, Embedding_1 seq_len 64)' "$t/hf.txt"
"$embed" --model "$t/bert/model.gguf" --prompt "hello world|$long" --pooling cls \
  --seq_len 16,64 --output_json "$t/gguf.json" >/dev/null
"$embed" --model "$t/bert" --prompt "hello world" --pooling mean --normalize l2 \
  --output_json "$t/l2.json" >/dev/null
/usr/bin/python3 - "$t/hf.json" "$t/gguf.json" "$t/l2.json" <<'PY'
import json, math, sys
hf, gguf, l2 = (json.load(open(p)) for p in sys.argv[1:])
assert hf["pooling"] == "cls" and hf["normalize"] == "none", hf.keys()
assert [r["prompt_ids"][0] for r in hf["results"]] == [2, 2]
assert len(hf["results"][0]["embedding"]) == 32
# HF folder (erf GELU) and GGUF (llama.cpp's tanh GELU) differ only a little.
for a, b in zip(hf["results"], gguf["results"]):
    assert a["prompt_ids"] == b["prompt_ids"]
    d = max(abs(x - y) for x, y in zip(a["embedding"], b["embedding"]))
    assert d < 0.05 * max(abs(y) for y in b["embedding"]), d
v = l2["results"][0]["embedding"]
assert abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-5
assert l2["normalize"] == "l2" and l2["pooling"] == "mean"
PY
if "$embed" --model "$t/bert" --prompt "x" --pooling none 2>"$t/err"; then exit 1; fi
grep -q "pooling 'none' is not supported" "$t/err"
if "$embed" --model "$t/bert" --prompt "$long" --seq_len 16 2>"$t/err"; then exit 1; fi
grep -q "62 tokens exceed the largest compiled seq_len 16" "$t/err"
"$embed" --model "$t/bert" --prompt "$long" --seq_len 16 --truncate >"$t/tr.txt"
grep -q '(16 tokens, Embedding seq_len 16)' "$t/tr.txt"
echo PASS
