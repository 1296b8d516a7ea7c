// qeff's cpu driver vs llama.cpp (and onnxruntime) on the same GGUF file,
// measured in one run: issue 22's comparison table.
//
// Models: random seeded Llamas of these shapes (--models), written as GGUF
// (models/gguf_writer.h) once per weight format and kept in --dir:
//   stories110M  dim 768, 12 layers, 12 heads (12 kv), ffn 2048, vocab 32000
//   tinyllama    dim 2048, 22 layers, 32 heads (4 kv), ffn 5632, vocab 32000
//   mixtral1B    (not by default) dim 1024, 12 layers, 16 heads (4 kv),
//                8 experts of ffn 2816, 2 per token (GGUF llama with
//                ffn_gate_inp in f32 and stacked ffn_*_exps), vocab 32000
// Formats (--formats): f32, f16, bf16 (round to nearest even), q8_0, q4_0
// (ir::Quantize) with every 2-D matrix (token_embd, attention, FFN, output)
// in that format and norms in f32; q4_k is made from the f32 file by
// llama.cpp's own `llama-quantize --pure F32.gguf OUT.gguf Q4_K` (the table's
// footnote lists the tensor types it wrote). Every format holds the same
// values before rounding (one seeded stream).
//
// qeff reads the file through models::Load -> TransformForDevice -> the cpu
// driver; llama.cpp through `llama-bench` (and `llama-quantize`) built from
// the llama.cpp source under $QEFF_PEERS_DIR/llama.cpp/build/bin (./setup.sh
// builds them); onnxruntime-node 1.30 runs qeff's exported ONNX of the f32
// stories110M model (--ort) through bench/ort_bench.mjs.
//
// Before timing, per (model, format): token parity. qeff greedy-decodes 16
// tokens from a fixed id prompt, llama.cpp the same through
// tests/e2e/peers/llama_generate.mjs (node-llama-cpp). A divergence is
// accepted only at a near tie: qeff's logit of its own token minus its logit
// of llama.cpp's token <= --tie (1e-3) x max |logit| at that step;
// otherwise the row is not timed and the reason is printed. (qeff's Q8_0 /
// Q4_0 matmuls quantize activations to int8 on VNNI hosts, llama.cpp to its
// own q8 blocks: on random weights, whose logits are nearly flat, their
// tokens can part at gaps of ~1% of max |logit|.)
//
// Workloads, every engine at --threads:
//   pp P:      one prefill call of P tokens at positions 0.. (llama-bench -p)
//   tg N @ d:  a prefill of d tokens (untimed), then N single-token decode
//              steps at positions d.. timed (llama-bench -n N -d d)
// One warm-up, then --reps repetitions; t/s is the mean of the per-rep rates
// (as llama-bench's avg_ts). qeff compiles one Prefill specialization per
// prefill length and depth, and one Decode, all with ctx_len = max(max depth
// + N, max P).
//
// Also measured in the same run: the host's read bandwidth (a 1 GiB
// streaming read over --threads threads, best of 5; printed first). Decode's
// % of the bandwidth bound = bytes read per token x tok/s / bandwidth, where
// bytes per token = every matrix but token_embd (the output head included;
// of a MoE's experts only the 2 of 8 a token uses)
// + the KV cache read at the mean position of the timed steps (qeff: its
// retained state's bytes per position; llama.cpp: f16 K and V).
// Peak RSS: each qeff (model, format) measurement runs in a forked child,
// each llama-bench / node in a child process; wait4()'s ru_maxrss of that
// child. "W+KV" is the file's tensor bytes + the KV cache at the compiled
// context (qeff) or llama-bench's largest test context (f16).
//
// Run: bazel run -c opt //bench:cpu_vs_llamacpp -- [flags]; flags:
//        [--models=stories110M,tinyllama] (also: mixtral1B)
//        [--formats=f32,f16,bf16,q8_0,q4_0,q4_k]
//        [--threads=2] [--prefill=128,512] [--decode=128] [--depths=0,512]
//        [--reps=3] [--ort=true|false] [--tie=1e-3]
//        [--dir=/tmp/qeff_cpu_vs_llamacpp]
//        [--gguf_arch=llama|qwen2] [--profile]
// --profile: after timing, one more untimed prefill (the largest P) + N
// decode steps under hw::Profiler; per-kernel summary printed, trace written
// to DIR/MODEL-ARCH-FMT.trace.json.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "bench/bench_util.h"
#include "engine/lm_pipeline.h"
#include "hw/cpu/cpu_driver.h"
#include "hw/driver.h"
#include "hw/graph_io.h"
#include "hw/profiler.h"
#include "ir/quant.h"
#include "ir/tensor.h"
#include "models/gguf.h"
#include "models/gguf_writer.h"
#include "models/model_loader.h"
#include "models/test_model.h"
#include "passes/export.h"

namespace qeff {
namespace {

struct Shape {
  std::string name;
  int64_t dim, layers, heads, kv_heads, ffn, vocab, context;
  // Mixture of experts: `experts` FFNs of width ffn per layer, `used` of
  // them per token (Mixtral's routing); 0: a dense FFN.
  int64_t experts = 0, used = 0;
  int64_t head_dim() const { return dim / heads; }
};

const std::vector<Shape>& Shapes() {
  static const std::vector<Shape> kShapes = {
      {"stories110M", 768, 12, 12, 12, 2048, 32000, 1024},
      {"tinyllama", 2048, 22, 32, 4, 5632, 32000, 2048},
      // Mixtral-shaped, ~0.96 B total, ~0.18 B active per token.
      {"mixtral1B", 1024, 12, 16, 4, 2816, 32000, 2048, 8, 2},
  };
  return kShapes;
}

const std::vector<std::string> kFormats = {"f32",  "f16",  "bf16",
                                           "q8_0", "q4_0", "q4_k"};

constexpr int kParityTokens = 16;
constexpr int kParityPrompt = 8;
constexpr int64_t kEos = 2;  // tokenizer.ggml.eos_token_id of every file

struct Args {
  std::vector<std::string> models = {"stories110M", "tinyllama"};
  std::vector<std::string> formats = kFormats;
  int threads = 2;
  std::vector<int64_t> prefill = {128, 512};
  int64_t decode = 128;
  std::vector<int64_t> depths = {0, 512};
  int reps = 3;
  bool ort = true;
  std::string dir = "/tmp/qeff_cpu_vs_llamacpp";
  // The GGUF architecture tag: "llama" stores Q/K in llama.cpp's interleaved
  // layout, as real files do (models::Load moves whole rows back, keeping
  // f16 and quantized blocks as they are); "qwen2" without biases and with
  // an untied output is the same model stored unpermuted.
  std::string gguf_arch = "llama";
  bool profile = false;
  // A divergence counts as a near tie when qeff's logit gap between its
  // token and llama.cpp's is at most tie x max |logit|.
  double tie = 1e-3;

