// The model zoo end to end: for each family's seeded test model (Qwen3,
// GPT-2, Mixtral, Qwen3-MoE, Phi-3, Grok-1 — every layer type of the family
// present), written as a Hugging Face folder and as GGUF:
//  - tests/reference/reference.py (PyTorch, written from the HF modeling
//    math, no code shared with models/) gives the greedy tokens and each
//    step's logits; the test fails unless every step's top-1 margin is
//    >= 1e-3 (a seed where rounding could flip a token is a bad seed);
//  - qeff on the reference and cpu devices (transform_lm, retained KV cache,
//    one prefill then one decode per token, teacher-forced on PyTorch's
//    tokens) from the folder and from the GGUF: max|Δ|/max|ref| <= 1e-4 per
//    step and the same greedy tokens;
//  - our export (standard ONNX ops only) in stock onnxruntime, teacher-
//    forced the same way: max|Δ|/max|ref| <= 1e-4, the same greedy tokens;
//  - llama.cpp (the node-llama-cpp peer) on the same GGUF: the same greedy
//    tokens as qeff on the cpu device;
//  - MoE families: every routing decision's top-k margin >= 1e-3, and one
//    decode token runs top_k x (MoE layers) experts on the cpu driver;
//  - Grok-1: attention soft-capping active (a score beyond the cap); its
//    GGUF is compared with the reference's llama.cpp form (renormalised
//    top-k expert weights, tanh GELU), the folder with the HF form.
// Also: quantized expert stacks, Phi-3 past longrope's original context,
// Qwen3-MoE dense layers, GGUFs with a fused attn_qkv.
// Skips (with the reason) when python3-torch or the llama.cpp peer is absent.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/json.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/cpu/kernels_moe.h"
#include "hw/cpu/plan.h"
#include "hw/device_registry.h"
#include "hw/driver.h"
#include "hw/graph_io.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "ir/quant.h"
#include "models/arch/registry.h"
#include "models/model_loader.h"
#include "models/test_model.h"
#include "passes/export.h"
#include "tests/e2e/ort_steps.h"
#include "tests/util/test_util.h"

