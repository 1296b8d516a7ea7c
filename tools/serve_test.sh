#!/usr/bin/env bash
# //tools:serve driven by OpenAI's own Node client (the `openai` npm package
# setup.sh installs into the peers folder): 3 models (stories260K and two
# seeded test models) on 2 virtual cpu cards; completions equal infer's
# text, streamed deltas concatenate to it, an unknown model is a 404, bad
# requests get 4xx (a table), a bounded load test (200 requests, 16
# concurrent clients) loses and mixes up nothing, and SIGTERM lets an
# in-flight stream finish before the server exits 0.
set -euo pipefail
serve="$1"; infer="$2"; stories="$3"; llama="$4"; gpt2="$5"; client="$6"
peers="${QEFF_PEERS_DIR:-}"
if ! command -v node >/dev/null || [[ -z "$peers" || ! -d "$peers/node_modules/openai" ]]; then
  echo "SKIP: node or the openai npm package is absent (run ./setup.sh)"
  exit 0
fi
export QEFF_HOME="$TEST_TMPDIR/home"
gen=12
prompt="Once upon a time"
declare -A model=([stories]="$stories" [llama]="$llama" [gpt2]="$gpt2")
# infer's text for each model (greedy, the serve defaults: prompt_len 32,
# ctx_len 128).
for m in stories llama gpt2; do
  "$infer" --model="${model[$m]}" --prompt="$prompt" --generation_len=$gen \
    --prompt_len=32 --ctx_len=128 --output_json="$TEST_TMPDIR/$m.json" >/dev/null
done
/usr/bin/python3 - "$TEST_TMPDIR" <<'PY' >"$TEST_TMPDIR/expected.json"
import json, sys
d = sys.argv[1]
print(json.dumps({m: json.load(open(f"{d}/{m}.json", encoding="utf-8"))["results"][0]["completion"]
                  for m in ("stories", "llama", "gpt2")}))
PY

start_server() {
  "$serve" --port=0 --api_key=test-key --device=cpu:2/0,cpu:2/1 \
    --max_body_bytes=65536 --max_queue=256 \
    --model=stories="$stories" --model=llama="$llama" --model=gpt2="$gpt2" \
    >"$TEST_TMPDIR/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    port=$(sed -n 's|^serve: listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$TEST_TMPDIR/serve.log")
    grep -q "^serve: ready" "$TEST_TMPDIR/serve.log" && [[ -n "$port" ]] && return 0
    kill -0 $pid 2>/dev/null || { cat "$TEST_TMPDIR/serve.log"; exit 1; }
    sleep 0.2
  done
  echo "serve did not get ready"; cat "$TEST_TMPDIR/serve.log"; exit 1
}
start_server
trap 'kill $pid 2>/dev/null || true' EXIT
NODE_PATH="$peers/node_modules" node "$client" "http://127.0.0.1:$port" \
  "$TEST_TMPDIR/expected.json" $gen $pid
# Graceful shutdown: a long stream in flight when SIGTERM arrives finishes.
NODE_PATH="$peers/node_modules" node "$client" "http://127.0.0.1:$port" \
  "$TEST_TMPDIR/expected.json" $gen $pid --sigterm
wait $pid
grep -q "^serve: stopped after" "$TEST_TMPDIR/serve.log"
trap - EXIT
left=$(find "$QEFF_HOME" \( -name '*.tmp-*' -o -name '.*.lock' \) | wc -l)
[[ "$left" == 0 ]] || { echo "half-written artifacts left"; exit 1; }
echo "serve_test: ok"
