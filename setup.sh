#!/usr/bin/env bash
# Installs everything qeff's build and tests need on Debian 12, idempotently:
# Debian packages (only those missing) and the npm peers the tests compare
# against (llama.cpp via node-llama-cpp, onnxruntime-node) into a cache outside
# the repository ($QEFF_PEERS_DIR, default ~/.cache/qeff/peers).
# A second run finds everything present, changes nothing and takes seconds.
set -euo pipefail

say() { echo "setup: $*"; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }

DEB_PACKAGES=(
  bazel-bootstrap bazel-rules-java bazel-rules-proto bazel-skylib bazel-platforms
  g++ libabsl-dev libtbb-dev libprotobuf-dev protobuf-compiler libonnx-dev
  libgtest-dev libgmock-dev libicu-dev libonnx-testdata
  python3-torch python3-numpy libopenblas0-pthread
  pybind11-dev python3-dev
  nodejs npm git clang-format cmake make libcpp-httplib-dev
  espeak-ng python3-torchaudio time
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# The machine image may carry a newer Node.js than Debian's; keep it.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
read -r -a missing <<<"${missing[*]:-}"
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    SUDO=sudo
  fi
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq || say "apt-get update failed; trying the cached package lists"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/tmp/qeff-setup-apt.log 2>&1 ||
    { tail -20 /tmp/qeff-setup-apt.log >&2; die "apt-get install failed (log: /tmp/qeff-setup-apt.log)"; }
else
  say "Debian packages: all ${#DEB_PACKAGES[@]} present"
fi

# npm peers (test tools, not run-time dependencies of qeff).
PEERS_DIR="${QEFF_PEERS_DIR:-$HOME/.cache/qeff/peers}"
mkdir -p "$PEERS_DIR"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  say "Node.js $(node --version 2>/dev/null || echo absent) is older than 20: skipping the llama.cpp/onnxruntime peers (their tests skip with a reason)"
else
  want_llama="3.21.1"; want_ort="1.30.0"; want_openai="4.104.0"
  have() { node -p "require('$PEERS_DIR/node_modules/$1/package.json').version" 2>/dev/null || true; }
  if [[ $(have node-llama-cpp) != "$want_llama" || $(have @node-llama-cpp/linux-x64) != "$want_llama" ]]; then
    say "installing node-llama-cpp@$want_llama into $PEERS_DIR"
    (cd "$PEERS_DIR" && npm i -E --no-audit --no-fund --omit=optional \
      "node-llama-cpp@$want_llama" "@node-llama-cpp/linux-x64@$want_llama" >/tmp/qeff-setup-npm.log 2>&1) ||
      { tail -20 /tmp/qeff-setup-npm.log >&2; die "npm install node-llama-cpp failed"; }
  else
    say "node-llama-cpp $want_llama present"
  fi
  if [[ $(have onnxruntime-node) != "$want_ort" ]]; then
    say "installing onnxruntime-node@$want_ort into $PEERS_DIR"
    (cd "$PEERS_DIR" && ONNXRUNTIME_NODE_INSTALL=skip npm i -E --no-audit --no-fund --omit=optional \
      "node-llama-cpp@$want_llama" "@node-llama-cpp/linux-x64@$want_llama" \
      "onnxruntime-node@$want_ort" >/tmp/qeff-setup-npm.log 2>&1) ||
      { tail -20 /tmp/qeff-setup-npm.log >&2; die "npm install onnxruntime-node failed"; }
  else
    say "onnxruntime-node $want_ort present"
  fi
  # OpenAI's own client, the real client //tools:serve is tested with.
  if [[ $(have openai) != "$want_openai" ]]; then
    say "installing openai@$want_openai into $PEERS_DIR"
    (cd "$PEERS_DIR" && ONNXRUNTIME_NODE_INSTALL=skip npm i -E --no-audit --no-fund --omit=optional \
      "node-llama-cpp@$want_llama" "@node-llama-cpp/linux-x64@$want_llama" \
      "onnxruntime-node@$want_ort" "openai@$want_openai" >/tmp/qeff-setup-npm.log 2>&1) ||
      { tail -20 /tmp/qeff-setup-npm.log >&2; die "npm install openai failed"; }
  else
    say "openai $want_openai present"
  fi
fi
# llama.cpp's source (tokenizer test vectors models/ggml-vocab-*.gguf with
# .inp/.out), cloned once from the git bundle node-llama-cpp ships.
bundle="$PEERS_DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle"
if [[ -d "$PEERS_DIR/llama.cpp/models" ]]; then
  say "llama.cpp source present"
elif [[ -f "$bundle" ]]; then
  say "cloning llama.cpp from $bundle"
  rm -rf "$PEERS_DIR/llama.cpp.tmp"
  git clone -q "$bundle" "$PEERS_DIR/llama.cpp.tmp" 2>/tmp/qeff-setup-git.log &&
    mv "$PEERS_DIR/llama.cpp.tmp" "$PEERS_DIR/llama.cpp" ||
    { tail -5 /tmp/qeff-setup-git.log >&2; die "git clone of the llama.cpp bundle failed"; }
else
  say "no llama.cpp bundle: the tokenizer vector tests skip with a reason"
fi
# llama.cpp's own llama-perplexity (the perplexity peer), built once from
# that source (~8 min on 2 cores; later runs find it).
if [[ -d "$PEERS_DIR/llama.cpp/models" && ! -x "$PEERS_DIR/llama.cpp/build/bin/llama-perplexity" ]]; then
  say "building llama.cpp's llama-perplexity (once)"
  (cd "$PEERS_DIR/llama.cpp" &&
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
      -DLLAMA_BUILD_TESTS=OFF -DGGML_NATIVE=ON >/tmp/qeff-setup-llama.log 2>&1 &&
    cmake --build build -j2 --target llama-perplexity >>/tmp/qeff-setup-llama.log 2>&1) ||
    say "llama-perplexity build failed (log: /tmp/qeff-setup-llama.log): the perplexity peer comparison skips"
fi
# llama.cpp's llama-embedding (the sentence-embedding peer), llama-bench
# (the peer of //bench:cpu_vs_llamacpp) and llama-quantize (which makes that
# benchmark's Q4_K file), from the same build folder (their libraries are
# shared with llama-perplexity's; seconds each once built).
for tool in llama-embedding llama-bench llama-quantize; do
  if [[ -d "$PEERS_DIR/llama.cpp/models" && ! -x "$PEERS_DIR/llama.cpp/build/bin/$tool" ]]; then
    say "building llama.cpp's $tool (once)"
    (cd "$PEERS_DIR/llama.cpp" &&
      cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DGGML_NATIVE=ON >"/tmp/qeff-setup-$tool.log" 2>&1 &&
      cmake --build build -j2 --target "$tool" >>"/tmp/qeff-setup-$tool.log" 2>&1) ||
      say "$tool build failed (log: /tmp/qeff-setup-$tool.log): its peer comparison skips"
  fi
done
say "peers in $PEERS_DIR"

# Tell Bazel's tests where the files outside the workspace are (tests tagged
# "external" read them; each skips with a reason when its file is absent).
here="$(cd "$(dirname "$0")" && pwd)"
shared="${QEFF_SHARED_DIR:-}"
if [[ -z "$shared" && -d "$here/../shared" ]]; then shared="$(cd "$here/../shared" && pwd)"; fi
rc_local="$here/.bazelrc.local"
# A disk cache shared by every output base of this machine: a clean clone or
# a second output base reuses every action (exports and compiles included).
disk_cache="${QEFF_DISK_CACHE:-$HOME/.cache/qeff/bazel-disk-cache}"
want_rc="# Written by setup.sh; machine-local, not committed.
build --disk_cache=$disk_cache
test --test_env=QEFF_PEERS_DIR=$PEERS_DIR
test --test_env=QEFF_SHARED_DIR=$shared"
if [[ ! -f "$rc_local" || "$(cat "$rc_local")" != "$want_rc" ]]; then
  printf '%s\n' "$want_rc" >"$rc_local.tmp" && mv "$rc_local.tmp" "$rc_local"
  say "wrote $rc_local (shared: ${shared:-none})"
else
  say ".bazelrc.local up to date (shared: ${shared:-none})"
fi
say "done"
