#!/usr/bin/env bash
# //tools:transcribe and //tools:classify_audio end to end on real speech:
# espeak-ng (Debian) writes 22.05 kHz WAVs, the tools resample them to the
# seeded test models' 16 kHz, pick the smallest --seq_len that fits, and
# write --output_json. The text is checked against a greedy CTC decode of
# the reported frame ids with vocab.json (done here in Python); the labels
# against a softmax of the reported logits. The models' weights are random,
# so text and labels are meaningless: the logits themselves are checked
# against PyTorch in //tests/audio:wav2vec2_reference_test. Bad WAVs get one
# clear error naming the file. Skips (passes with a note) without espeak-ng
# or /usr/bin/python3 + torch.
set -euo pipefail
transcribe="$1"; classify="$2"; ref="$3"
if ! command -v espeak-ng >/dev/null 2>&1; then
  echo "SKIP: espeak-ng is not installed (setup.sh installs it)"; exit 0
fi
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 cannot import torch (setup.sh installs it)"; exit 0
fi
export QEFF_HOME="$TEST_TMPDIR/home"
t="$TEST_TMPDIR"
/usr/bin/python3 "$ref" make "$t" --variants=w2v_group_ctc,hubert_layer_cls --seed=11
espeak-ng -w "$t/a.wav" "hello world"
espeak-ng -w "$t/b.wav" "the quick brown fox jumps over the lazy dog"
"$transcribe" --model="$t/w2v_group_ctc" --wav="$t/a.wav,$t/b.wav" \
  --seq_len=16000,48000,64000 --output_json="$t/ctc.json" >"$t/ctc.txt"
grep -q "$t/a.wav: " "$t/ctc.txt"
/usr/bin/python3 - "$t/ctc.json" "$t/w2v_group_ctc/vocab.json" <<'PY'
import json, sys, wave
d = json.load(open(sys.argv[1]))
vocab = {i: t for t, i in json.load(open(sys.argv[2])).items()}
assert d["architecture"] == "Wav2Vec2ForCTC", d
assert len(d["results"]) == 2, d["results"]
for r in d["results"]:
    with wave.open(r["wav"]) as w:
        n16 = -(-w.getnframes() * 320 // 441)  # 22050 -> 16000 Hz
    fits = [s for s in (16000, 48000, 64000) if s >= n16]
    assert r["seq_len"] == fits[0], (r["seq_len"], n16)
    # Greedy CTC: merge repeats, drop <pad>, '|' is a space, strip.
    out, prev = [], None
    for i in r["frame_ids"]:
        if i != prev and vocab[i] != "<pad>":
            out.append(" " if vocab[i] == "|" else vocab[i])
        prev = i
    assert "".join(out).strip() == r["text"], ("".join(out), r["text"])
PY
"$classify" --model="$t/hubert_layer_cls" --wav="$t/b.wav" --top_k=3 \
  --seq_len=64000 --output_json="$t/cls.json" >/dev/null
/usr/bin/python3 - "$t/cls.json" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
r = d["results"][0]
assert len(r["labels"]) == 3 and len(r["logits"]) == 5, r
m = max(r["logits"]); z = sum(math.exp(v - m) for v in r["logits"])
names = ["yes", "no", "up", "down", "left"]
best = sorted(range(5), key=lambda i: -r["logits"][i])[:3]
for l, i in zip(r["labels"], best):
    assert l["id"] == i and l["label"] == names[i], (l, i)
    assert abs(l["score"] - math.exp(r["logits"][i] - m) / z) < 1e-5, l
PY
# Bad input: one clear error each, exit 1, naming the file.
head -c 60 "$t/a.wav" >"$t/trunc.wav"
printf 'RIFX\0\0\0\0WAVEfmt ' >"$t/hdr.wav"
for bad in trunc hdr; do
  if "$transcribe" --model="$t/w2v_group_ctc" --wav="$t/$bad.wav" 2>"$t/err.txt"; then
    echo "FAIL: $bad.wav was accepted"; exit 1
  fi
  grep -q "$t/$bad.wav: " "$t/err.txt" || { cat "$t/err.txt"; exit 1; }
done
grep -q "not a WAV file" "$t/err.txt"
if "$transcribe" --model="$t/w2v_group_ctc" --wav="$t/b.wav" --seq_len=16000 2>"$t/err.txt"; then
  echo "FAIL: audio longer than every seq_len was accepted"; exit 1
fi
grep -q "the largest compiled seq_len is 16000" "$t/err.txt"
if "$classify" --model="$t/w2v_group_ctc" --wav="$t/a.wav" --seq_len=48000 2>"$t/err.txt"; then
  echo "FAIL: classify_audio took a CTC model"; exit 1
fi
grep -q "is not a sequence-classification model" "$t/err.txt"
echo PASS