  // Every compiled specialization's ctx_len: room for the deepest decode,
  // the longest prefill and the parity run.
  int64_t ctx() const {
    int64_t c = kParityPrompt + kParityTokens;
    for (int64_t p : prefill) c = std::max(c, p);
    for (int64_t d : depths) c = std::max(c, d + decode);
    return c;
  }
};

// Uniform values in [-a, a] from a fixed xorshift stream (fast; the same
// bytes on every machine).
struct Rng {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  float Next(float a) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return a * (static_cast<float>(s >> 40) / 8388608.0f - 1.0f);
  }
};

// A weight of `dims` (2-D, or 3-D stacked experts) in format `fmt`.
absl::StatusOr<ir::Tensor> Matrix(Rng& rng, std::vector<int64_t> dims, float a,
                                  const std::string& fmt) {
  ir::Tensor f = ir::Tensor::Zeros(ir::DType::kF32, dims);
  const int64_t n = f.num_elements();
  float* p = f.mutable_data<float>();
  for (int64_t i = 0; i < n; ++i) p[i] = rng.Next(a);
  if (fmt == "f32") return f;
  if (fmt == "f16" || fmt == "bf16") {
    const bool half = fmt == "f16";
    ir::Tensor h = ir::Tensor::Zeros(half ? ir::DType::kF16 : ir::DType::kBF16,
                                     std::move(dims));
    uint16_t* q = h.mutable_data<uint16_t>();
    for (int64_t i = 0; i < n; ++i)
      q[i] = half ? ir::FloatToHalf(p[i]) : ir::FloatToBFloat16(p[i]);
    return h;
  }
  auto qf = ir::ParseQuantFormat(fmt);
  if (!qf.ok()) return qf.status();
  return ir::Quantize(f, *qf);
}

ir::Tensor NormWeight(Rng& rng, int64_t dim) {
  ir::Tensor t = ir::Tensor::Zeros(ir::DType::kF32, {dim});
  for (int64_t i = 0; i < dim; ++i)
    t.mutable_data<float>()[i] = 1.0f + rng.Next(0.1f);
  return t;
}

absl::Status WriteModel(const Shape& m, const std::string& fmt,
                        const std::string& arch, const std::string& path) {
  using models::GgufValue;
  models::GgufWriter g;
  auto key = [&](const char* k) { return absl::StrCat(arch, ".", k); };
  g.Add("general.architecture", GgufValue::String(arch));
  g.Add("general.name",
        GgufValue::String(absl::StrCat("qeff-", m.name, "-shape-", fmt)));
  g.Add(key("context_length"), GgufValue::U32(m.context));
  g.Add(key("embedding_length"), GgufValue::U32(m.dim));
  g.Add(key("feed_forward_length"), GgufValue::U32(m.ffn));
  g.Add(key("block_count"), GgufValue::U32(m.layers));
  g.Add(key("attention.head_count"), GgufValue::U32(m.heads));
  g.Add(key("attention.head_count_kv"), GgufValue::U32(m.kv_heads));
  g.Add(key("attention.layer_norm_rms_epsilon"), GgufValue::F32(1e-5f));
  g.Add(key("rope.freq_base"), GgufValue::F32(10000.0f));
  g.Add(key("rope.dimension_count"), GgufValue::U32(m.head_dim()));
  if (m.experts > 0) {
    g.Add(key("expert_count"), GgufValue::U32(m.experts));
    g.Add(key("expert_used_count"), GgufValue::U32(m.used));
  }
  // The test vocabulary padded with plain pieces to the shape's vocab.
  models::TestVocab v = models::MakeTestVocab();
  for (int64_t i = static_cast<int64_t>(v.pieces.size()); i < m.vocab; ++i) {
    v.pieces.push_back(absl::StrCat("\xE2\x96\x81pad", i));
    v.scores.push_back(-1e4f - static_cast<float>(i));
    v.types.push_back(1);
  }
  g.Add("tokenizer.ggml.model", GgufValue::String("llama"));
  g.Add("tokenizer.ggml.tokens", GgufValue::StringArray(v.pieces));
  g.Add("tokenizer.ggml.scores", GgufValue::F32Array(v.scores));
  g.Add("tokenizer.ggml.token_type", GgufValue::I32Array(v.types));
  g.Add("tokenizer.ggml.unknown_token_id", GgufValue::U32(0));
  g.Add("tokenizer.ggml.bos_token_id", GgufValue::U32(1));
  g.Add("tokenizer.ggml.eos_token_id", GgufValue::U32(kEos));
  g.Add("tokenizer.ggml.add_bos_token", GgufValue::Bool(true));
  Rng rng;
  const int64_t kv = m.kv_heads * m.head_dim();
  const float a_in = 1.7f / std::sqrt(static_cast<float>(m.dim));
  const float a_ffn = 1.7f / std::sqrt(static_cast<float>(m.ffn));
  auto add = [&](const std::string& name, std::vector<int64_t> dims, float a,
                 const std::string& format) -> absl::Status {
    auto t = Matrix(rng, std::move(dims), a, format);
    if (!t.ok()) return t.status();
    return g.AddTensor(name, *t);
  };
  QEFF_RETURN_IF_ERROR(add("token_embd.weight", {m.vocab, m.dim}, 1.0f, fmt));
  for (int64_t i = 0; i < m.layers; ++i) {
    const std::string b = absl::StrCat("blk.", i, ".");
    QEFF_RETURN_IF_ERROR(
        g.AddTensor(b + "attn_norm.weight", NormWeight(rng, m.dim)));
    QEFF_RETURN_IF_ERROR(add(b + "attn_q.weight", {m.dim, m.dim}, a_in, fmt));
    QEFF_RETURN_IF_ERROR(add(b + "attn_k.weight", {kv, m.dim}, a_in, fmt));
    QEFF_RETURN_IF_ERROR(add(b + "attn_v.weight", {kv, m.dim}, a_in, fmt));
    QEFF_RETURN_IF_ERROR(
        add(b + "attn_output.weight", {m.dim, m.dim}, a_in, fmt));
    QEFF_RETURN_IF_ERROR(
        g.AddTensor(b + "ffn_norm.weight", NormWeight(rng, m.dim)));
    if (m.experts > 0) {
      // llama.cpp's layout: the router in f32 (llama-quantize keeps it so),
      // the experts stacked as [experts, out, in]. The router's weights are
      // kRouterGain x larger than the other matrices': a random router at
      // the usual scale gives router logits of std ~1, whose top-2 choice
      // flips on the int8 activations' rounding in one layer or another
      // (both engines round, differently), so the engines' tokens parted
      // away from any logit tie; trained routers are decisive.
      constexpr float kRouterGain = 8.0f;
      const int64_t e = m.experts;
      QEFF_RETURN_IF_ERROR(add(b + "ffn_gate_inp.weight", {e, m.dim},
                               kRouterGain * a_in, "f32"));
      QEFF_RETURN_IF_ERROR(
          add(b + "ffn_gate_exps.weight", {e, m.ffn, m.dim}, a_in, fmt));
      QEFF_RETURN_IF_ERROR(
          add(b + "ffn_up_exps.weight", {e, m.ffn, m.dim}, a_in, fmt));
      QEFF_RETURN_IF_ERROR(
          add(b + "ffn_down_exps.weight", {e, m.dim, m.ffn}, a_ffn, fmt));
      continue;
    }
    QEFF_RETURN_IF_ERROR(add(b + "ffn_gate.weight", {m.ffn, m.dim}, a_in, fmt));
    QEFF_RETURN_IF_ERROR(add(b + "ffn_up.weight", {m.ffn, m.dim}, a_in, fmt));
    QEFF_RETURN_IF_ERROR(
        add(b + "ffn_down.weight", {m.dim, m.ffn}, a_ffn, fmt));
  }
  QEFF_RETURN_IF_ERROR(
      g.AddTensor("output_norm.weight", NormWeight(rng, m.dim)));
  QEFF_RETURN_IF_ERROR(add("output.weight", {m.vocab, m.dim}, a_in, fmt));
  return g.WriteFile(path);
}

// What a GGUF file holds: all tensor bytes, the bytes decode reads per token
// (every matrix but token_embd; of stacked experts, the `used` of them), and
// a census of tensor types.
struct FileStats {
  int64_t tensor_bytes = 0, decode_bytes = 0;
  std::map<std::string, int> types_2d, types_1d;
  std::string Census() const {
    auto join = [](const std::map<std::string, int>& m) {
      std::vector<std::string> parts;
      for (const auto& [t, n] : m) parts.push_back(absl::StrCat(n, " ", t));
      return absl::StrJoin(parts, ", ");
    };
    return absl::StrCat("matrices: ", join(types_2d),
                        "; 1-D: ", join(types_1d));
  }
};

absl::StatusOr<FileStats> ReadFileStats(const Shape& m,
                                        const std::string& path) {
  auto f = models::ReadGguf(path);
  if (!f.ok()) return f.status();
  FileStats s;
  for (const models::GgufTensorInfo& t : f->tensors()) {
    const int64_t n = static_cast<int64_t>(t.tensor.byte_size());
    s.tensor_bytes += n;
    const std::string type = models::GgmlTypeName(t.ggml_type);
    if (t.ne.size() >= 2) {
      ++s.types_2d[t.name == "token_embd.weight" || t.name == "output.weight"
                       ? absl::StrCat(type, " (", t.name, ")")
                       : type];
      if (t.name == "token_embd.weight") continue;
      s.decode_bytes +=
          absl::StrContains(t.name, "_exps.") ? n / m.experts * m.used : n;
    } else {
      ++s.types_1d[type];
    }
  }
  return s;
}

// Bytes of the retained state (the KV cache) at the bound dims.
double StateBytes(const std::vector<hw::BoundIO>& state) {
  double bytes = 0;
  for (const hw::BoundIO& s : state) {
    double n = static_cast<double>(ir::DTypeSize(s.dtype));
    for (int64_t d : s.dims) n *= static_cast<double>(d);
    bytes += n;
  }
  return bytes;
}

// Deterministic token ids in [3, vocab).
int64_t TokenId(const Shape& m, int64_t i) {
  return 3 + (i * 7919) % (m.vocab - 3);
}

std::vector<int64_t> ParityPrompt(const Shape& m) {
  std::vector<int64_t> ids = {1};
  for (int64_t i = 1; i < kParityPrompt; ++i) ids.push_back(TokenId(m, i * 13));
  return ids;
}

// "key value" lines <-> a map (the children's results).
std::map<std::string, double> ParseKeyValues(const std::string& text) {
  std::map<std::string, double> r;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    double v;
    if (f.size() == 2 && absl::SimpleAtod(f[1], &v)) r[f[0]] = v;
  }
  return r;
}

