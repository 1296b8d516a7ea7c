// Peer test: qeff's exported ONNX (transform_lm + export) run by stock
// onnxruntime as a QEfficient user's runtime would — prefill in chunks with
// right padding (position_ids = -1), then decode, feeding each
// *_RetainedState back — gives the reference device's logits under teacher
// forcing (max |diff| <= 1e-4) for prompts shorter than, equal to and longer
// than one chunk, up to a full context; and the same greedy tokens.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/driver.h"
#include "hw/graph_io.h"
#include "hw/reference_driver.h"
#include "models/model_loader.h"
#include "models/test_model.h"
#include "passes/export.h"

namespace qeff {
namespace {

struct Step {
  std::vector<int64_t> ids, pos;
  std::string spec = "Prefill";
};

std::string PeersDir(std::string* why) {
  const char* p = std::getenv("QEFF_PEERS_DIR");
  if (!p || !*p) {
    *why = "QEFF_PEERS_DIR is not set (run ./setup.sh)";
    return "";
  }
  std::string pkg =
      absl::StrCat(p, "/node_modules/onnxruntime-node/package.json");
  if (!std::ifstream(pkg).good()) {
    *why = absl::StrCat("onnxruntime-node is not installed in ", p);
    return "";
  }
  return p;
}

// All floats of the `k`-th innermost array of a {"logits": [[...], ...]} line.
std::vector<std::vector<float>> ParseLogits(const std::string& json) {
  std::vector<std::vector<float>> out;
  size_t i = json.find("[[");
  if (i == std::string::npos) return out;
  i += 1;
  while (i < json.size() && json[i] == '[') {
    std::vector<float> row;
    ++i;
    while (i < json.size() && json[i] != ']') {
      char* end = nullptr;
      row.push_back(std::strtof(json.c_str() + i, &end));
      i = end - json.c_str();
      if (json[i] == ',') ++i;
    }
    out.push_back(std::move(row));
    i += 1;  // ']'
    if (i < json.size() && json[i] == ',') ++i;
  }
  return out;
}

// Runs the ONNX with onnxruntime over `steps`; returns per-step logits.
std::vector<std::vector<float>> RunOrt(const std::string& peers,
                                       const std::string& onnx,
                                       const std::vector<hw::BoundIO>& state,
                                       const std::vector<Step>& steps) {
  std::string plan = "{\"state\": [";
  for (size_t i = 0; i < state.size(); ++i) {
    absl::StrAppend(&plan, i ? "," : "", "{\"name\": \"", state[i].name,
                    "\", \"dims\": [", absl::StrJoin(state[i].dims, ","), "]}");
  }
  plan += "], \"steps\": [";
  for (size_t i = 0; i < steps.size(); ++i) {
    absl::StrAppend(&plan, i ? "," : "", "{\"input_ids\": [[",
                    absl::StrJoin(steps[i].ids, ","),
                    "]], \"position_ids\": [[",
                    absl::StrJoin(steps[i].pos, ","), "]]}");
  }
  plan += "]}";
  std::string plan_path = absl::StrCat(::testing::TempDir(), "/plan.json");
  std::ofstream(plan_path) << plan;
  std::string cmd = absl::StrCat("node tests/e2e/peers/ort_run.mjs '", peers,
                                 "' '", onnx, "' '", plan_path, "' 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  EXPECT_EQ(rc, 0) << out.substr(0, 2000);
  auto logits = ParseLogits(out);
  EXPECT_EQ(logits.size(), steps.size()) << out.substr(0, 2000);
  return logits;
}

// Prefill chunks of `chunk` then decode the reference's own greedy tokens
// until the context is full. Compares every step's logits with onnxruntime.
void CheckAgainstOrt(const ir::Graph& eager, const std::string& name,
                     const std::vector<int64_t>& prompt, int64_t chunk,
                     int64_t ctx_len) {
  std::string why;
  std::string peers = PeersDir(&why);
  if (peers.empty()) GTEST_SKIP() << "onnxruntime peer unavailable: " << why;
  auto device = hw::MakeReferenceDevice();
  auto compiled = engine::CompileLM(
      eager, *device, hw::PrefillDecodeSpecializations(1, chunk, ctx_len), {});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  auto session = device->Load(compiled->program);
  ASSERT_TRUE(session.ok());
  auto io =
      hw::BindGraphIO(compiled->graph, compiled->program->specializations());
  ASSERT_TRUE(io.ok());

  // The reference run, step by step, recording logits and greedy tokens.
  std::vector<Step> steps;
  std::vector<ir::Tensor> ref;
  const int64_t n = static_cast<int64_t>(prompt.size());
  for (int64_t start = 0; start < n; start += chunk) {
    Step s;
    for (int64_t j = 0; j < chunk; ++j) {
      bool real = start + j < n;
      s.ids.push_back(real ? prompt[start + j] : 0);
      s.pos.push_back(real ? start + j : -1);
    }
    auto out = (*session)->Run(
        "Prefill", {{"input_ids", ir::Tensor::I64({1, chunk}, s.ids)},
                    {"position_ids", ir::Tensor::I64({1, chunk}, s.pos)}});
    ASSERT_TRUE(out.ok()) << out.status();
    steps.push_back(s);
    ref.push_back(out->at("logits"));
  }
  std::vector<int64_t> tokens;
  for (int64_t p = n; p < ctx_len; ++p) {
    int64_t tok = engine::Argmax(ref.back());
    tokens.push_back(tok);
    Step s{{tok}, {p}, "Decode"};
    auto out = (*session)->Run(
        "Decode", {{"input_ids", ir::Tensor::I64({1, 1}, s.ids)},
                   {"position_ids", ir::Tensor::I64({1, 1}, s.pos)}});
    ASSERT_TRUE(out.ok()) << out.status();
    steps.push_back(s);
    ref.push_back(out->at("logits"));
  }

  passes::ExportArtifactOptions eo;
  eo.qeff_home = absl::StrCat(::testing::TempDir(), "/qeff_home");
  eo.architecture = "LlamaForCausalLM";
  eo.params_json = absl::StrCat("{\"test\":\"", name, "\"}");
  auto art = passes::ExportArtifact(compiled->graph, eo);
  ASSERT_TRUE(art.ok()) << art.status();

  // The cpu driver on the same steps (teacher forcing: the reference's
  // tokens).
  auto cpu = hw::OpenDevice("cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  auto cpu_prog = (*cpu)->Compile(compiled->graph,
                                  compiled->program->specializations(), {});
  ASSERT_TRUE(cpu_prog.ok()) << cpu_prog.status();
  auto cpu_s = (*cpu)->Load(*cpu_prog);
  ASSERT_TRUE(cpu_s.ok()) << cpu_s.status();
  double cpu_worst = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    int64_t len = static_cast<int64_t>(steps[i].ids.size());
    auto out = (*cpu_s)->Run(
        steps[i].spec,
        {{"input_ids", ir::Tensor::I64({1, len}, steps[i].ids)},
         {"position_ids", ir::Tensor::I64({1, len}, steps[i].pos)}});
    ASSERT_TRUE(out.ok()) << out.status();
    const ir::Tensor& l = out->at("logits");
    for (int64_t j = 0; j < l.num_elements(); ++j)
      cpu_worst =
          std::max(cpu_worst, std::fabs(l.GetDouble(j) - ref[i].GetDouble(j)));
    EXPECT_EQ(engine::Argmax(l), engine::Argmax(ref[i])) << "cpu step " << i;
  }
  std::printf("%s: cpu vs reference max |dlogit| %.3g\n", name.c_str(),
              cpu_worst);
  EXPECT_LE(cpu_worst, 1e-4);

  auto ort = RunOrt(peers, art->onnx_path, io->state, steps);
  ASSERT_EQ(ort.size(), ref.size());
  double worst = 0;
  int64_t same_tokens = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_EQ(static_cast<int64_t>(ort[i].size()), ref[i].num_elements());
    int64_t best = 0;
    for (int64_t j = 0; j < ref[i].num_elements(); ++j) {
      worst = std::max(worst, std::fabs(ref[i].GetDouble(j) - ort[i][j]));
      if (ort[i][j] > ort[i][best]) best = j;
    }
    if (best == engine::Argmax(ref[i])) ++same_tokens;
  }
  std::printf(
      "%s: prompt %lld, chunk %lld, ctx %lld: %zu steps, max |dlogit| %.3g, "
      "greedy agrees at %lld/%zu steps\n",
      name.c_str(), static_cast<long long>(n), static_cast<long long>(chunk),
      static_cast<long long>(ctx_len), ref.size(), worst,
      static_cast<long long>(same_tokens), ref.size());
  EXPECT_LE(worst, 1e-4);
  EXPECT_EQ(same_tokens, static_cast<int64_t>(ref.size()));
}

class OrtPeer : public ::testing::TestWithParam<int> {};

TEST_P(OrtPeer, SeededLlamaMatchesReference) {
  models::LlamaConfig c;
  models::WeightMap w = models::MakeTestWeights(models::TestModelSpec{}, &c);
  auto eager = models::BuildLlamaEager(c, w);
  ASSERT_TRUE(eager.ok()) << eager.status();
  const int64_t len = GetParam();
  std::vector<int64_t> prompt;
  for (int64_t i = 0; i < len; ++i)
    prompt.push_back((i * 53 + 7) % c.vocab_size);
  // ctx 20 is not a multiple of the chunk (8): the last prefill chunk of a
  // 20-token prompt is padded and writes slot ctx_len - 1.
  CheckAgainstOrt(*eager, absl::StrCat("seeded-llama-", len), prompt, 8, 20);
}

// Shorter than, equal to and longer than one chunk; and a full context.
INSTANTIATE_TEST_SUITE_P(PromptLengths, OrtPeer,
                         ::testing::Values(5, 8, 13, 20));

TEST(OrtPeerStories, Stories260KMatchesReference) {
  const char* shared = std::getenv("QEFF_SHARED_DIR");
  if (!shared || !*shared)
    GTEST_SKIP() << "QEFF_SHARED_DIR is not set (no ../shared)";
  std::string path =
      std::string(shared) + "/models/stories260K/stories260K.gguf";
  if (!std::ifstream(path).good()) GTEST_SKIP() << path << " is absent";
  auto m = models::Load(path);
  ASSERT_TRUE(m.ok()) << m.status();
  auto ids = m->tokenizer->Encode("Once upon a time", true);
  ASSERT_TRUE(ids.ok());
  CheckAgainstOrt(m->eager, "stories260K",
                  std::vector<int64_t>(ids->begin(), ids->end()), 8, 40);
}

}  // namespace
}  // namespace qeff
