// qeff's cpu driver vs llama.cpp on the same GGUF file, measured in one run.
//
// The model: a stories110M-shaped random Llama (dim 768, 12 layers, 12
// heads, ffn 2048, vocab 32000), written as GGUF (models/gguf_writer.h) once
// per weight format — f32, f16, Q8_0, Q4_0 (ir::Quantize); every 2-D matrix
// (token_embd, attention, FFN, output) in that format, norms in f32. qeff
// reads it through models::Load -> TransformForDevice -> the cpu driver;
// llama.cpp reads it with `llama-bench` built from the llama.cpp source under
// $QEFF_PEERS_DIR/llama.cpp (build/bin/llama-bench; ./setup.sh builds it).
//
// Measures, both at the same thread count:
//   prefill: one call of `prefill` tokens at positions 0.. (llama-bench pp)
//   decode:  `decode` single-token steps at positions 0.. (llama-bench tg)
// each repeated `reps` times after one warm-up; tok/s is the mean rate.
//
// Run: bazel run -c opt --config=native //bench:cpu_vs_llamacpp -- \
//        [--formats=f32,f16,q8_0,q4_0] [--threads=2] [--prefill=128]
//        [--decode=64] [--reps=3] [--dir=/tmp/qeff_cpu_vs_llamacpp]
//        [--gguf_arch=qwen2|llama] [--profile]
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "bench/bench_util.h"
#include "engine/lm_pipeline.h"
#include "hw/cpu/cpu_driver.h"
#include "hw/driver.h"
#include "hw/profiler.h"
#include "ir/quant.h"
#include "ir/tensor.h"
#include "models/gguf_writer.h"
#include "models/model_loader.h"
#include "models/test_model.h"