std::string PpKey(int64_t p) { return absl::StrCat("pp", p); }
std::string TgKey(int64_t d) { return absl::StrCat("tg", d); }

// ---- qeff (runs in a forked child) ----

// The file through models::Load and TransformForDevice (the loaded model
// kept alongside: it owns the mapped weights).
struct Transformed {
  models::LoadedModel model;
  ir::Graph graph;
};
absl::StatusOr<Transformed> LoadTransformed(const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(models::LoadedModel m, models::Load(path));
  QEFF_ASSIGN_OR_RETURN(ir::Graph g, engine::TransformForDevice(m.eager, {}));
  return Transformed{std::move(m), std::move(g)};
}

// Parity, timing and (with --profile) a profile; writes "key value" lines to
// fd. Returns 0, 3 when the tokens diverge away from a near tie (untimed),
// 1 on errors (printed).
int QeffChild(const Shape& m, const std::string& path, const Args& a,
              const std::vector<int64_t>* peer_tokens, int fd) {
  auto fail = [&](const absl::Status& s) {
    std::printf("  qeff: %s\n", s.ToString().c_str());
    return 1;
  };
  auto t = LoadTransformed(path);
  if (!t.ok()) return fail(t.status());
  const ir::Graph* g = &t->graph;
  auto dev = hw::OpenCpuDevice("cpu");
  if (!dev.ok()) return fail(dev.status());
  const int64_t ctx = a.ctx();
  std::set<int64_t> lens(a.prefill.begin(), a.prefill.end());
  for (int64_t d : a.depths)
    if (d > 0) lens.insert(d);
  std::vector<hw::Specialization> specs;
  for (int64_t p : lens)
    specs.push_back({absl::StrCat("Prefill", p),
                     {{"batch_size", 1}, {"seq_len", p}, {"ctx_len", ctx}}});
  specs.push_back(
      {"Decode", {{"batch_size", 1}, {"seq_len", 1}, {"ctx_len", ctx}}});
  auto io = hw::BindGraphIO(*g, specs);
  if (!io.ok()) return fail(io.status());
  const double kv_bytes = StateBytes(io->state);
  hw::CompileOptions o;
  o.num_cores = a.threads;
  double t0 = bench::NowSeconds();
  auto prog = (*dev)->Compile(*g, specs, o);
  if (!prog.ok()) return fail(prog.status());
  const double compile_s = bench::NowSeconds() - t0;
  auto s = (*dev)->Load(*prog);
  if (!s.ok()) return fail(s.status());
  auto& session = **s;

  auto prefill = [&](int64_t p) {
    std::vector<int64_t> ids(p), pos(p);
    for (int64_t i = 0; i < p; ++i) {
      ids[i] = TokenId(m, i);
      pos[i] = i;
    }
    return session.Run(absl::StrCat("Prefill", p),
                       {{"input_ids", ir::Tensor::I64({1, p}, ids)},
                        {"position_ids", ir::Tensor::I64({1, p}, pos)}});
  };
  auto step = [&](int64_t id, int64_t pos) {
    return session.Run("Decode",
                       {{"input_ids", ir::Tensor::I64({1, 1}, {id})},
                        {"position_ids", ir::Tensor::I64({1, 1}, {pos})}});
  };

  // Parity: the prompt one token at a time, then greedy; `logits[k]` is
  // the step that chose token k.
  if (peer_tokens == nullptr) {
    std::printf("  parity: not checked (llama.cpp peer unavailable)\n");
  } else {
    const std::vector<int64_t>& peer = *peer_tokens;
    std::vector<std::vector<float>> logits;
    std::vector<int64_t> got;
    int64_t pos = 0;
    for (int64_t id : ParityPrompt(m)) {
      auto out = step(id, pos++);
      if (!out.ok()) return fail(out.status());
      if (pos == kParityPrompt) logits.push_back(out->at("logits").ToFloats());
    }
    // node-llama-cpp stops at an end-of-generation token without yielding
    // it: past its last token, llama.cpp's choice was EOS.
    auto theirs = [&](size_t k) {
      return k < peer.size() ? peer[k] : int64_t{kEos};
    };
    int diverged = -1, agreed = 0;
    for (int k = 0; k < kParityTokens; ++k) {
      const std::vector<float>& l = logits.back();
      got.push_back(std::max_element(l.begin(), l.end()) - l.begin());
      if (got[k] != theirs(k)) {
        diverged = k;
        break;
      }
      ++agreed;
      if (got[k] == kEos || k + 1 == kParityTokens) break;
      auto out = step(got[k], pos++);
      if (!out.ok()) return fail(out.status());
      logits.push_back(out->at("logits").ToFloats());
    }
    if (diverged < 0) {
      std::printf("  parity: %d/%d%s\n", agreed, agreed,
                  agreed < kParityTokens ? " (both end at EOS)" : "");
    } else {
      const std::vector<float>& l = logits[diverged];
      std::vector<float> sorted = l;
      std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(),
                        std::greater<float>());
      float max_abs = 0;
      for (float x : l) max_abs = std::max(max_abs, std::fabs(x));
      const float margin = sorted[0] - sorted[1];
      const int64_t t = theirs(diverged);
      const float gap = t >= 0 && t < static_cast<int64_t>(l.size())
                            ? l[got[diverged]] - l[t]
                            : INFINITY;
      const bool tie = gap <= a.tie * max_abs;
      std::printf(
          "  parity: first divergence at token %d (qeff top-2 margin %.3g; "
          "qeff %lld vs llama.cpp %lld%s, logit gap %.3g; max |logit| %.3g): "
          "%s\n",
          diverged, margin, static_cast<long long>(got[diverged]),
          static_cast<long long>(t),
          static_cast<size_t>(diverged) < peer.size() ? "" : " (EOS)", gap,
          max_abs,
          tie ? "a near tie, timed"
              : absl::StrCat("not a near tie (gap > ", a.tie,
                             " x max |logit|): not timed")
                    .c_str());
      if (!tie) return 3;
    }
  }

  std::map<int64_t, double> pp, tg;
  for (int rep = 0; rep <= a.reps; ++rep) {  // rep 0: warm-up
    for (int64_t p : a.prefill) {
      t0 = bench::NowSeconds();
      auto out = prefill(p);
      if (!out.ok()) return fail(out.status());
      if (rep > 0) pp[p] += p / (bench::NowSeconds() - t0);
    }
    for (int64_t d : a.depths) {
      if (d > 0) {
        auto out = prefill(d);
        if (!out.ok()) return fail(out.status());
      }
      t0 = bench::NowSeconds();
      for (int64_t i = 0; i < a.decode; ++i) {
        auto out = step(TokenId(m, d + i), d + i);
        if (!out.ok()) return fail(out.status());
      }
      if (rep > 0) tg[d] += a.decode / (bench::NowSeconds() - t0);
    }
  }
  std::string kvs = absl::StrCat("compile_s ", compile_s, "\nkv_bytes ",
                                 kv_bytes, "\nctx ", ctx, "\n");
  for (const auto& [p, v] : pp)
    absl::StrAppend(&kvs, PpKey(p), " ", v / a.reps, "\n");
  for (const auto& [d, v] : tg)
    absl::StrAppend(&kvs, TgKey(d), " ", v / a.reps, "\n");
  bench::WriteAll(fd, kvs);

  if (a.profile) {
    hw::Profiler& prof = hw::Profiler::Global();
    prof.Start();
    const int64_t p = *std::max_element(a.prefill.begin(), a.prefill.end());
    auto out = prefill(p);
    for (int64_t i = 0; out.ok() && i < a.decode; ++i)
      out = step(TokenId(m, i), i);
    prof.Stop();
    if (!out.ok()) return fail(out.status());
    const std::string trace = path.substr(0, path.rfind('.')) + ".trace.json";
    if (absl::Status st = prof.WriteChromeTrace(trace); !st.ok())
      return fail(st);
    std::printf("qeff profile of %s (trace %s):\n%s", path.c_str(),
                trace.c_str(), prof.SummaryTable().c_str());
  }
  return 0;
}

