#!/usr/bin/env bash
# //tools:sweep: 2 models x 4 precisions x 2 context lengths -> CSV, JSON and
# an SVG; a rerun resumes (every cell reused); bad grids are one-line errors.
set -euo pipefail
sweep="$1"; make_model="$2"; text="$(pwd)/$3"
export QEFF_HOME="$TEST_TMPDIR/home"
t="$TEST_TMPDIR"
"$make_model" --arch=llama --gguf --out="$t/llama" >/dev/null
cat >"$t/grid.json" <<JSON
{"models": ["$(pwd)/models/stories260K/stories260K.gguf", "$t/llama/model.gguf"],
 "precisions": ["f32", "q8_0", "q4_0", "mxint8_kv"],
 "shapes": [{"prompt_len": 16, "ctx_len": 64}, {"prompt_len": 32, "ctx_len": 128}],
 "text_file": "$text", "generation_len": 8}
JSON
"$sweep" --grid="$t/grid.json" --out="$t/out" >"$t/run1.txt"
grep -q "16 cells" "$t/run1.txt"
/usr/bin/python3 - "$t/out" <<'PY'
import csv, json, sys, xml.etree.ElementTree as ET
out = sys.argv[1]
rows = list(csv.DictReader(open(out + "/sweep.csv")))
assert len(rows) == 16, len(rows)
cells = json.load(open(out + "/sweep.json"))
assert len(cells) == 16
by = {}
for c in cells:
    for k in ("prefill_tok_s", "decode_tok_s", "ttft_s", "peak_rss_bytes",
              "program_bytes", "mean_kl", "top1_agreement", "perplexity"):
        assert isinstance(c[k], (int, float)) and c[k] >= 0, (k, c)
    assert c["peak_rss_bytes"] > 1 << 20, c
    by[(c["model"], c["precision"], c["ctx_len"])] = c
for (m, p, ctx), c in by.items():
    if p == "f32":
        assert c["mean_kl"] == 0 and c["top1_agreement"] == 1, c
    else:
        assert c["mean_kl"] >= 0 and 0 < c["top1_agreement"] <= 1, c
    if p == "q4_0":  # 4-bit weights: a smaller program than f32's
        assert c["program_bytes"] < by[(m, "f32", ctx)]["program_bytes"], c
svg = ET.parse(out + "/sweep.svg").getroot()
ns = "{http://www.w3.org/2000/svg}"
circles = svg.findall(ns + "circle")
assert len(circles) == 16 + 2, len(circles)  # points + legend
texts = [t.text or "" for t in svg.iter(ns + "text")]
assert any("decode tokens/s" in t for t in texts), texts
assert sum("ctx 64" in t for t in texts) == 8, texts
PY
# Resume: every cell reused, same numbers.
"$sweep" --grid="$t/grid.json" --out="$t/out" >"$t/run2.txt"
[ "$(grep -c reused "$t/run2.txt")" = 16 ]
# Bad grids.
echo '{"models": []}' >"$t/bad1.json"
if "$sweep" --grid="$t/bad1.json" --out="$t/o" 2>"$t/err"; then exit 1; fi
grep -q "bad1.json" "$t/err"
echo "{\"models\": [\"$t/llama/model.gguf\"], \"precisions\": [\"int3\"]}" >"$t/bad2.json"
if "$sweep" --grid="$t/bad2.json" --out="$t/o" 2>"$t/err"; then exit 1; fi
grep -q "precision 'int3'" "$t/err"
echo PASS