namespace qeff {
namespace {

constexpr int64_t kDim = 768, kLayers = 12, kHeads = 12, kFfn = 2048,
                  kVocab = 32000;

struct Args {
  std::vector<std::string> formats = {"f32", "f16", "q8_0", "q4_0"};
  int threads = 2;
  int64_t prefill = 128, decode = 64;
  int reps = 3;
  std::string dir = "/tmp/qeff_cpu_vs_llamacpp";
  // The GGUF architecture tag: "llama" stores Q/K in llama.cpp's interleaved
  // layout, as real files do (models::Load moves whole rows back, keeping
  // f16 and quantized blocks as they are); "qwen2" without biases and with
  // an untied output is the same model stored unpermuted.
  std::string gguf_arch = "llama";
  // --profile: one more untimed prefill + decode under hw::Profiler; the
  // per-kernel summary is printed, the trace written to DIR/FMT.trace.json.
  bool profile = false;
};

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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

absl::StatusOr<ir::Tensor> Matrix(Rng& rng, int64_t rows, int64_t cols, float a,
                                  const std::string& fmt) {
  ir::Tensor f = ir::Tensor::Zeros(ir::DType::kF32, {rows, cols});
  float* p = f.mutable_data<float>();
  for (int64_t i = 0; i < rows * cols; ++i) p[i] = rng.Next(a);
  if (fmt == "f32") return f;
  if (fmt == "f16") {
    ir::Tensor h = ir::Tensor::Zeros(ir::DType::kF16, {rows, cols});
    uint16_t* q = h.mutable_data<uint16_t>();
    for (int64_t i = 0; i < rows * cols; ++i) q[i] = ir::FloatToHalf(p[i]);
    return h;
  }
  auto qf = ir::ParseQuantFormat(fmt);
  if (!qf.ok()) return qf.status();
  return ir::Quantize(f, *qf);
}

ir::Tensor NormWeight(Rng& rng) {
  ir::Tensor t = ir::Tensor::Zeros(ir::DType::kF32, {kDim});
  for (int64_t i = 0; i < kDim; ++i)
    t.mutable_data<float>()[i] = 1.0f + rng.Next(0.1f);
  return t;
}

absl::Status WriteModel(const std::string& fmt, const std::string& arch,
                        const std::string& path) {
  using models::GgufValue;
  models::GgufWriter g;
  auto key = [&](const char* k) { return absl::StrCat(arch, ".", k); };
  g.Add("general.architecture", GgufValue::String(arch));
  g.Add("general.name", GgufValue::String("qeff-stories110M-shape-" + fmt));
  g.Add(key("context_length"), GgufValue::U32(1024));
  g.Add(key("embedding_length"), GgufValue::U32(kDim));
  g.Add(key("feed_forward_length"), GgufValue::U32(kFfn));
  g.Add(key("block_count"), GgufValue::U32(kLayers));
  g.Add(key("attention.head_count"), GgufValue::U32(kHeads));
  g.Add(key("attention.head_count_kv"), GgufValue::U32(kHeads));
  g.Add(key("attention.layer_norm_rms_epsilon"), GgufValue::F32(1e-5f));
  g.Add(key("rope.freq_base"), GgufValue::F32(10000.0f));
  g.Add(key("rope.dimension_count"), GgufValue::U32(kDim / kHeads));
  // The test vocabulary padded with plain pieces to 32000 tokens.
  models::TestVocab v = models::MakeTestVocab();
  for (int64_t i = static_cast<int64_t>(v.pieces.size()); i < kVocab; ++i) {
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
  g.Add("tokenizer.ggml.eos_token_id", GgufValue::U32(2));
  g.Add("tokenizer.ggml.add_bos_token", GgufValue::Bool(true));
  Rng rng;
  const float a_in = 1.7f / std::sqrt(static_cast<float>(kDim));
  const float a_ffn = 1.7f / std::sqrt(static_cast<float>(kFfn));
  auto add = [&](const std::string& name, int64_t r, int64_t c,
                 float a) -> absl::Status {
    auto t = Matrix(rng, r, c, a, fmt);
    if (!t.ok()) return t.status();
    return g.AddTensor(name, *t);
  };
  QEFF_RETURN_IF_ERROR(add("token_embd.weight", kVocab, kDim, 1.0f));
  for (int64_t i = 0; i < kLayers; ++i) {
    const std::string b = absl::StrCat("blk.", i, ".");
    QEFF_RETURN_IF_ERROR(g.AddTensor(b + "attn_norm.weight", NormWeight(rng)));
    for (const char* w : {"attn_q", "attn_k", "attn_v", "attn_output"})
      QEFF_RETURN_IF_ERROR(add(b + w + ".weight", kDim, kDim, a_in));
    QEFF_RETURN_IF_ERROR(g.AddTensor(b + "ffn_norm.weight", NormWeight(rng)));
    QEFF_RETURN_IF_ERROR(add(b + "ffn_gate.weight", kFfn, kDim, a_in));
    QEFF_RETURN_IF_ERROR(add(b + "ffn_up.weight", kFfn, kDim, a_in));
    QEFF_RETURN_IF_ERROR(add(b + "ffn_down.weight", kDim, kFfn, a_ffn));
  }
  QEFF_RETURN_IF_ERROR(g.AddTensor("output_norm.weight", NormWeight(rng)));
  QEFF_RETURN_IF_ERROR(add("output.weight", kVocab, kDim, a_in));
  return g.WriteFile(path);
}

struct Rates {
  double prefill = 0, decode = 0;
  double compile_s = 0;
};

absl::StatusOr<Rates> RunQeff(const std::string& path, const Args& a) {
  auto m = models::Load(path);
  if (!m.ok()) return m.status();
  auto g = engine::TransformForDevice(m->eager, {});
  if (!g.ok()) return g.status();
  auto dev = hw::OpenCpuDevice("cpu");
  if (!dev.ok()) return dev.status();
  const int64_t ctx = a.prefill + a.decode;
  std::vector<hw::Specialization> specs = {
      {"Prefill",
       {{"batch_size", 1}, {"seq_len", a.prefill}, {"ctx_len", ctx}}},
      {"Decode", {{"batch_size", 1}, {"seq_len", 1}, {"ctx_len", ctx}}}};
  hw::CompileOptions o;
  o.num_cores = a.threads;
  Rates r;
  double t0 = Now();
  auto prog = (*dev)->Compile(*g, specs, o);
  if (!prog.ok()) return prog.status();
  r.compile_s = Now() - t0;
  auto s = (*dev)->Load(*prog);
  if (!s.ok()) return s.status();
  std::vector<int64_t> ids(a.prefill), pos(a.prefill);
  for (int64_t i = 0; i < a.prefill; ++i) {
    ids[i] = 3 + (i * 7919) % (kVocab - 3);
    pos[i] = i;
  }
  const hw::TensorMap pin = {
      {"input_ids", ir::Tensor::I64({1, a.prefill}, ids)},
      {"position_ids", ir::Tensor::I64({1, a.prefill}, pos)}};
  double pf = 0, dc = 0;
  for (int rep = 0; rep <= a.reps; ++rep) {  // rep 0: warm-up
    t0 = Now();
    auto out = (*s)->Run("Prefill", pin);
    if (!out.ok()) return out.status();
    const double tp = Now() - t0;
    t0 = Now();
    for (int64_t i = 0; i < a.decode; ++i) {
      auto d = (*s)->Run(
          "Decode", {{"input_ids",
                      ir::Tensor::I64({1, 1}, {3 + (i * 7919) % (kVocab - 3)})},
                     {"position_ids", ir::Tensor::I64({1, 1}, {i})}});
      if (!d.ok()) return d.status();
    }
    const double td = Now() - t0;
    if (rep == 0) continue;
    pf += a.prefill / tp;
    dc += a.decode / td;
  }
  r.prefill = pf / a.reps;
  r.decode = dc / a.reps;
  if (a.profile) {
    hw::Profiler& prof = hw::Profiler::Global();
    prof.Start();
    auto out = (*s)->Run("Prefill", pin);
    for (int64_t i = 0; out.ok() && i < a.decode; ++i)
      out = (*s)->Run(
          "Decode", {{"input_ids",
                      ir::Tensor::I64({1, 1}, {3 + (i * 7919) % (kVocab - 3)})},
                     {"position_ids", ir::Tensor::I64({1, 1}, {i})}});
    prof.Stop();
    if (!out.ok()) return out.status();
    const std::string trace = path.substr(0, path.rfind('.')) + ".trace.json";
    QEFF_RETURN_IF_ERROR(prof.WriteChromeTrace(trace));
    std::printf("qeff profile of %s (trace %s):\n%s", path.c_str(),
                trace.c_str(), prof.SummaryTable().c_str());
  }
  return r;
}

// llama-bench's CSV: header, then one row per test (pp, tg).
absl::StatusOr<Rates> RunLlamaBench(const std::string& bin,
                                    const std::string& path, const Args& a) {
  const std::string cmd = absl::StrCat(
      "'", bin, "' -m '", path, "' -p ", a.prefill, " -n ", a.decode, " -t ",
      a.threads, " -r ", a.reps, " -o csv 2>/dev/null");
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return absl::InternalError("popen failed: " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0)
    return absl::InternalError(
        absl::StrCat("llama-bench exited with ", rc, ": ", cmd));
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  std::vector<std::string> head;
  Rates r;
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
    int64_t np = 0, ng = 0;
    if (!absl::SimpleAtod(row["avg_ts"], &ts) ||
        !absl::SimpleAtoi(row["n_prompt"], &np) ||
        !absl::SimpleAtoi(row["n_gen"], &ng))
      continue;
    if (np > 0 && ng == 0) r.prefill = ts;
    if (ng > 0 && np == 0) r.decode = ts;
  }
  if (r.prefill == 0 || r.decode == 0)
    return absl::InternalError("could not parse llama-bench output:\n" + out);
  return r;
}

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto val = [&](const char* k, std::string* v) {
      const std::string p = absl::StrCat("--", k, "=");
      if (!absl::StartsWith(s, p)) return false;
      *v = s.substr(p.size());
      return true;
    };
    std::string v;
    if (val("formats", &v)) {
      a->formats = absl::StrSplit(v, ',', absl::SkipEmpty());
    } else if (val("threads", &v)) {
      if (!absl::SimpleAtoi(v, &a->threads) || a->threads < 1) return false;
    } else if (val("prefill", &v)) {
      if (!absl::SimpleAtoi(v, &a->prefill) || a->prefill < 1) return false;
    } else if (val("decode", &v)) {
      if (!absl::SimpleAtoi(v, &a->decode) || a->decode < 1) return false;
    } else if (val("reps", &v)) {
      if (!absl::SimpleAtoi(v, &a->reps) || a->reps < 1) return false;
    } else if (s == "--profile") {
      a->profile = true;
    } else if (val("dir", &v)) {
      a->dir = v;
    } else if (val("gguf_arch", &v)) {
      if (v != "qwen2" && v != "llama") return false;
      a->gguf_arch = v;
    } else {
      std::fprintf(stderr, "unknown argument '%s'\n", s.c_str());
      return false;
    }
  }
  for (const auto& f : a->formats) {
    if (f != "f32" && f != "f16" && f != "q8_0" && f != "q4_0") {
      std::fprintf(stderr, "--formats: '%s' is not f32, f16, q8_0 or q4_0\n",
                   f.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace
}  // namespace qeff

int main(int argc, char** argv) {
  using namespace qeff;
  Args a;
  if (!ParseArgs(argc, argv, &a)) return 2;
  std::string bench;
  std::string why;
  bench = qeff::bench::PeersDir() + "/llama.cpp/build/bin/llama-bench";
  if (!std::filesystem::exists(bench)) {
    why = bench + " is absent (./setup.sh builds it)";
    bench.clear();
  }
  if (bench.empty())
    std::printf("llama.cpp peer unavailable: %s; qeff only\n", why.c_str());
  std::error_code ec;
  std::filesystem::create_directories(a.dir, ec);
  std::printf(
      "stories110M-shaped random Llama (dim %lld, %lld layers, %lld heads, "
      "ffn %lld, vocab %lld) as GGUF '%s'; %d threads; prefill %lld, decode "
      "%lld, %d reps\n",
      (long long)kDim, (long long)kLayers, (long long)kHeads, (long long)kFfn,
      (long long)kVocab, a.gguf_arch.c_str(), a.threads, (long long)a.prefill,
      (long long)a.decode, a.reps);
  std::printf("%-6s %12s %12s %12s %12s %9s %9s %9s\n", "format", "qeff pp t/s",
              "llama pp t/s", "qeff tg t/s", "llama tg t/s", "pp ratio",
              "tg ratio", "compile s");
  int failures = 0;
  for (const std::string& fmt : a.formats) {
    const std::string path =
        absl::StrCat(a.dir, "/stories110M-", a.gguf_arch, "-", fmt, ".gguf");
    if (!std::filesystem::exists(path)) {
      absl::Status st = WriteModel(fmt, a.gguf_arch, path);
      if (!st.ok()) {
        std::printf("%s: writing %s: %s\n", fmt.c_str(), path.c_str(),
                    st.ToString().c_str());
        ++failures;
        continue;
      }
    }
    auto q = RunQeff(path, a);
    if (!q.ok()) {
      std::printf("%s: qeff: %s\n", fmt.c_str(), q.status().ToString().c_str());
      ++failures;
      continue;
    }
    Rates l;
    if (!bench.empty()) {
      auto lr = RunLlamaBench(bench, path, a);
      if (!lr.ok()) {
        std::printf("%s: llama.cpp: %s\n", fmt.c_str(),
                    lr.status().ToString().c_str());
        ++failures;
      } else {
        l = *lr;
      }
    }
    auto ratio = [](double x, double y) { return y > 0 ? x / y : 0.0; };
    std::printf("%-6s %12.1f %12.1f %12.2f %12.2f %9.3f %9.3f %9.3f\n",
                fmt.c_str(), q->prefill, l.prefill, q->decode, l.decode,
                ratio(q->prefill, l.prefill), ratio(q->decode, l.decode),
                q->compile_s);
    std::fflush(stdout);
  }
  std::printf("ratios are qeff / llama.cpp (higher is better for qeff)\n");
  return failures ? 1 : 0;
}