// ---- llama.cpp ----

// llama-bench's CSV: a header, then one row per test; "pp<P>" from rows
// with n_gen 0 and depth 0, "tg<d>" from rows with n_prompt 0.
absl::Status ParseLlamaBenchCsv(const std::string& out,
                                std::map<std::string, double>* r) {
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  std::vector<std::string> head;
  int rows = 0;
  for (const std::string& line : lines) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    for (auto& x : f) {
      if (x.size() >= 2 && x.front() == '"' && x.back() == '"')
        x = x.substr(1, x.size() - 2);
    }
    if (head.empty()) {
      head = f;
      continue;
    }
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < head.size() && i < f.size(); ++i)
      row[head[i]] = f[i];
    double ts = 0;
    int64_t np = 0, ng = 0, nd = 0;
    if (!absl::SimpleAtod(row["avg_ts"], &ts) ||
        !absl::SimpleAtoi(row["n_prompt"], &np) ||
        !absl::SimpleAtoi(row["n_gen"], &ng) ||
        !absl::SimpleAtoi(row["n_depth"], &nd))
      continue;
    ++rows;
    if (np > 0 && ng == 0 && nd == 0) (*r)[PpKey(np)] = ts;
    if (ng > 0 && np == 0) (*r)[TgKey(nd)] = ts;
  }
  if (rows == 0)
    return absl::InternalError("could not parse llama-bench output:\n" + out);
  return absl::OkStatus();
}

