#!/usr/bin/env bash
# //tools:infer end to end, as the README's first command runs it: the
# embedded stories260K, exported, compiled for cpu, generated; the
# second run reuses both artifacts; --output_json has the contract's fields;
# bad input is a clear error.
set -euo pipefail
infer="$1"
export QEFF_HOME="$TEST_TMPDIR/home"
out="$TEST_TMPDIR/run1.txt"
"$infer" --generation_len=8 --output_json="$TEST_TMPDIR/r.json" >"$out"
grep -q "Exported ONNX: $QEFF_HOME/LlamaForCausalLM/LlamaForCausalLM-[0-9a-f]\{16\}/LlamaForCausalLM.onnx" "$out"
grep -q "Compiled program: " "$out"
/usr/bin/python3 - "$TEST_TMPDIR/r.json" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert d["device"] == "cpu:0", d["device"]
assert os.path.isfile(d["artifacts"]["onnx"]), d["artifacts"]
assert os.path.isdir(d["artifacts"]["program"]), d["artifacts"]
r = d["results"][0]
assert r["prompt"] == "Once upon a time"
assert r["prompt_ids"][0] == 1, r["prompt_ids"]          # BOS
assert len(r["token_ids"]) == 8, r["token_ids"]
for k in ("ttft_s", "decode_tok_s", "total_tok_s", "e2e_s"):
    assert r["stats"][k] > 0, (k, r["stats"])
PY
# Second run: both artifacts reused, same tokens.
"$infer" --generation_len=8 --output_json="$TEST_TMPDIR/r2.json" >"$TEST_TMPDIR/run2.txt"
grep -q "Reusing ONNX" "$TEST_TMPDIR/run2.txt"
grep -q "Reusing program" "$TEST_TMPDIR/run2.txt"
/usr/bin/python3 -c "
import json,sys
a=json.load(open('$TEST_TMPDIR/r.json'));b=json.load(open('$TEST_TMPDIR/r2.json'))
assert a['results'][0]['token_ids']==b['results'][0]['token_ids']"
# The reference device gives the same tokens.
"$infer" --generation_len=8 --device=reference --prompt_ids=1,5,9 --output_json="$TEST_TMPDIR/r3.json" >/dev/null
"$infer" --generation_len=8 --device=cpu --prompt_ids=1,5,9 --output_json="$TEST_TMPDIR/r4.json" >/dev/null
/usr/bin/python3 -c "
import json
a=json.load(open('$TEST_TMPDIR/r3.json'));b=json.load(open('$TEST_TMPDIR/r4.json'))
assert a['results'][0]['prompt'] is None
assert a['results'][0]['prompt_ids']==[1,5,9]
assert a['results'][0]['token_ids']==b['results'][0]['token_ids'], (a, b)"
# Several prompts: continuous batching (2 slots) gives each prompt the
# tokens it gets alone.
printf 'Once upon a time\nThe little dog\n\nShe saw a big red ball\n' >"$TEST_TMPDIR/prompts.txt"
"$infer" --generation_len=6 --prompts_file="$TEST_TMPDIR/prompts.txt" --output_json="$TEST_TMPDIR/solo.json" >/dev/null
"$infer" --generation_len=6 --prompts_file="$TEST_TMPDIR/prompts.txt" --full_batch_size=2 --output_json="$TEST_TMPDIR/cb.json" >/dev/null
/usr/bin/python3 -c "
import json
a=json.load(open('$TEST_TMPDIR/solo.json'));b=json.load(open('$TEST_TMPDIR/cb.json'))
assert len(a['results'])==3 and len(b['results'])==3, (a, b)
for x,y in zip(a['results'],b['results']):
  assert x['prompt']==y['prompt'] and x['token_ids']==y['token_ids'], (x, y)"
# Bad input: clear errors, non-zero exit.
if "$infer" --prompt_ids=1,999999 2>"$TEST_TMPDIR/err"; then exit 1; fi
grep -q "999999" "$TEST_TMPDIR/err"
if "$infer" --model="$TEST_TMPDIR/missing.gguf" 2>"$TEST_TMPDIR/err"; then exit 1; fi
grep -q "missing.gguf" "$TEST_TMPDIR/err"
if "$infer" --device=tpu 2>"$TEST_TMPDIR/err"; then exit 1; fi
grep -q "unknown device 'tpu'" "$TEST_TMPDIR/err"
if "$infer" --generation_len=200 --ctx_len=64 2>"$TEST_TMPDIR/err"; then exit 1; fi
grep -q "ctx_len" "$TEST_TMPDIR/err"
echo PASS
# --profile: a Chrome trace of the cpu driver's kernel steps and a summary.
"$infer" --generation_len=4 --profile="$TEST_TMPDIR/trace.json" \
  >/dev/null 2>"$TEST_TMPDIR/profile.txt"
grep -q "^Decode " "$TEST_TMPDIR/profile.txt"
grep -q "^  Linear " "$TEST_TMPDIR/profile.txt"
/usr/bin/python3 - "$TEST_TMPDIR/trace.json" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
steps = [e for e in ev if e["cat"] == "step"]
assert steps and all(e["ph"] == "X" and e["dur"] >= 0 for e in ev), ev[:3]
assert any(e["name"] == "Linear" and e["args"]["node"] for e in steps)
PY
if "$infer" --generation_len=1 --profile=/nonexistent-dir/t.json 2>"$TEST_TMPDIR/e.txt"; then
  echo "--profile into a missing folder must fail"; exit 1
fi
grep -q "profile=/nonexistent-dir/t.json: the folder /nonexistent-dir/ does not exist" "$TEST_TMPDIR/e.txt"