namespace qeff {
namespace {

constexpr int kSteps = 12;
constexpr int64_t kCtx = 32;

struct PyRun {
  double route_margin = -1;  // < 0: no experts
  double cap_ratio = -1;     // grok-1: max |score| / max_attn_value
  std::vector<int64_t> tokens;
  std::vector<std::vector<double>> logits;
};

bool HaveTorch() {
  int rc;
  testing::RunCommand("/usr/bin/python3 -c 'import torch' 2>/dev/null", &rc);
  return rc == 0;
}

PyRun RunPy(const std::string& dir, const std::vector<int64_t>& prompt,
            bool cached = false, const std::string& flags = "") {
  PyRun r;
  int rc;
  std::string out = testing::RunCommand(
      absl::StrCat(
          "/usr/bin/python3 ", testing::Runfile("tests/reference/reference.py"),
          " ", dir, " --prompt_ids=", absl::StrJoin(prompt, ","),
          " --steps=", kSteps, cached ? " --cached" : "", flags, " 2>&1"),
      &rc);
  EXPECT_EQ(rc, 0) << out.substr(0, 2000);
  if (rc != 0) return r;
  auto j = base::ParseJson(out);
  EXPECT_TRUE(j.ok()) << j.status();
  if (!j.ok()) return r;
  for (const auto& t : j->Find("tokens")->array())
    r.tokens.push_back(*t.AsInt64());
  if (const base::JsonValue* m = j->Find("min_route_margin");
      m != nullptr && m->is_number())
    r.route_margin = m->number();
  if (const base::JsonValue* c = j->Find("max_attn_cap_ratio");
      c != nullptr && c->is_number())
    r.cap_ratio = c->number();
  for (const auto& row : j->Find("step_logits")->array()) {
    r.logits.emplace_back();
    for (const auto& x : row.array()) r.logits.back().push_back(x.number());
  }
  return r;
}

double MinMargin(const PyRun& r) {
  double m = 1e30;
  for (const auto& row : r.logits) {
    std::vector<double> s = row;
    std::partial_sort(s.begin(), s.begin() + 2, s.end(), std::greater<>());
    m = std::min(m, s[0] - s[1]);
  }
  return m;
}

// Teacher-forced cached generation on `device_kind`; returns the worst
// max|Δ|/max|ref| over the steps and our greedy tokens in *ours.
double RunTeacherForced(const models::LoadedModel& m,
                        const std::string& device_kind,
                        const std::vector<int64_t>& prompt, const PyRun& py,
                        std::vector<int64_t>* ours) {
  auto device = hw::OpenDevice(device_kind);
  EXPECT_TRUE(device.ok()) << device.status();
  if (!device.ok()) return 1e30;
  const int64_t n = static_cast<int64_t>(prompt.size());
  auto compiled = engine::CompileLM(
      m.eager, **device, hw::PrefillDecodeSpecializations(1, n, kCtx), {});
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  if (!compiled.ok()) return 1e30;
  auto session = (*device)->Load(compiled->program);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return 1e30;
  engine::Generator gen(session->get());
  engine::GenerationOptions o;
  o.prefill_seq_len = n;
  o.ctx_len = kCtx;
  auto l = gen.Prefill(prompt, o);
  double worst = 0;
  for (int step = 0; step < kSteps; ++step) {
    EXPECT_TRUE(l.ok()) << l.status();
    if (!l.ok()) return 1e30;
    const std::vector<double>& ref = py.logits[step];
    EXPECT_EQ(static_cast<int64_t>(ref.size()), l->num_elements());
    double diff = 0, scale = 0;
    for (size_t j = 0; j < ref.size(); ++j) {
      diff = std::max(diff, std::fabs(ref[j] - l->GetDouble(j)));
      scale = std::max(scale, std::fabs(ref[j]));
    }
    worst = std::max(worst, diff / scale);
    ours->push_back(engine::Argmax(*l));
    l = gen.Decode(py.tokens[step], n + step);
  }
  return worst;
}

std::vector<int64_t> IntsAfter(const std::string& json,
                               const std::string& key) {
  std::vector<int64_t> out;
  size_t k = json.find("\"" + key + "\":[");
  if (k == std::string::npos) return out;
  size_t start = json.find('[', k) + 1, end = json.find(']', start);
  for (absl::string_view p :
       absl::StrSplit(json.substr(start, end - start), ',')) {
    int64_t v;
    if (absl::SimpleAtoi(p, &v)) out.push_back(v);
  }
  return out;
}

// The cpu driver's MoE kernel runs only the selected experts: one decode
// token adds top_k expert evaluations per MoE layer (the counter of
// hw/cpu/kernels_moe.h), not num_experts.
void CheckGatheredExperts(const models::LoadedModel& m) {
  const bool grok = m.config.family == models::ModelFamily::kGrok;
  const models::LlamaConfig& c = m.config.llama;
  int64_t moe_layers = 0, top_k = 0, experts = 0;
  if (grok) {
    moe_layers = m.config.grok.num_hidden_layers;  // experts in every layer
    top_k = m.config.grok.num_experts_per_tok;
    experts = m.config.grok.num_experts;
  } else {
    for (int64_t i = 0; i < c.num_hidden_layers; ++i)
      moe_layers += c.LayerIsMoE(i);
    top_k = c.num_experts_per_tok;
    experts = c.num_experts;
  }
  auto device = hw::OpenDevice("cpu");
  ASSERT_TRUE(device.ok());
  const std::vector<int64_t> prompt = models::TestPromptIds();
  const int64_t n = static_cast<int64_t>(prompt.size());
  auto compiled = engine::CompileLM(
      m.eager, **device, hw::PrefillDecodeSpecializations(1, n, kCtx), {});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  auto session = (*device)->Load(compiled->program);
  ASSERT_TRUE(session.ok());
  engine::Generator gen(session->get());
  engine::GenerationOptions o;
  o.prefill_seq_len = n;
  o.ctx_len = kCtx;
  auto l = gen.Prefill(prompt, o);
  ASSERT_TRUE(l.ok()) << l.status();
  for (int step = 0; step < 4; ++step) {
    const int64_t before = hw::cpu::MoEExpertCalls();
    l = gen.Decode(engine::Argmax(*l), n + step);
    ASSERT_TRUE(l.ok()) << l.status();
    const int64_t calls = hw::cpu::MoEExpertCalls() - before;
    EXPECT_EQ(calls, top_k * moe_layers) << "decode step " << step;
    if (step == 0)
      std::printf(
          "%s: one decode token ran %lld expert FFNs (top_k %lld x %lld MoE "
          "layers; %lld experts each)\n",
          m.config.model_type.c_str(), static_cast<long long>(calls),
          static_cast<long long>(top_k), static_cast<long long>(moe_layers),
          static_cast<long long>(experts));
  }
}

// Our export (transform_lm + ONNX with the custom ops as standard-op
// functions) in stock onnxruntime: one prefill of the prompt, then decode
// on PyTorch's tokens; the worst max|Δ|/max|ref| against PyTorch, or a
// negative value (with the reason in *why) when the peer is absent.
double OrtTeacherForced(const ir::Graph& eager, const std::string& name,
                        const std::vector<int64_t>& prompt, const PyRun& py,
                        std::vector<int64_t>* ours, std::string* why) {
  std::string peers = testing::OrtPeersDir(why);
  if (peers.empty()) return -1;
  auto transformed = engine::TransformForDevice(eager, {});
  EXPECT_TRUE(transformed.ok()) << transformed.status();
  if (!transformed.ok()) return 1e30;
  const int64_t n = static_cast<int64_t>(prompt.size());
  auto specs = hw::PrefillDecodeSpecializations(1, n, kCtx);
  auto io = hw::BindGraphIO(*transformed, specs);
  EXPECT_TRUE(io.ok()) << io.status();
  if (!io.ok()) return 1e30;
  passes::ExportArtifactOptions eo;
  eo.qeff_home = absl::StrCat(::testing::TempDir(), "/qeff_home");
  eo.architecture = "Zoo";
  eo.params.Set("test", base::JsonValue::String(name));
  auto art = passes::ExportArtifact(*transformed, eo);
  EXPECT_TRUE(art.ok()) << art.status();
  if (!art.ok()) return 1e30;
  std::vector<testing::OrtStep> steps;
  std::vector<int64_t> pos(n);
  for (int64_t i = 0; i < n; ++i) pos[i] = i;
  steps.push_back({"Prefill", 1, n, prompt, pos, {}, {true}});
  for (int step = 0; step + 1 < kSteps; ++step)
    steps.push_back(
        {"Decode", 1, 1, {py.tokens[step]}, {n + step}, {}, {true}});
  std::string error;
  auto logits =
      testing::RunOrtSteps(peers, art->onnx_path, io->state, steps, &error);
  EXPECT_TRUE(error.empty()) << error;
  if (!error.empty()) return 1e30;
  double worst = 0;
  for (int step = 0; step < kSteps; ++step) {
    const std::vector<double>& ref = py.logits[step];
    double diff = 0, scale = 0;
    int64_t best = 0;
    for (size_t j = 0; j < ref.size(); ++j) {
      diff = std::max(diff, std::fabs(ref[j] - logits[step][j]));
      scale = std::max(scale, std::fabs(ref[j]));
      if (logits[step][j] > logits[step][best]) best = j;
    }
    worst = std::max(worst, diff / scale);
    ours->push_back(best);
  }
  return worst;
}

class Zoo : public ::testing::TestWithParam<std::string> {};

TEST_P(Zoo, PyTorchDevicesAndLlamaCppAgree) {
  if (!HaveTorch())
    GTEST_SKIP() << "/usr/bin/python3 cannot import torch (python3-torch)";
  models::TestModelSpec spec;
  spec.arch = GetParam();
  spec.seed = models::DefaultTestSeed(spec.arch);
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/zoo_", spec.arch);
  ASSERT_TRUE(models::WriteTestModelHf(spec, dir, /*also_gguf=*/true).ok());
  const std::string gguf = dir + "/model.gguf";
  const std::vector<int64_t> prompt = models::TestPromptIds();
  PyRun py = RunPy(dir, prompt);
  ASSERT_EQ(py.tokens.size(), static_cast<size_t>(kSteps));
  // Grok-1: llama.cpp's grok computes the experts unlike the HF module
  // (renormalised top-k weights, tanh GELU), so its GGUF is checked against
  // the reference's llama.cpp form of the same weights.
  const bool grok = spec.arch == "grok-1";
  PyRun py_gguf = grok ? RunPy(dir, prompt, false, " --grok_llamacpp") : py;
  ASSERT_EQ(py_gguf.tokens.size(), static_cast<size_t>(kSteps));
  const double margin = MinMargin(py);
  std::printf("%s: PyTorch greedy %s, top-1 margin >= %.3g\n",
              spec.arch.c_str(), absl::StrJoin(py.tokens, ",").c_str(), margin);
  ASSERT_GE(margin, 1e-3) << "seed " << spec.seed
                          << " has a near-tie; choose another";
  ASSERT_GE(MinMargin(py_gguf), 1e-3) << "seed " << spec.seed;
  const bool moe = spec.arch == "mixtral" || spec.arch == "qwen3_moe" || grok;
  if (grok) {
    // Attention soft-capping must act: some score beyond the cap, where
    // tanh is far from linear (tanh(1) = 0.76).
    std::printf("%s: largest |attention score| / max_attn_value %.3g\n",
                spec.arch.c_str(), py.cap_ratio);
    ASSERT_GE(py.cap_ratio, 1.0) << "soft-capping would be inactive";
    ASSERT_GE(py_gguf.route_margin, 1e-3);
  }
  if (moe) {
    std::printf(
        "%s: routing top-k margin (k-th vs next router logit) >= %.3g\n",
        spec.arch.c_str(), py.route_margin);
    ASSERT_GE(py.route_margin, 1e-3)
        << "seed " << spec.seed << " has a near-tie in routing";
  }

  std::vector<int64_t> cpu_gguf_tokens;
  for (const std::string& path : {dir, gguf}) {
    auto m = models::Load(path);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->config.model_type, spec.arch);
    const PyRun& want_py = path == gguf ? py_gguf : py;
    for (const char* device : {"reference", "cpu"}) {
      std::vector<int64_t> ours;
      double rel = RunTeacherForced(*m, device, prompt, want_py, &ours);
      std::printf("%s %s on %s: max|dlogit|/max|ref| %.3g, tokens %s\n",
                  spec.arch.c_str(), path == dir ? "HF" : "GGUF", device, rel,
                  ours == want_py.tokens ? "identical" : "DIFFER");
      EXPECT_LE(rel, 1e-4) << path << " " << device;
      EXPECT_EQ(ours, want_py.tokens) << path << " " << device;
      if (path == gguf && std::string(device) == "cpu") cpu_gguf_tokens = ours;
    }
    if (moe) CheckGatheredExperts(*m);
    if (path == dir) {
      std::vector<int64_t> ours;
      std::string why;
      double rel =
          OrtTeacherForced(m->eager, spec.arch, prompt, py, &ours, &why);
      if (rel < 0) {
        std::printf("%s: onnxruntime peer unavailable: %s\n", spec.arch.c_str(),
                    why.c_str());
      } else {
        std::printf(
            "%s HF export on onnxruntime: max|dlogit|/max|ref| %.3g, tokens "
            "%s\n",
            spec.arch.c_str(), rel, ours == py.tokens ? "identical" : "DIFFER");
        EXPECT_LE(rel, 1e-4);
        EXPECT_EQ(ours, py.tokens);
      }
    }
  }