struct EngineRow {
  std::string engine, model, format;
  std::map<std::string, double> rate;  // pp<P>, tg<d>
  double kv_bytes_per_pos = 0;         // for the bandwidth bound
  double weights_kv_bytes = 0;
  long max_rss_kib = 0;
  std::string note;  // why a row has no numbers
};

std::string Tail(const std::string& path, size_t n = 600) {
  std::string s;
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return "";
  char buf[4096];
  size_t k;
  while ((k = std::fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, k);
  std::fclose(f);
  return s.size() > n ? s.substr(s.size() - n) : s;
}

absl::Status RunLlamaBench(const std::string& bin, const std::string& path,
                           const Args& a, const std::string& log,
                           EngineRow* row) {
  // Two runs: llama-bench crosses -d with every -p and -n test, and
  // prefill at depth is not a column here.
  const std::string t = absl::StrCat(a.threads), r = absl::StrCat(a.reps);
  const std::vector<std::vector<std::string>> runs = {
      {bin, "-m", path, "-p", absl::StrJoin(a.prefill, ","), "-n", "0", "-t", t,
       "-r", r, "-o", "csv"},
      {bin, "-m", path, "-p", "0", "-n", absl::StrCat(a.decode), "-d",
       absl::StrJoin(a.depths, ","), "-t", t, "-r", r, "-o", "csv"}};
  for (const auto& argv : runs) {
    auto c = bench::RunProcess(argv, log);
    if (!c.ok()) return c.status();
    if (c->exit_code != 0)
      return absl::InternalError(absl::StrCat("llama-bench exited with ",
                                              c->exit_code, " (", log, "):\n",
                                              Tail(log)));
    row->max_rss_kib = std::max(row->max_rss_kib, c->max_rss_kib);
    QEFF_RETURN_IF_ERROR(ParseLlamaBenchCsv(c->out, &row->rate));
  }
  return absl::OkStatus();
}

// "token_ids" of llama_generate.mjs's JSON line.
absl::StatusOr<std::vector<int64_t>> GeneratedIds(const std::string& out) {
  const size_t start = out.rfind("{\"prompt_ids\"");
  if (start == std::string::npos)
    return absl::InternalError("no JSON in llama_generate.mjs output: " + out);
  QEFF_ASSIGN_OR_RETURN(base::JsonValue j, base::ParseJson(out.substr(start)));
  const base::JsonValue* t = j.Find("token_ids");
  if (t == nullptr || !t->is_array())
    return absl::InternalError("no token_ids in " + out);
  std::vector<int64_t> ids;
  for (const base::JsonValue& v : t->array()) {
    QEFF_ASSIGN_OR_RETURN(int64_t id, v.AsInt64());
    ids.push_back(id);
  }
  return ids;
}

// A file of this binary's runfiles (bazel run's working directory), else of
// the workspace bazel run was started from; "" when neither has it.
std::string Script(const std::string& rel) {
  std::error_code ec;
  if (std::filesystem::exists(rel, ec))
    return std::filesystem::absolute(rel, ec).string();
  const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (ws && std::filesystem::exists(std::string(ws) + "/" + rel, ec))
    return std::string(ws) + "/" + rel;
  return "";
}

constexpr char kNode[] = "/usr/bin/node";

// ---- onnxruntime (fp32 export of the f32 file) ----

absl::Status RunOrt(const Shape& m, const std::string& path,
                    const std::string& peers, const std::string& script,
                    const Args& a, const std::string& log, EngineRow* row) {
  const std::string home = a.dir + "/ort_home";
  const std::string plan = absl::StrCat(a.dir, "/", m.name, "-ort-plan.json");
  // Export in a child (its memory is not the onnxruntime row's).
  auto c = bench::RunInChild([&](int fd) {
    auto fail = [&](const absl::Status& s) {
      std::printf("  onnx export: %s\n", s.ToString().c_str());
      return 1;
    };
    auto t = LoadTransformed(path);
    if (!t.ok()) return fail(t.status());
    const ir::Graph* g = &t->graph;
    auto io = hw::BindGraphIO(
        *g, {{"Decode",
              {{"batch_size", 1}, {"seq_len", 1}, {"ctx_len", a.ctx()}}}});
    if (!io.ok()) return fail(io.status());
    passes::ExportArtifactOptions eo;
    eo.qeff_home = home;
    eo.architecture = "LlamaForCausalLM";
    struct stat st {};
    stat(path.c_str(), &st);
    eo.params.Set("bench", base::JsonValue::String("cpu_vs_llamacpp"));
    eo.params.Set("gguf", base::JsonValue::String(path));
    eo.params.Set("gguf_bytes", base::JsonValue::Int(st.st_size));
    eo.params.Set("gguf_mtime", base::JsonValue::Int(st.st_mtime));
    auto art = passes::ExportArtifact(*g, eo);
    if (!art.ok()) return fail(art.status());
    std::vector<std::string> state;
    for (const hw::BoundIO& s : io->state)
      state.push_back(absl::StrCat("{\"name\": \"", s.name, "\", \"dims\": [",
                                   absl::StrJoin(s.dims, ", "), "]}"));
    const double kv = StateBytes(io->state);
    std::vector<int64_t> ids;
    const int64_t most = std::max(
        *std::max_element(a.prefill.begin(), a.prefill.end()),
        *std::max_element(a.depths.begin(), a.depths.end()) + a.decode);
    for (int64_t i = 0; i < most; ++i) ids.push_back(TokenId(m, i));
    const std::string json =
        absl::StrCat("{\"state\": [", absl::StrJoin(state, ", "),
                     "], \"threads\": ", a.threads, ", \"reps\": ", a.reps,
                     ", \"prefill\": [", absl::StrJoin(a.prefill, ", "),
                     "], \"decode\": ", a.decode, ", \"depths\": [",
                     absl::StrJoin(a.depths, ", "), "], \"ids\": [",
                     absl::StrJoin(ids, ", "), "]}\n");
    FILE* f = std::fopen(plan.c_str(), "w");
    if (!f || std::fwrite(json.data(), 1, json.size(), f) != json.size() ||
        std::fclose(f) != 0)
      return fail(absl::InternalError("cannot write " + plan));
    bench::WriteAll(fd,
                    absl::StrCat(art->onnx_path, "\n", "kv_bytes ", kv, "\n"));
    return 0;
  });
  if (!c.ok()) return c.status();
  if (c->exit_code != 0)
    return absl::InternalError("the ONNX export failed (above)");
  const std::string onnx = c->out.substr(0, c->out.find('\n'));
  const double kv = ParseKeyValues(c->out)["kv_bytes"];
  auto r = bench::RunProcess({kNode, script, peers, onnx, plan}, log);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0)
    return absl::InternalError(absl::StrCat("ort_bench.mjs exited with ",
                                            r->exit_code, " (", log, "):\n",
                                            Tail(log)));
  row->rate = ParseKeyValues(r->out);
  row->max_rss_kib = r->max_rss_kib;
  auto stats = ReadFileStats(m, path);
  if (stats.ok()) row->weights_kv_bytes = stats->tensor_bytes + kv;
  row->kv_bytes_per_pos = kv / a.ctx();
  return absl::OkStatus();
}

