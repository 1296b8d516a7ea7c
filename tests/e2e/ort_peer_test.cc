// Peer test: qeff's exported ONNX (transform_lm + export) run by stock
// onnxruntime as a QEfficient user's runtime would — prefill in chunks with
// right padding (position_ids = -1), then decode, feeding each
// *_RetainedState back — gives the reference device's logits under teacher
// forcing (max |diff| <= 1e-4) and the same greedy tokens, for prompts
// shorter than, equal to and longer than one chunk, up to a full context;
// for the Llama, Mistral, Qwen2, Qwen3, GPT-2, Mixtral, Qwen3-MoE and Phi-3
// test models, the real stories260K,
// and the continuous-batching export with an idle slot. The cpu driver runs
// the same steps and must agree with the reference too.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/device_registry.h"
#include "hw/driver.h"
#include "hw/graph_io.h"
#include "hw/reference_driver.h"
#include "ir/dtype.h"
#include "models/arch/registry.h"
#include "models/model_loader.h"
#include "models/test_model.h"
#include "passes/export.h"
#include "tests/e2e/ort_steps.h"
#include "tests/util/test_util.h"

namespace qeff {
namespace {

using Step = testing::OrtStep;
using testing::OrtPeersDir;

std::vector<std::vector<float>> RunOrt(const std::string& peers,
                                       const std::string& onnx,
                                       const std::vector<hw::BoundIO>& state,
                                       const std::vector<Step>& steps) {
  std::string error;
  auto logits = testing::RunOrtSteps(peers, onnx, state, steps, &error);
  EXPECT_TRUE(error.empty()) << error;
  return logits;
}

struct Comparison {
  double worst = 0;
  int64_t rows = 0, same_argmax = 0;
};

// Compares live rows of per-step logits [rows, 1, V] with `ref`.
void Compare(const std::vector<Step>& steps, const std::vector<ir::Tensor>& ref,
             const std::vector<std::vector<float>>& got, Comparison* c) {
  for (size_t i = 0; i < steps.size() && i < got.size(); ++i) {
    int64_t v = ref[i].dims().back();
    ASSERT_EQ(static_cast<int64_t>(got[i].size()), ref[i].num_elements());
    for (int64_t r = 0; r < steps[i].rows; ++r) {
      if (!steps[i].live[r]) continue;
      int64_t best_ref = 0, best_got = 0;
      for (int64_t j = 0; j < v; ++j) {
        double a = ref[i].GetDouble(r * v + j), b = got[i][r * v + j];
        c->worst = std::max(c->worst, std::fabs(a - b));
        if (a > ref[i].GetDouble(r * v + best_ref)) best_ref = j;
        if (b > got[i][r * v + best_got]) best_got = j;
      }
      ++c->rows;
      c->same_argmax += best_ref == best_got;
    }
  }
}

// Runs `steps` on the reference (recording logits), the cpu driver and
// onnxruntime over the exported ONNX; checks all agree.
void CheckDevicesAndOrt(const ir::Graph& transformed,
                        const std::vector<hw::Specialization>& specs,
                        const std::vector<Step>& steps,
                        const std::vector<ir::Tensor>& ref,
                        const std::string& name) {
  std::string why;
  std::string peers = OrtPeersDir(&why);
  auto io = hw::BindGraphIO(transformed, specs);
  ASSERT_TRUE(io.ok()) << io.status();

  auto cpu = hw::OpenDevice("cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  auto cpu_prog = (*cpu)->Compile(transformed, specs, {});
  ASSERT_TRUE(cpu_prog.ok()) << cpu_prog.status();
  auto cpu_s = (*cpu)->Load(*cpu_prog);
  ASSERT_TRUE(cpu_s.ok()) << cpu_s.status();
  std::vector<std::vector<float>> cpu_logits;
  for (const Step& s : steps) {
    auto out = (*cpu_s)->Run(s.spec, s.Inputs());
    ASSERT_TRUE(out.ok()) << out.status();
    cpu_logits.push_back(out->at("logits").ToFloats());
  }
  Comparison cc;
  Compare(steps, ref, cpu_logits, &cc);
  std::printf(
      "%s: cpu vs reference: max |dlogit| %.3g, greedy agrees %lld/%lld\n",
      name.c_str(), cc.worst, static_cast<long long>(cc.same_argmax),
      static_cast<long long>(cc.rows));
  EXPECT_LE(cc.worst, 1e-4);
  EXPECT_EQ(cc.same_argmax, cc.rows);

  if (peers.empty()) GTEST_SKIP() << "onnxruntime peer unavailable: " << why;
  passes::ExportArtifactOptions eo;
  eo.qeff_home = absl::StrCat(::testing::TempDir(), "/qeff_home");
  eo.architecture = "Test";
  eo.params.Set("test", base::JsonValue::String(name));
  auto art = passes::ExportArtifact(transformed, eo);
  ASSERT_TRUE(art.ok()) << art.status();
  auto ort = RunOrt(peers, art->onnx_path, io->state, steps);
  Comparison oc;
  Compare(steps, ref, ort, &oc);
  std::printf(
      "%s: onnxruntime vs reference: %zu steps, max |dlogit| %.3g, greedy "
      "agrees "
      "%lld/%lld\n",
      name.c_str(), steps.size(), oc.worst,
      static_cast<long long>(oc.same_argmax), static_cast<long long>(oc.rows));
  EXPECT_LE(oc.worst, 1e-4);
  EXPECT_EQ(oc.same_argmax, oc.rows);
}

// Prefill chunks of `chunk`, then decode the reference's own greedy tokens
// until the context is full; `greedy` gets those tokens (which onnxruntime
// and cpu are checked to share).
void CheckLmInto(const ir::Graph& eager, const std::string& name,
                 const std::vector<int64_t>& prompt, int64_t chunk,
                 int64_t ctx_len, std::vector<int64_t>* greedy) {
  auto transformed = engine::TransformForDevice(eager, {});
  ASSERT_TRUE(transformed.ok()) << transformed.status();
  auto specs = hw::PrefillDecodeSpecializations(1, chunk, ctx_len);
  auto device = hw::MakeReferenceDevice();
  auto prog = device->Compile(*transformed, specs, {});
  ASSERT_TRUE(prog.ok()) << prog.status();
  auto session = device->Load(*prog);
  ASSERT_TRUE(session.ok());
  std::vector<Step> steps;
  std::vector<ir::Tensor> ref;
  const int64_t n = static_cast<int64_t>(prompt.size());
  auto run = [&](Step s) {
    auto out = (*session)->Run(s.spec, s.Inputs());
    ASSERT_TRUE(out.ok()) << out.status();
    ref.push_back(out->at("logits"));
    steps.push_back(std::move(s));
  };
  for (int64_t start = 0; start < n; start += chunk) {
    Step s{"Prefill", 1, chunk, {}, {}, {}, {true}};
    for (int64_t j = 0; j < chunk; ++j) {
      bool real = start + j < n;
      s.ids.push_back(real ? prompt[start + j] : 0);
      s.pos.push_back(real ? start + j : -1);
    }
    run(s);
  }
  for (int64_t p = n; p < ctx_len; ++p) {
    greedy->push_back(engine::Argmax(ref.back()));
    run(Step{"Decode", 1, 1, {greedy->back()}, {p}, {}, {true}});
  }
  greedy->push_back(engine::Argmax(ref.back()));
  CheckDevicesAndOrt(
      *transformed, specs, steps, ref,
      absl::StrCat(name, " prompt ", n, " chunk ", chunk, " ctx ", ctx_len));
}

std::vector<int64_t> CheckLm(const ir::Graph& eager, const std::string& name,
                             const std::vector<int64_t>& prompt, int64_t chunk,
                             int64_t ctx_len) {
  std::vector<int64_t> greedy;
  CheckLmInto(eager, name, prompt, chunk, ctx_len, &greedy);
  return greedy;
}

class OrtPeer : public ::testing::TestWithParam<std::tuple<std::string, int>> {
};

TEST_P(OrtPeer, MatchesReference) {
  models::TestModelSpec spec;
  spec.arch = std::get<0>(GetParam());
  spec.seed = models::DefaultTestSeed(spec.arch);
  auto m = models::MakeTestModel(spec);
  ASSERT_TRUE(m.ok()) << m.status();
  auto eager = models::BuildEager(m->config, m->Weights());
  ASSERT_TRUE(eager.ok()) << eager.status();
  const int len = std::get<1>(GetParam());
  std::vector<int64_t> prompt;
  for (int64_t i = 0; i < len; ++i)
    prompt.push_back((i * 53 + 7) % m->config.vocab_size);
  // ctx 20 is not a multiple of the chunk (8): the last chunk of a 20-token
  // prompt is padded and writes slot ctx_len - 1. Mistral's window is 8.
  CheckLm(*eager, spec.arch, prompt, 8, 20);
}

// Shorter than, equal to and longer than one chunk, and a full context.
INSTANTIATE_TEST_SUITE_P(Llama, OrtPeer,
                         ::testing::Combine(::testing::Values("llama"),
                                            ::testing::Values(5, 8, 13, 20)));
INSTANTIATE_TEST_SUITE_P(
    Others, OrtPeer,
    ::testing::Combine(::testing::Values("mistral", "qwen2", "qwen3", "gpt2",
                                         "gemma3_text", "llama4_text"),
                       ::testing::Values(5, 13)));
// The model zoo's MoE and fused-projection families: the MoE op exported as
// standard ops (TopK, Softmax, GatherElements, ScatterElements, batched
// MatMul) run by stock onnxruntime; the cpu driver's gathered-expert kernel.
INSTANTIATE_TEST_SUITE_P(Zoo, OrtPeer,
                         ::testing::Combine(::testing::Values("mixtral",
                                                              "qwen3_moe",
                                                              "phi3", "grok-1"),
                                            ::testing::Values(5, 13)));

// Weights over export's fold limit (passes::kExportFoldMaxInputBytes): the
// ONNX keeps them as stored, f32 behind a Transpose and f16 behind a Cast
// and a Transpose (hidden 768: a 768 x 768 matrix is 2.4 MB in f32, 1.2 MB
// in f16), and stock onnxruntime runs it as it runs folded weights.
TEST(OrtPeerLargeWeights, UnfoldedF32AndF16Weights) {
  for (ir::DType dt : {ir::DType::kF32, ir::DType::kF16}) {
    models::TestModelSpec spec;
    spec.arch = "llama";
    spec.seed = models::DefaultTestSeed(spec.arch);
    spec.hidden_size = 768;
    spec.intermediate_size = 1024;
    spec.num_hidden_layers = 1;
    auto m = models::MakeTestModel(spec);
    ASSERT_TRUE(m.ok()) << m.status();
    models::WeightMap w = m->Weights();
    if (dt == ir::DType::kF16) {
      for (auto& [name, t] : w) {
        if (t.rank() != 2) continue;
        ir::Tensor h = ir::Tensor::Zeros(dt, t.dims());
        for (int64_t i = 0; i < t.num_elements(); ++i)
          h.mutable_data<uint16_t>()[i] = ir::FloatToHalf(t.data<float>()[i]);
        t = h;
      }
    }
    auto eager = models::BuildEager(m->config, w);
    ASSERT_TRUE(eager.ok()) << eager.status();
    CheckLm(*eager, dt == ir::DType::kF16 ? "llama-768-f16" : "llama-768-f32",
            {1, 5, 9, 13, 17}, 8, 10);
  }
}

TEST(OrtPeerStories, Stories260KMatchesReference) {
  auto m = models::Load(testing::Stories260KGguf());
  ASSERT_TRUE(m.ok()) << m.status();
  auto ids = m->tokenizer->Encode("Once upon a time", true);
  ASSERT_TRUE(ids.ok());
  // llama.cpp's greedy continuation of this prompt on this file
  // (tests/e2e/llamacpp_peer_test.cc checks it against the live peer): the
  // exported ONNX run by onnxruntime writes the same story.
  const std::vector<int64_t> llama_cpp = {
      432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401,
      396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433,
      426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388,
      426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267,
      414, 270, 333, 415, 426, 13,  438, 310, 439, 419, 357, 336};
  std::vector<int64_t> prompt(ids->begin(), ids->end());
  int64_t ctx = static_cast<int64_t>(prompt.size() + llama_cpp.size()) - 1;
  std::vector<int64_t> greedy =
      CheckLm(m->eager, "stories260K", prompt, 8, ctx);
  EXPECT_EQ(greedy, llama_cpp);
  std::vector<int32_t> t(greedy.begin(), greedy.end());
  auto text = m->tokenizer->Decode(t);
  ASSERT_TRUE(text.ok());
  std::printf("stories260K via onnxruntime: %s\n", text->c_str());
}

// Continuous batching: prompts prefilled into cache rows 2 and 0 of 3, then
// decoded together with row 1 idle (position -1).
TEST(OrtPeerContinuousBatching, IdleSlotAndSlotsOutOfOrder) {
  models::TestModelSpec spec;
  spec.seed = models::DefaultTestSeed(spec.arch);
  auto m = models::MakeTestModel(spec);
  ASSERT_TRUE(m.ok()) << m.status();
  auto eager = models::BuildEager(m->config, m->Weights());
  ASSERT_TRUE(eager.ok());
  auto transformed =
      engine::TransformForDevice(*eager, {.continuous_batching = true});
  ASSERT_TRUE(transformed.ok()) << transformed.status();
  const int64_t ctx = 16, fbs = 3;
  std::vector<hw::Specialization> specs = {{"Prefill",
                                            {{"batch_size", 1},
                                             {"seq_len", 4},
                                             {"ctx_len", ctx},
                                             {"full_batch_size", fbs}}},
                                           {"Decode",
                                            {{"batch_size", fbs},
                                             {"seq_len", 1},
                                             {"ctx_len", ctx},
                                             {"full_batch_size", fbs}}}};
  auto device = hw::MakeReferenceDevice();
  auto prog = device->Compile(*transformed, specs, {});
  ASSERT_TRUE(prog.ok()) << prog.status();
  auto session = device->Load(*prog);
  ASSERT_TRUE(session.ok());
  std::vector<Step> steps;
  std::vector<ir::Tensor> ref;
  auto run = [&](Step s) {
    auto out = (*session)->Run(s.spec, s.Inputs());
    ASSERT_TRUE(out.ok()) << out.status();
    ref.push_back(out->at("logits"));
    steps.push_back(std::move(s));
  };
  const std::vector<std::vector<int64_t>> prompts = {{5, 9, 30, 7, 11},
                                                     {42, 3, 17}};
  const int64_t slots[2] = {2, 0};
  std::vector<int64_t> next(2), length(2);
  for (int k = 0; k < 2; ++k) {
    const auto& p = prompts[k];
    for (size_t start = 0; start < p.size(); start += 4) {
      Step s{"Prefill", 1, 4, {}, {}, {slots[k]}, {true}};
      for (size_t j = 0; j < 4; ++j) {
        bool real = start + j < p.size();
        s.ids.push_back(real ? p[start + j] : 0);
        s.pos.push_back(real ? static_cast<int64_t>(start + j) : -1);
      }
      run(s);
    }
    next[k] = engine::Argmax(ref.back());
    length[k] = static_cast<int64_t>(p.size());
  }
  for (int t = 0; t < 4; ++t) {
    // Rows: sequence 0 (cache row 2), idle (row 1), sequence 1 (row 0).
    Step s{"Decode",
           3,
           1,
           {next[0], 0, next[1]},
           {length[0], -1, length[1]},
           {2, 1, 0},
           {true, false, true}};
    run(s);
    const ir::Tensor& l = ref.back();
    int64_t v = l.dims().back();
    for (int k = 0; k < 2; ++k) {
      int64_t row = k == 0 ? 0 : 2, best = 0;
      for (int64_t j = 1; j < v; ++j)
        if (l.GetDouble(row * v + j) > l.GetDouble(row * v + best)) best = j;
      next[k] = best;
      ++length[k];
    }
  }
  CheckDevicesAndOrt(*transformed, specs, steps, ref,
                     "llama continuous batching");
}

}  // namespace
}  // namespace qeff
