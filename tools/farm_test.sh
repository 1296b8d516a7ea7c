#!/usr/bin/env bash
# //tools:farm end to end: two seeded models x three specializations (+ a
# job whose model is missing) → each model loaded once, one ONNX per model,
# every program written; the bad job fails alone (exit 1); a second run
# reuses everything (exit 0); unknown fields and bad flags are clear errors.
set -euo pipefail
farm="$1"
make_model="$2"
t="$TEST_TMPDIR"
"$make_model" --arch=llama --out="$t/llama" --gguf >/dev/null
"$make_model" --arch=qwen2 --out="$t/qwen2" >/dev/null
cat >"$t/jobs.jsonl" <<JOBS
{"id": "l8", "model": "$t/llama/model.gguf", "prompt_len": 8, "ctx_len": 32}
{"id": "l16", "model": "$t/llama/model.gguf", "prompt_len": 16, "ctx_len": 64}
{"id": "lspec", "model": "$t/llama/model.gguf", "specializations": [{"name": "Prefill", "symbols": {"batch_size": "1", "seq_len": "4", "ctx_len": "16"}}, {"name": "Decode", "symbols": {"batch_size": "1", "seq_len": "1", "ctx_len": "16"}}]}
{"id": "q8", "model": "$t/qwen2", "prompt_len": 8, "ctx_len": 32}
{"id": "q16", "model": "$t/qwen2", "prompt_len": 16, "ctx_len": 64, "mxint8_kv_cache": true}
{"id": "q-cpu2", "model": "$t/qwen2", "prompt_len": 8, "ctx_len": 32, "device": "cpu:2/1", "num_cores": 1}
{"id": "gone", "model": "$t/missing.gguf"}
JOBS
if "$farm" --jobs="$t/jobs.jsonl" --qeff_home="$t/home" --output_json="$t/r1.json" >"$t/out1.txt"; then
  echo "a failed job must make the farm exit 1"; exit 1
fi
cat "$t/out1.txt"
grep -q "7 jobs in" "$t/out1.txt"
/usr/bin/python3 - "$t/r1.json" "$t/home" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
home = sys.argv[2]
s = d["stats"]
assert s["loads"] == 2, s
assert s["exports_written"] == 2, s
# q-cpu2 differs from q8 only in device card and num_cores, which do not
# change a cpu program: it shares q8's folder (written once).
assert s["compiles"] + s["programs_reused"] >= 6, s
assert s["programs_written"] == 5, s
jobs = {j["id"]: j for j in d["jobs"]}
for i in ("l8", "l16", "lspec", "q8", "q16", "q-cpu2"):
    j = jobs[i]
    assert j["status"] == "ok", j
    assert j["program"].startswith(home + "/"), j
    assert os.path.isfile(os.path.join(j["program"], "qpc", "program.bin")), j
    assert os.path.isfile(os.path.join(j["program"], "specializations.json")), j
    assert j["timings_s"]["compile"] > 0, j
assert jobs["l8"]["onnx"] == jobs["l16"]["onnx"] == jobs["lspec"]["onnx"]
assert jobs["q8"]["onnx"] == jobs["q16"]["onnx"] != jobs["l8"]["onnx"]
assert len({j["program"] for j in d["jobs"] if j["program"]}) == 5
assert jobs["q-cpu2"]["program"] == jobs["q8"]["program"]
spec = json.load(open(os.path.join(jobs["lspec"]["program"], "specializations.json")))
assert spec["specializations"][0]["symbols"]["ctx_len"] == "16", spec
g = jobs["gone"]
assert g["status"] == "failed" and "missing.gguf" in g["error"] and g["program"] is None, g
PY
# Second run without the bad job: everything reused, exit 0.
grep -v missing "$t/jobs.jsonl" >"$t/good.jsonl"
"$farm" --jobs="$t/good.jsonl" --qeff_home="$t/home" --output_json="$t/r2.json" >"$t/out2.txt"
/usr/bin/python3 - "$t/r1.json" "$t/r2.json" <<'PY'
import json, sys
a = {j["id"]: j for j in json.load(open(sys.argv[1]))["jobs"]}
d = json.load(open(sys.argv[2]))
assert d["stats"]["compiles"] == 0 and d["stats"]["programs_reused"] == 6, d["stats"]
assert d["stats"]["exports_reused"] == 2 and d["stats"]["exports_written"] == 0, d["stats"]
for j in d["jobs"]:
    assert j["status"] == "ok" and j["program_reused"] and j["onnx_reused"], j
    assert j["program"] == a[j["id"]]["program"], j
PY
# Reports: CSV (one row per job) and JSON; a resumed run reuses everything.
"$farm" --jobs="$t/good.jsonl" --qeff_home="$t/home" --report="$t/rep.csv" >/dev/null
"$farm" --jobs="$t/good.jsonl" --qeff_home="$t/home" --report="$t/rep.json" >/dev/null
/usr/bin/python3 - "$t/rep.csv" "$t/rep.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 6, rows
assert all(r["status"] == "ok" and r["program_reused"] == "true" for r in rows), rows
d = json.load(open(sys.argv[2]))
assert len(d["jobs"]) == 6 and d["stats"]["compiles"] == 0, d["stats"]
PY
if "$farm" --jobs="$t/good.jsonl" --qeff_home="$t/home" --report="$t/rep.txt" 2>"$t/err"; then exit 1; fi
grep -q "use a .csv or .json file" "$t/err"
# Bad input: clear errors, exit 1.
echo '[{"model": "m.gguf", "ctx_length": 64}]' >"$t/bad.json"
if "$farm" --jobs="$t/bad.json" --qeff_home="$t/home" 2>"$t/err"; then exit 1; fi
grep -q "bad.json: job 0: unknown field 'ctx_length'" "$t/err"
if "$farm" --jobs="$t/nope.jsonl" 2>"$t/err"; then exit 1; fi
grep -q "nope.jsonl" "$t/err"
if "$farm" --jobs="$t/good.jsonl" --max_concurrency=0 2>"$t/err"; then exit 1; fi
grep -q "max_concurrency" "$t/err"
echo PASS