// ---- arguments ----

absl::StatusOr<std::vector<int64_t>> ParseInts(const std::string& flag,
                                               const std::string& v,
                                               int64_t min) {
  std::vector<int64_t> out;
  for (absl::string_view p : absl::StrSplit(v, ',')) {
    int64_t x;
    if (!absl::SimpleAtoi(p, &x) || x < min)
      return absl::InvalidArgumentError(absl::StrCat(
          "--", flag, "=", v, ": '", p, "' is not an integer >= ", min));
    if (std::find(out.begin(), out.end(), x) != out.end())
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, "=", v, ": ", x, " is listed twice"));
    out.push_back(x);
  }
  return out;
}

absl::Status ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    std::string v;
    auto val = [&](const char* k) {
      const std::string p = absl::StrCat("--", k, "=");
      if (!absl::StartsWith(s, p)) return false;
      v = s.substr(p.size());
      return true;
    };
    auto count = [&](const char* k, int64_t min, int64_t* out) {
      if (!absl::SimpleAtoi(v, out) || *out < min)
        return absl::InvalidArgumentError(
            absl::StrCat("--", k, "=", v, ": want an integer >= ", min));
      return absl::OkStatus();
    };
    int64_t n = 0;
    if (val("models") || val("formats")) {
      const bool models = absl::StartsWith(s, "--models=");
      std::vector<std::string> list = absl::StrSplit(v, ',');
      std::vector<std::string> known;
      if (models) {
        for (const Shape& m : Shapes()) known.push_back(m.name);
      } else {
        known = kFormats;
      }
      for (const std::string& x : list) {
        if (std::find(known.begin(), known.end(), x) == known.end())
          return absl::InvalidArgumentError(absl::StrCat(
              s, ": '", x, "' is not one of ", absl::StrJoin(known, ", ")));
      }
      (models ? a->models : a->formats) = list;
    } else if (val("threads")) {
      QEFF_RETURN_IF_ERROR(count("threads", 1, &n));
      a->threads = static_cast<int>(n);
    } else if (val("prefill")) {
      QEFF_ASSIGN_OR_RETURN(a->prefill, ParseInts("prefill", v, 1));
    } else if (val("decode")) {
      QEFF_RETURN_IF_ERROR(count("decode", 1, &a->decode));
    } else if (val("depths")) {
      QEFF_ASSIGN_OR_RETURN(a->depths, ParseInts("depths", v, 0));
    } else if (val("reps")) {
      QEFF_RETURN_IF_ERROR(count("reps", 1, &n));
      a->reps = static_cast<int>(n);
    } else if (val("ort")) {
      if (v != "true" && v != "false")
        return absl::InvalidArgumentError(s + ": want true or false");
      a->ort = v == "true";
    } else if (s == "--ort" || s == "--noort") {
      a->ort = s == "--ort";
    } else if (val("tie")) {
      if (!absl::SimpleAtod(v, &a->tie) || !(a->tie >= 0) || a->tie >= 1)
        return absl::InvalidArgumentError(s + ": want a number in [0, 1)");
    } else if (s == "--profile") {
      a->profile = true;
    } else if (val("dir")) {
      if (v.empty()) return absl::InvalidArgumentError("--dir= is empty");
      a->dir = v;
    } else if (val("gguf_arch")) {
      if (v != "qwen2" && v != "llama")
        return absl::InvalidArgumentError(s + ": want llama or qwen2");
      a->gguf_arch = v;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown argument '", s,
          "' (flags: --models --formats --threads --prefill --decode "
          "--depths --reps --ort --tie --dir --gguf_arch --profile)"));
    }
  }
  for (const Shape& m : Shapes()) {
    if (std::find(a->models.begin(), a->models.end(), m.name) ==
        a->models.end())
      continue;
    if (m.experts > 0 && a->gguf_arch != "llama")
      return absl::InvalidArgumentError(
          absl::StrCat("--gguf_arch=", a->gguf_arch, ": ", m.name,
                       " is a MoE, which llama.cpp reads as 'llama' only"));
    if (a->ctx() > m.context)
      return absl::InvalidArgumentError(
          absl::StrCat("the context needed (", a->ctx(),
                       " = max(depth) + decode, or the "
                       "longest prefill) exceeds ",
                       m.name, "'s ", m.context));
  }
  return absl::OkStatus();
}

std::string ModelFile(const Shape& m, const std::string& fmt, const Args& a) {
  return absl::StrCat(a.dir, "/", m.name, "-", a.gguf_arch, "-", fmt, ".gguf");
}

// Writes the model file unless present: in a child (the generator's copies
// stay out of the parent, whose memory every later child starts with); q4_k
// by llama-quantize from the f32 file.
absl::Status EnsureFile(const Shape& m, const std::string& fmt, const Args& a,
                        const std::string& quantize, const std::string& log) {
  const std::string path = ModelFile(m, fmt, a);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return absl::OkStatus();
  const double t0 = bench::NowSeconds();
  if (fmt == "q4_k") {
    if (!std::filesystem::exists(quantize, ec))
      return absl::NotFoundError(quantize +
                                 " is absent (./setup.sh builds it)");
    QEFF_RETURN_IF_ERROR(EnsureFile(m, "f32", a, quantize, log));
    auto c = bench::RunProcess(
        {quantize, "--pure", ModelFile(m, "f32", a), path, "Q4_K"}, log);
    if (!c.ok()) return c.status();
    if (c->exit_code != 0)
      return absl::InternalError(absl::StrCat("llama-quantize exited with ",
                                              c->exit_code, ":\n", Tail(log)));
  } else {
    auto c = bench::RunInChild([&](int) {
      absl::Status st = WriteModel(m, fmt, a.gguf_arch, path);
      if (st.ok()) return 0;
      std::printf("  %s\n", st.ToString().c_str());
      return 1;
    });
    if (!c.ok()) return c.status();
    if (c->exit_code != 0)
      return absl::InternalError("writing " + path + " failed");
  }
  std::printf("  wrote %s (%.1f s)\n", path.c_str(), bench::NowSeconds() - t0);
  return absl::OkStatus();
}