  std::string why;
  std::string peers =
      testing::PeersDir("node_modules/node-llama-cpp/package.json", &why);
  if (peers.empty()) GTEST_SKIP() << "llama.cpp peer unavailable: " << why;
  int rc;
  std::string out = testing::RunCommand(
      absl::StrCat("node ",
                   testing::Runfile("tests/e2e/peers/llama_generate.mjs"), " '",
                   peers, "' '", gguf, "' 'ids:", absl::StrJoin(prompt, ","),
                   "' ", kSteps, " 2>&1"),
      &rc);
  ASSERT_EQ(rc, 0) << out.substr(0, 3000);
  std::vector<int64_t> peer = IntsAfter(out, "token_ids");
  ASSERT_EQ(IntsAfter(out, "prompt_ids"), prompt) << out.substr(0, 3000);
  // node-llama-cpp stops at (and does not yield) an end-of-generation token.
  std::vector<int64_t> want = cpu_gguf_tokens;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == 2) {
      want.resize(i);
      break;
    }
  }
  std::printf("%s: llama.cpp greedy %s (%s qeff cpu)\n", spec.arch.c_str(),
              absl::StrJoin(peer, ",").c_str(),
              peer == want ? "same as" : "DIFFERENT FROM");
  EXPECT_EQ(peer, want);
  EXPECT_GE(peer.size(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Families, Zoo,
                         ::testing::Values("qwen3", "gpt2", "mixtral",
                                           "qwen3_moe", "phi3", "grok-1"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// Phi-3 past longrope's original context (16 here): the sequence grows from
// 10 to 21 tokens, so the long factors take over at 17. PyTorch's no-cache
// forwards (each step's whole prefix) against the eager graph on each
// prefix, and PyTorch's HF-style cached generation (longrope_frequency_
// update per forward: keys keep the rotation they were written with)
// against the transformed graph on the reference and cpu devices.
TEST(ZooPhi3, LongRopePastTheOriginalContext) {
  if (!HaveTorch())
    GTEST_SKIP() << "/usr/bin/python3 cannot import torch (python3-torch)";
  models::TestModelSpec spec;
  spec.arch = "phi3";
  spec.seed = models::DefaultTestSeed(spec.arch);
  spec.longrope_original = 16;
  const std::string dir = ::testing::TempDir() + "/zoo_phi3_long";
  ASSERT_TRUE(models::WriteTestModelHf(spec, dir).ok());
  const std::vector<int64_t> prompt = models::TestPromptIds();
  PyRun full = RunPy(dir, prompt), cached = RunPy(dir, prompt, true);
  ASSERT_EQ(full.tokens.size(), static_cast<size_t>(kSteps));
  ASSERT_EQ(cached.tokens.size(), static_cast<size_t>(kSteps));
  ASSERT_GE(MinMargin(full), 1e-3);
  ASSERT_GE(MinMargin(cached), 1e-3);
  auto m = models::Load(dir);
  ASSERT_TRUE(m.ok()) << m.status();
  ir::Graph g = m->eager;
  ASSERT_TRUE(ir::InferShapes(g).ok());
  double worst = 0;
  std::vector<int64_t> ids = prompt;
  const int64_t v = m->config.vocab_size;
  for (int step = 0; step < kSteps; ++step) {
    const int64_t s = static_cast<int64_t>(ids.size());
    std::vector<int64_t> pos(s);
    for (int64_t i = 0; i < s; ++i) pos[i] = i;
    auto res =
        ir::Evaluator::Run(g, {{"input_ids", ir::Tensor::I64({1, s}, ids)},
                               {"position_ids", ir::Tensor::I64({1, s}, pos)}});
    ASSERT_TRUE(res.ok()) << res.status();
    const float* last = (*res)[0].data<float>() + (s - 1) * v;
    double diff = 0, scale = 0;
    for (int64_t j = 0; j < v; ++j) {
      diff = std::max(diff, std::fabs(full.logits[step][j] - last[j]));
      scale = std::max(scale, std::fabs(full.logits[step][j]));
    }
    worst = std::max(worst, diff / scale);
    ids.push_back(full.tokens[step]);
  }
  std::printf("phi3 longrope past 16: eager vs PyTorch no-cache %.3g\n", worst);
  EXPECT_LE(worst, 1e-4);
  for (const char* device : {"reference", "cpu"}) {
    std::vector<int64_t> ours;
    double rel = RunTeacherForced(*m, device, prompt, cached, &ours);
    std::printf("phi3 longrope past 16, cached, %s vs PyTorch cached: %.3g\n",
                device, rel);
    EXPECT_LE(rel, 1e-4) << device;
    EXPECT_EQ(ours, cached.tokens) << device;
  }
}

// Qwen3-MoE with a dense layer (HF mlp_only_layers = [0]; layer 1 routed):
// PyTorch against the reference and cpu devices; the cpu driver runs top_k
// experts for the one MoE layer only.
TEST(ZooQwen3MoE, MlpOnlyLayers) {
  if (!HaveTorch())
    GTEST_SKIP() << "/usr/bin/python3 cannot import torch (python3-torch)";
  models::TestModelSpec spec;
  spec.arch = "qwen3_moe";
  spec.seed = models::DefaultTestSeed(spec.arch);
  spec.mlp_only_layers = {0};
  const std::string dir = ::testing::TempDir() + "/zoo_qwen3_moe_dense0";
  ASSERT_TRUE(models::WriteTestModelHf(spec, dir).ok());
  const std::vector<int64_t> prompt = models::TestPromptIds();
  PyRun py = RunPy(dir, prompt);
  ASSERT_EQ(py.tokens.size(), static_cast<size_t>(kSteps));
  ASSERT_GE(MinMargin(py), 1e-3);
  ASSERT_GE(py.route_margin, 1e-3);
  auto m = models::Load(dir);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->config.llama.LayerIsMoE(0));
  EXPECT_TRUE(m->config.llama.LayerIsMoE(1));
  for (const char* device : {"reference", "cpu"}) {
    std::vector<int64_t> ours;
    double rel = RunTeacherForced(*m, device, prompt, py, &ours);
    std::printf("qwen3_moe mlp_only_layers [0], %s: %.3g\n", device, rel);
    EXPECT_LE(rel, 1e-4) << device;
    EXPECT_EQ(ours, py.tokens) << device;
  }
  CheckGatheredExperts(*m);
  EXPECT_FALSE(models::WriteTestModelGguf(spec, dir + "/x.gguf").ok());
}

// Runs llama.cpp on `gguf`; "" in *why and the tokens, or the reason.
std::vector<int64_t> LlamaCppGreedy(const std::string& gguf,
                                    const std::vector<int64_t>& prompt,
                                    int steps, std::string* why) {
  std::string peers =
      testing::PeersDir("node_modules/node-llama-cpp/package.json", why);
  if (peers.empty()) return {};
  int rc;
  std::string out = testing::RunCommand(
      absl::StrCat("node ",
                   testing::Runfile("tests/e2e/peers/llama_generate.mjs"), " '",
                   peers, "' '", gguf, "' 'ids:", absl::StrJoin(prompt, ","),
                   "' ", steps, " 2>&1"),
      &rc);
  EXPECT_EQ(rc, 0) << out.substr(0, 3000);
  return IntsAfter(out, "token_ids");
}

// Quantized experts (GGUF Q8_0 / Q4_0 ffn_{gate,up,down}_exps, as
// llama-quantize leaves them): the gathered kernel reads the blocks as
// stored. The cpu device (int8 activations for Q8_0/Q4_0 weights, as
// llama.cpp) writes llama.cpp's greedy tokens; the reference device
// (exact dequantization) stays within 2e-2 of it.
class ZooQuant : public ::testing::TestWithParam<
                     std::tuple<std::string, ir::QuantFormat>> {};

TEST_P(ZooQuant, QuantizedExperts) {
  models::TestModelSpec spec;
  spec.arch = std::get<0>(GetParam());
  const ir::QuantFormat format = std::get<1>(GetParam());
  const char* arch = spec.arch.c_str();
  spec.seed = models::DefaultTestSeed(spec.arch);
  // Every expert matrix in 32-blocks (grok-1's experts: 64 x 64).
  if (spec.arch == "mixtral") spec.intermediate_size = 192;
  spec.gguf_weights = format;
  const std::string gguf = absl::StrCat(::testing::TempDir(), "/", spec.arch,
                                        "_", static_cast<int>(format), ".gguf");
  ASSERT_TRUE(models::WriteTestModelGguf(spec, gguf).ok());
  auto m = models::Load(gguf);
  ASSERT_TRUE(m.ok()) << m.status();
  int quantized_stacks = 0;
  for (const auto& [name, t] : m->weights)
    quantized_stacks += t.rank() == 3 && t.is_quantized();
  EXPECT_EQ(quantized_stacks, 3 * spec.num_hidden_layers);
  const std::vector<int64_t> prompt = models::TestPromptIds();
  const int64_t n = static_cast<int64_t>(prompt.size());
  std::vector<std::vector<float>> logits[2];
  std::vector<int64_t> tokens[2];
  const char* devices[2] = {"cpu", "reference"};
  for (int d = 0; d < 2; ++d) {
    auto device = hw::OpenDevice(devices[d]);
    ASSERT_TRUE(device.ok());
    auto compiled = engine::CompileLM(
        m->eager, **device, hw::PrefillDecodeSpecializations(1, n, kCtx), {});
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    if (d == 0) {
      // Every MoE step of the cpu program reads its stacks packed in the
      // quantized panel layout (packed_experts, the sixth int).
      const auto* cp =
          dynamic_cast<const hw::cpu::CpuProgram*>(compiled->program.get());
      ASSERT_NE(cp, nullptr);
      for (const auto& plan : cp->plans)
        for (const auto& step : plan.steps)
          if (step.op == "MoE") {
            ASSERT_EQ(step.ints.size(), 6u);
            EXPECT_EQ(step.ints[5], 1) << step.label;
          }
    }
    auto session = (*device)->Load(compiled->program);
    ASSERT_TRUE(session.ok());
    engine::Generator gen(session->get());
    engine::GenerationOptions o;
    o.prefill_seq_len = n;
    o.ctx_len = kCtx;
    auto l = gen.Prefill(prompt, o);
    for (int step = 0; step < kSteps; ++step) {
      ASSERT_TRUE(l.ok()) << l.status();
      logits[d].push_back(l->ToFloats());
      // Teacher-forced on the cpu device's tokens.
      const int64_t next = d == 0 ? engine::Argmax(*l) : tokens[0][step];
      tokens[d].push_back(engine::Argmax(*l));
      l = gen.Decode(next, n + step);
    }
  }
  double diff = 0, scale = 0;
  for (int step = 0; step < kSteps; ++step) {
    for (size_t j = 0; j < logits[0][step].size(); ++j) {
      diff = std::max(
          diff, std::fabs(double(logits[0][step][j]) - logits[1][step][j]));
      scale = std::max(scale, std::fabs(double(logits[1][step][j])));
    }
  }
  std::printf("%s %s experts: cpu vs reference max|dlogit|/max|ref| %.3g\n",
              arch, std::string(ir::QuantFormatName(format)).c_str(),
              diff / scale);
  if (spec.arch == "grok-1") {
    // The cpu driver's quantized Linear rounds activations to int8 (as
    // llama.cpp does); this test model's attention is nearly hard (scores
    // up to 50 before the soft-cap of 30, so that capping acts), and its
    // logits were seen 0.36 (Q8_0) and 0.03 (Q4_0) of max|logit| away from
    // the exact dequantized reference's (Q8_0 weight rounding alone moves
    // PyTorch's logits 0.11): no logit bound here, the greedy tokens must
    // agree (and llama.cpp's, below).
    EXPECT_EQ(tokens[0], tokens[1]);
  } else {
    EXPECT_LE(diff / scale, 2e-2);
  }
  std::string why;
  std::vector<int64_t> peer = LlamaCppGreedy(gguf, prompt, kSteps, &why);
  if (!why.empty() && peer.empty())
    GTEST_SKIP() << "llama.cpp peer unavailable: " << why;
  std::vector<int64_t> want = tokens[0];
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == 2) {
      want.resize(i);
      break;
    }
  }
  std::printf("%s %s: llama.cpp %s, qeff cpu %s\n", arch,
              std::string(ir::QuantFormatName(format)).c_str(),
              absl::StrJoin(peer, ",").c_str(),
              absl::StrJoin(want, ",").c_str());
  EXPECT_EQ(peer, want);
}

