#!/usr/bin/env bash
# //tools:farm with sim devices: a job for sim:ai100-ultra compiles the host
# program and writes the modelled estimate beside it (sim_estimate.json);
# the same job for a Standard card with num_cores 16 fails alone, naming the
# SoC's 14 cores; a cpu job of the same model is unaffected.
set -euo pipefail
farm="$1"
make_model="$2"
t="$TEST_TMPDIR"
"$make_model" --arch=llama --out="$t/llama" --gguf >/dev/null
cat >"$t/jobs.jsonl" <<JOBS
{"id": "ultra", "model": "$t/llama/model.gguf", "prompt_len": 8, "ctx_len": 32, "device": "sim:ai100-ultra", "mxfp6_matmul": true}
{"id": "pro4", "model": "$t/llama/model.gguf", "prompt_len": 8, "ctx_len": 32, "device": "sim:ai100-pro", "num_devices": 4}
{"id": "std16", "model": "$t/llama/model.gguf", "prompt_len": 8, "ctx_len": 32, "device": "sim:ai100-standard", "num_cores": 16}
{"id": "cpu", "model": "$t/llama/model.gguf", "prompt_len": 8, "ctx_len": 32}
JOBS
if "$farm" --jobs="$t/jobs.jsonl" --qeff_home="$t/home" --output_json="$t/r.json" >"$t/out.txt"; then
  echo "the failed job must make the farm exit 1"; exit 1
fi
cat "$t/out.txt"
/usr/bin/python3 - "$t/r.json" <<'PY'
import json, os, sys
jobs = {j["id"]: j for j in json.load(open(sys.argv[1]))["jobs"]}
for i in ("ultra", "pro4"):
    j = jobs[i]
    assert j["status"] == "ok", j
    est = json.load(open(os.path.join(j["program"], "sim_estimate.json")))
    assert est["device"] == "sim:" + ("ai100-ultra" if i == "ultra" else "ai100-pro"), est
    assert [c["specialization"] for c in est["calls"]] == ["Prefill", "Decode"], est
    assert all(c["seconds"] > 0 for c in est["calls"]), est
    assert os.path.isfile(os.path.join(j["program"], "qpc", "program.bin")), j
assert json.load(open(os.path.join(jobs["ultra"]["program"], "sim_estimate.json")))["placement"]["mxfp6_matmul"] is True
pro4 = json.load(open(os.path.join(jobs["pro4"]["program"], "sim_estimate.json")))
assert pro4["placement"]["num_devices"] == 4 and pro4["placement"]["cards"] == 4, pro4
s = jobs["std16"]
assert s["status"] == "failed" and "14 AI cores" in s["error"], s
assert jobs["cpu"]["status"] == "ok", jobs["cpu"]
assert jobs["cpu"]["program"] != jobs["ultra"]["program"]
PY
echo PASS