// ---- the table ----

struct Table {
  const Args& a;
  double bw_gbs;
  std::vector<EngineRow> rows;

  std::string Cell(double v, const char* fmt = "%.1f") const {
    if (v <= 0) return "-";
    char b[32];
    std::snprintf(b, sizeof(b), fmt, v);
    return b;
  }
  const EngineRow* Llama(const EngineRow& r) const {
    for (const EngineRow& l : rows)
      if (l.engine == "llama.cpp" && l.model == r.model && l.format == r.format)
        return &l;
    return nullptr;
  }
  double Rate(const EngineRow& r, const std::string& k) const {
    auto it = r.rate.find(k);
    return it == r.rate.end() ? 0 : it->second;
  }
  // Decode's % of the bandwidth bound at depth d.
  double BoundPct(const EngineRow& r, int64_t decode_bytes, int64_t d) const {
    const double tps = Rate(r, TgKey(d));
    if (tps <= 0 || bw_gbs <= 0) return 0;
    const double mean_pos = d + (a.decode + 1) / 2.0;
    const double bytes = decode_bytes + r.kv_bytes_per_pos * mean_pos;
    return 100.0 * bytes * tps / (bw_gbs * 1e9);
  }

  void Print(const std::map<std::string, int64_t>& decode_bytes) const {
    std::vector<std::string> head = {"engine", "model", "format"};
    for (int64_t p : a.prefill) head.push_back(absl::StrCat("pp", p, " t/s"));
    for (int64_t d : a.depths)
      head.push_back(absl::StrCat("tg", a.decode, "@d", d));
    for (int64_t p : a.prefill) head.push_back(absl::StrCat("x pp", p));
    for (int64_t d : a.depths) head.push_back(absl::StrCat("x tg@d", d));
    for (int64_t d : a.depths) head.push_back(absl::StrCat("bw% d", d));
    head.push_back("RSS MiB");
    head.push_back("W+KV MiB");
    auto line = [&](const std::vector<std::string>& c) {
      std::string s;
      for (size_t i = 0; i < c.size(); ++i) {
        char b[64];
        std::snprintf(b, sizeof(b),
                      i == 0  ? "%-10s"
                      : i < 3 ? " %-11s"
                              : " %9s",
                      c[i].c_str());
        s += b;
      }
      std::printf("%s\n", s.c_str());
    };
    line(head);
    for (const EngineRow& r : rows) {
      std::vector<std::string> c = {r.engine, r.model, r.format};
      if (!r.note.empty()) {
        std::printf("%-10s %-11s %-11s %s\n", r.engine.c_str(), r.model.c_str(),
                    r.format.c_str(), r.note.c_str());
        continue;
      }
      for (int64_t p : a.prefill) c.push_back(Cell(Rate(r, PpKey(p))));
      for (int64_t d : a.depths) c.push_back(Cell(Rate(r, TgKey(d)), "%.2f"));
      const EngineRow* l = r.engine == "llama.cpp" ? nullptr : Llama(r);
      auto ratio = [&](const std::string& k) {
        const double y = l ? Rate(*l, k) : 0, x = Rate(r, k);
        return Cell(y > 0 && x > 0 ? x / y : 0, "%.3f");
      };
      for (int64_t p : a.prefill) c.push_back(ratio(PpKey(p)));
      for (int64_t d : a.depths) c.push_back(ratio(TgKey(d)));
      auto db = decode_bytes.find(r.model + "/" + r.format);
      for (int64_t d : a.depths)
        c.push_back(Cell(
            db == decode_bytes.end() ? 0 : BoundPct(r, db->second, d), "%.1f"));
      c.push_back(Cell(r.max_rss_kib / 1024.0, "%.0f"));
      c.push_back(Cell(r.weights_kv_bytes / 1048576.0, "%.0f"));
      line(c);
    }
  }
};

}  // namespace
}  // namespace qeff