INSTANTIATE_TEST_SUITE_P(
    Formats, ZooQuant,
    ::testing::Combine(::testing::Values("mixtral", "grok-1"),
                       ::testing::Values(ir::QuantFormat::kQ8_0,
                                         ir::QuantFormat::kQ4_0)),
    [](const auto& info) {
      std::string n = absl::StrCat(
          std::get<0>(info.param), "_",
          std::string(ir::QuantFormatName(std::get<1>(info.param))));
      std::replace(n.begin(), n.end(), '-', '_');
      return n;
    });

// A GGUF with one fused attn_qkv (+ bias) per layer instead of attn_q/k/v
// (llama.cpp's create_tensor_qkv accepts both): the same logits as the
// unfused file on the reference device, and llama.cpp's greedy tokens on
// the cpu device. Qwen2 (q/k/v biases) and Qwen3 (q/k norms).
class ZooFusedQkv : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooFusedQkv, FusedAttnQkvGguf) {
  models::TestModelSpec spec;
  spec.arch = GetParam();
  spec.seed = models::DefaultTestSeed(spec.arch);
  const std::string dir = ::testing::TempDir() + "/fused_" + spec.arch;
  const std::string plain = dir + "_plain.gguf", fused = dir + "_fused.gguf";
  ASSERT_TRUE(models::WriteTestModelGguf(spec, plain).ok());
  spec.gguf_fused_qkv = true;
  ASSERT_TRUE(models::WriteTestModelGguf(spec, fused).ok());
  auto a = models::Load(plain), b = models::Load(fused);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  if (spec.arch == "grok-1") {
    EXPECT_TRUE(b->weights.contains("model.layers.0.attn.qkv_proj.weight"));
    EXPECT_FALSE(b->weights.contains("model.layers.0.attn.q_proj.weight"));
  } else {
    EXPECT_FALSE(a->config.llama.fused_qkv);
    EXPECT_TRUE(b->config.llama.fused_qkv);
    EXPECT_TRUE(
        b->weights.contains("model.layers.0.self_attn.qkv_proj.weight"));
  }
  const std::vector<int64_t> prompt = models::TestPromptIds();
  const int64_t s = static_cast<int64_t>(prompt.size());
  std::vector<int64_t> pos(s);
  for (int64_t i = 0; i < s; ++i) pos[i] = i;
  std::vector<float> out[2];
  for (int k = 0; k < 2; ++k) {
    ir::Graph g = (k ? b : a)->eager;
    ASSERT_TRUE(ir::InferShapes(g).ok());
    auto r =
        ir::Evaluator::Run(g, {{"input_ids", ir::Tensor::I64({1, s}, prompt)},
                               {"position_ids", ir::Tensor::I64({1, s}, pos)}});
    ASSERT_TRUE(r.ok()) << r.status();
    out[k] = (*r)[0].ToFloats();
  }
  double diff = 0;
  for (size_t j = 0; j < out[0].size(); ++j)
    diff = std::max(diff, std::fabs(double(out[0][j]) - out[1][j]));
  EXPECT_LE(diff, 1e-5);
  auto device = hw::OpenDevice("cpu");
  ASSERT_TRUE(device.ok());
  auto compiled = engine::CompileLM(
      b->eager, **device, hw::PrefillDecodeSpecializations(1, s, kCtx), {});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  auto session = (*device)->Load(compiled->program);
  ASSERT_TRUE(session.ok());
  engine::Generator gen(session->get());
  engine::GenerationOptions o;
  o.prefill_seq_len = s;
  o.ctx_len = kCtx;
  o.generation_len = kSteps;
  o.eos_id = 2;
  auto r = gen.Generate(prompt, o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<int64_t> ours = r->token_ids;
  if (r->stopped_at_eos) ours.pop_back();
  std::string why;
  std::vector<int64_t> peer = LlamaCppGreedy(fused, prompt, kSteps, &why);
  if (!why.empty() && peer.empty())
    GTEST_SKIP() << "llama.cpp peer unavailable: " << why;
  std::printf("%s fused attn_qkv GGUF: llama.cpp %s, qeff cpu %s\n",
              spec.arch.c_str(), absl::StrJoin(peer, ",").c_str(),
              absl::StrJoin(ours, ",").c_str());
  EXPECT_EQ(peer, ours);
}

INSTANTIATE_TEST_SUITE_P(Families, ZooFusedQkv,
                         ::testing::Values("qwen2", "qwen3", "grok-1"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// Mixtral with f16 and bf16 expert weights (as HF checkpoints ship them):
// the cpu driver's MoE kernel reads the stacks as stored (no f32 copy); its
// logits equal the reference device's (which converts exactly) within
// 1e-5 relative for f16; bf16 experts run with bf16 activations (as
// llama.cpp; hw/cpu/linear_internal.h), stated bound 1e-2, measured 1.1e-3.
TEST(ZooHalfExperts, F16AndBf16ExpertStacks) {
  for (ir::DType dt : {ir::DType::kF16, ir::DType::kBF16}) {
    models::TestModelSpec spec;
    spec.arch = "mixtral";
    spec.seed = models::DefaultTestSeed(spec.arch);
    auto tm = models::MakeTestModel(spec);
    ASSERT_TRUE(tm.ok());
    models::WeightMap w = tm->Weights();
    for (auto& [name, t] : w) {
      if (name.find(".experts.") == std::string::npos) continue;
      ir::Tensor h = ir::Tensor::Zeros(dt, t.dims());
      for (int64_t i = 0; i < t.num_elements(); ++i)
        h.mutable_data<uint16_t>()[i] =
            dt == ir::DType::kF16 ? ir::FloatToHalf(t.data<float>()[i])
                                  : ir::FloatToBFloat16(t.data<float>()[i]);
      t = h;
    }
    auto eager = models::BuildEager(tm->config, w);
    ASSERT_TRUE(eager.ok()) << eager.status();
    const std::vector<int64_t> prompt = models::TestPromptIds();
    const int64_t n = static_cast<int64_t>(prompt.size());
    std::vector<float> out[2];
    const char* devices[2] = {"cpu", "reference"};
    for (int d = 0; d < 2; ++d) {
      auto device = hw::OpenDevice(devices[d]);
      ASSERT_TRUE(device.ok());
      auto compiled = engine::CompileLM(
          *eager, **device, hw::PrefillDecodeSpecializations(1, n, kCtx), {});
      ASSERT_TRUE(compiled.ok()) << compiled.status();
      if (d == 0) {
        // The program keeps the expert stacks in their half type.
        const auto* cp =
            dynamic_cast<const hw::cpu::CpuProgram*>(compiled->program.get());
        ASSERT_NE(cp, nullptr);
        int half_stacks = 0;
        for (const ir::Tensor& c : cp->constants)
          half_stacks += c.rank() == 3 && c.dtype() == dt;
        EXPECT_EQ(half_stacks, 3 * spec.num_hidden_layers);
      }
      auto session = (*device)->Load(compiled->program);
      ASSERT_TRUE(session.ok());
      engine::Generator gen(session->get());
      engine::GenerationOptions o;
      o.prefill_seq_len = n;
      o.ctx_len = kCtx;
      auto l = gen.Prefill(prompt, o);
      ASSERT_TRUE(l.ok()) << l.status();
      l = gen.Decode(engine::Argmax(*l), n);
      ASSERT_TRUE(l.ok()) << l.status();
      out[d] = l->ToFloats();
    }
    double diff = 0, scale = 0;
    for (size_t j = 0; j < out[0].size(); ++j) {
      diff = std::max(diff, std::fabs(double(out[0][j]) - out[1][j]));
      scale = std::max(scale, std::fabs(double(out[1][j])));
    }
    std::printf("mixtral %s experts: cpu vs reference %.3g\n",
                dt == ir::DType::kF16 ? "f16" : "bf16", diff / scale);
    EXPECT_LE(diff / scale, dt == ir::DType::kF16 ? 1e-5 : 1e-2);
  }
}

// The cpu driver's MoE kernel against the evaluator's (reference device)
// for every attribute combination the op allows (softmax/sigmoid scoring,
// renormalisation, scores on the input), on the Mixtral test model with its
// MoE nodes' attributes rewritten; top_k 1, 2 and 4 (all experts).
TEST(ZooMoEKernel, EveryAttributeCombinationMatchesTheEvaluator) {
  models::TestModelSpec spec;
  spec.arch = "mixtral";
  spec.seed = models::DefaultTestSeed(spec.arch);
  auto tm = models::MakeTestModel(spec);
  ASSERT_TRUE(tm.ok());
  auto base = models::BuildEager(tm->config, tm->Weights());
  ASSERT_TRUE(base.ok()) << base.status();
  const std::vector<int64_t> prompt = models::TestPromptIds();
  const int64_t n = static_cast<int64_t>(prompt.size());
  for (int64_t k : {1, 2, 4}) {
    for (int combo = 0; combo < 24; ++combo) {
      ir::Graph g = *base;
      int moe_nodes = 0;
      for (ir::NodeId id : g.LiveNodes()) {
        ir::Node& node = g.node(id);
        if (node.op_type != "MoE") continue;
        ++moe_nodes;
        node.attrs["top_k"] = ir::Attribute::Int(k);
        node.attrs["scoring"] = ir::Attribute::Int(combo & 1);
        node.attrs["norm_topk_prob"] = ir::Attribute::Int((combo >> 1) & 1);
        node.attrs["score_on_input"] = ir::Attribute::Int((combo >> 2) & 1);
        node.attrs["activation"] = ir::Attribute::Int(combo >> 3);
      }
      ASSERT_EQ(moe_nodes, spec.num_hidden_layers);
      std::vector<float> out[2];
      const char* devices[2] = {"cpu", "reference"};
      for (int d = 0; d < 2; ++d) {
        auto device = hw::OpenDevice(devices[d]);
        ASSERT_TRUE(device.ok());
        auto compiled = engine::CompileLM(
            g, **device, hw::PrefillDecodeSpecializations(1, n, kCtx), {});
        ASSERT_TRUE(compiled.ok()) << compiled.status();
        auto session = (*device)->Load(compiled->program);
        ASSERT_TRUE(session.ok());
        engine::Generator gen(session->get());
        engine::GenerationOptions o;
        o.prefill_seq_len = n;
        o.ctx_len = kCtx;
        auto l = gen.Prefill(prompt, o);
        ASSERT_TRUE(l.ok()) << l.status();
        out[d] = l->ToFloats();
        l = gen.Decode(3, n);
        ASSERT_TRUE(l.ok()) << l.status();
        std::vector<float> dec = l->ToFloats();
        out[d].insert(out[d].end(), dec.begin(), dec.end());
      }
      double diff = 0, scale = 0;
      for (size_t j = 0; j < out[0].size(); ++j) {
        diff = std::max(diff, std::fabs(double(out[0][j]) - out[1][j]));
        scale = std::max(scale, std::fabs(double(out[1][j])));
      }
      EXPECT_LE(diff / scale, 1e-5) << "top_k " << k << " combo " << combo;
    }
  }
}

TEST(ZooLoad, UnsupportedGgufArchitectureNamesTheSupportedOnes) {
  models::TestModelSpec spec;
  spec.arch = "gpt2";
  const std::string path = ::testing::TempDir() + "/bad_arch.gguf";
  ASSERT_TRUE(models::WriteTestModelGguf(spec, path).ok());
  // Rewrite general.architecture: the value "gpt2" -> "gptj" (same length).
  std::string bytes;
  ASSERT_TRUE(testing::ReadFile(path, &bytes));
  size_t at = bytes.find(std::string("gpt2", 4), bytes.find("general.arch"));
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 4, "gptj");
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  auto m = models::Load(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("'gptj' is not supported"),
            std::string::npos)
      << m.status();
  EXPECT_NE(m.status().message().find("qwen3"), std::string::npos)
      << m.status();
}

}  // namespace
}  // namespace qeff