int main(int argc, char** argv) {
  using namespace qeff;
  Args a;
  if (absl::Status st = ParseArgs(argc, argv, &a); !st.ok()) {
    std::fprintf(stderr, "cpu_vs_llamacpp: %s\n",
                 std::string(st.message()).c_str());
    return 2;
  }
  const std::string peers = bench::PeersDir();
  const std::string bin = peers + "/llama.cpp/build/bin/";
  std::string bench_bin = bin + "llama-bench",
              quantize = bin + "llama-quantize";
  const std::string generate = Script("tests/e2e/peers/llama_generate.mjs");
  const std::string ort_script = Script("bench/ort_bench.mjs");
  std::error_code ec;
  std::string no_llama, no_parity, no_ort;
  if (!std::filesystem::exists(bench_bin, ec))
    no_llama = bench_bin + " is absent (./setup.sh builds it)";
  if (!std::filesystem::exists(kNode, ec))
    no_parity = no_ort = std::string(kNode) + " is absent";
  else if (generate.empty())
    no_parity = "tests/e2e/peers/llama_generate.mjs not found";
  else if (!std::filesystem::exists(
               peers + "/node_modules/node-llama-cpp/package.json", ec))
    no_parity = "node-llama-cpp is absent from " + peers;
  if (no_ort.empty() && ort_script.empty())
    no_ort = "bench/ort_bench.mjs not found";
  else if (no_ort.empty() &&
           !std::filesystem::exists(
               peers + "/node_modules/onnxruntime-node/package.json", ec))
    no_ort = "onnxruntime-node is absent from " + peers;
  if (!no_llama.empty())
    std::printf("llama.cpp peer unavailable: %s; qeff only\n",
                no_llama.c_str());
  if (!no_parity.empty())
    std::printf("token parity unavailable: %s\n", no_parity.c_str());
  std::filesystem::create_directories(a.dir, ec);
  const std::string log = a.dir + "/peers.log";

  const double bw = bench::ReadBandwidthGBs(size_t{1} << 30, a.threads, 5);
  std::printf(
      "host read bandwidth: %.2f GB/s (1 GiB streaming read, %d "
      "threads, best of 5)\n",
      bw, a.threads);
  std::printf(
      "GGUF '%s'; %d threads; prefill %s; decode %lld at depths %s; ctx_len "
      "%lld; %d reps after a warm-up\n",
      a.gguf_arch.c_str(), a.threads, absl::StrJoin(a.prefill, ",").c_str(),
      (long long)a.decode, absl::StrJoin(a.depths, ",").c_str(),
      (long long)a.ctx(), a.reps);

  Table table{a, bw, {}};
  std::map<std::string, int64_t> decode_bytes;
  std::vector<std::string> notes;
  int failures = 0;
  for (const Shape& m : Shapes()) {
    if (std::find(a.models.begin(), a.models.end(), m.name) == a.models.end())
      continue;
    std::printf(
        "%s: dim %lld, %lld layers, %lld heads (%lld kv), ffn %lld, "
        "vocab %lld\n",
        m.name.c_str(), (long long)m.dim, (long long)m.layers,
        (long long)m.heads, (long long)m.kv_heads, (long long)m.ffn,
        (long long)m.vocab);
    for (const std::string& fmt : a.formats) {
      const std::string path = ModelFile(m, fmt, a);
      std::printf("%s %s:\n", m.name.c_str(), fmt.c_str());
      auto note = [&](const std::string& engine, const std::string& why) {
        EngineRow r{engine, m.name, fmt};
        r.note = why;
        table.rows.push_back(r);
      };
      if (absl::Status st = EnsureFile(m, fmt, a, quantize, log); !st.ok()) {
        std::printf("  %s\n", st.ToString().c_str());
        note("qeff", "no file: " + std::string(st.message().substr(
                                       0, st.message().find('\n'))));
        ++failures;
        continue;
      }
      auto stats = ReadFileStats(m, path);
      if (!stats.ok()) {
        std::printf("  %s\n", stats.status().ToString().c_str());
        note("qeff", "unreadable file");
        ++failures;
        continue;
      }
      decode_bytes[m.name + "/" + fmt] = stats->decode_bytes;
      if (fmt == "q4_k")
        notes.push_back(
            absl::StrCat(m.name, " q4_k (llama-quantize --pure ",
                         "Q4_K of the f32 file): ", stats->Census()));

      // llama.cpp's greedy tokens for the parity check.
      std::vector<int64_t> peer;
      bool have_peer = false;
      if (no_parity.empty()) {
        const std::vector<int64_t> prompt = ParityPrompt(m);
        auto c = bench::RunProcess(
            {kNode, generate, peers, path, "ids:" + absl::StrJoin(prompt, ","),
             absl::StrCat(kParityTokens), "256"},
            log);
        absl::StatusOr<std::vector<int64_t>> ids =
            !c.ok() ? c.status()
            : c->exit_code != 0
                ? absl::InternalError(absl::StrCat("exit ", c->exit_code, "; ",
                                                   log, ":\n", Tail(log)))
                : GeneratedIds(c->out);
        if (ids.ok()) {
          peer = *ids;
          have_peer = true;
        } else {
          std::printf("  llama_generate.mjs failed: %s; parity unchecked\n",
                      ids.status().ToString().c_str());
        }
      }

      // qeff: parity, then timing, in a child of its own.
      const double t0 = bench::NowSeconds();
      auto q = bench::RunInChild([&](int fd) {
        return QeffChild(m, path, a, have_peer ? &peer : nullptr, fd);
      });
      if (!q.ok() || q->exit_code == 3 || q->exit_code != 0) {
        const bool parity = q.ok() && q->exit_code == 3;
        if (!q.ok()) std::printf("  %s\n", q.status().ToString().c_str());
        if (!parity) ++failures;
        note("qeff",
             parity ? "not timed: tokens diverge (above)"
                    : absl::StrCat("failed (exit ", q.ok() ? q->exit_code : -1,
                                   "; above)"));
        continue;
      }
      EngineRow qr{"qeff", m.name, fmt};
      qr.rate = ParseKeyValues(q->out);
      const double ctx = qr.rate["ctx"], kv = qr.rate["kv_bytes"];
      std::printf("  qeff: %.1f s (compile %.1f s)\n", bench::NowSeconds() - t0,
                  qr.rate["compile_s"]);
      qr.kv_bytes_per_pos = ctx > 0 ? kv / ctx : 0;
      qr.weights_kv_bytes = stats->tensor_bytes + kv;
      qr.max_rss_kib = q->max_rss_kib;

      // A peer's row: run() fills it, or its failure is printed.
      auto run_peer = [&](const char* label, EngineRow row,
                          const std::function<absl::Status(EngineRow*)>& run) {
        const double t1 = bench::NowSeconds();
        if (absl::Status st = run(&row); !st.ok()) {
          std::printf("  %s: %s\n", label, st.ToString().c_str());
          row.note = "failed (above)";
          ++failures;
        } else {
          std::printf("  %s: %.1f s\n", label, bench::NowSeconds() - t1);
        }
        table.rows.push_back(row);
      };
      if (no_llama.empty()) {
        EngineRow lr{"llama.cpp", m.name, fmt};
        lr.kv_bytes_per_pos = 2.0 * m.layers * m.kv_heads * m.head_dim() * 2;
        int64_t lctx = 0;
        for (int64_t p : a.prefill) lctx = std::max(lctx, p);
        for (int64_t d : a.depths) lctx = std::max(lctx, d + a.decode);
        lr.weights_kv_bytes = stats->tensor_bytes + lr.kv_bytes_per_pos * lctx;
        run_peer("llama.cpp", lr, [&](EngineRow* r) {
          return RunLlamaBench(bench_bin, path, a, log, r);
        });
      }
      table.rows.push_back(qr);

      if (a.ort && fmt == "f32" && m.name == "stories110M") {
        if (!no_ort.empty()) {
          note("onnxrt", "unavailable: " + no_ort);
        } else {
          run_peer("onnxruntime", EngineRow{"onnxrt", m.name, fmt},
                   [&](EngineRow* r) {
                     return RunOrt(m, path, peers, ort_script, a, log, r);
                   });
        }
      }
      std::fflush(stdout);
    }
  }
  std::printf("\n");
  table.Print(decode_bytes);
  std::printf(
      "t/s: tokens per second, mean of %d reps; x: ratio to llama.cpp on the "
      "same file (higher is better for the row's engine); bw%%: decode's %% "
      "of the bandwidth bound (%.2f GB/s; matrices but token_embd + KV read "
      "at the mean position); RSS: the child's peak (wait4 ru_maxrss; it "
      "includes what the child shared with this process at fork, %.0f MiB); "
      "W+KV: the file's tensors + the KV cache at the context used\n",
      a.reps, bw, bench::ReadProcMemory().vm_rss / 1024.0);
  bool ort_row = false;
  for (const EngineRow& r : table.rows) ort_row |= r.engine == "onnxrt";
  if (ort_row)
    std::printf(
        "onnxrt: onnxruntime-node 1.30 on qeff's exported ONNX of "
        "the f32 file (retained-state KV as f32)\n");
  for (const std::string& n : notes) std::printf("%s\n", n.c_str());
  return failures ? 1 : 0;
}
