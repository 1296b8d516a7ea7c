// Peer test: the real trained stories260K tells the same story through qeff
// (GGUF, and llama2.c .bin + tok512.bin: checkpoint → eager graph →
// transform_lm → reference device) as llama.cpp's greedy run on the GGUF.
// The GGUF is the one shipped in the repository; the llama2.c files come from
// ../shared. Skips with a reason when ../shared or the llama.cpp peer is
// absent.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/device_registry.h"
#include "hw/driver.h"
#include "models/model_loader.h"
#include "models/test_model.h"
#include "tests/util/test_util.h"

namespace qeff {
namespace {

constexpr int kGenerationLen = 64;
constexpr char kPrompt[] = "Once upon a time";

struct PeerRun {
  std::vector<int64_t> prompt_ids, token_ids;
  std::string text;
};

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

// Runs llama.cpp; returns false (with `why`) when the peer is unavailable.
bool RunLlamaCpp(const std::string& gguf, PeerRun* run, std::string* why,
                 const std::string& prompt = kPrompt,
                 int count = kGenerationLen, int context = 256) {
  std::string peers =
      testing::PeersDir("node_modules/node-llama-cpp/package.json", why);
  if (peers.empty()) return false;
  int rc;
  std::string out = testing::RunCommand(
      absl::StrCat("node ",
                   testing::Runfile("tests/e2e/peers/llama_generate.mjs"), " '",
                   peers, "' '", gguf, "' '", prompt, "' ", count, " ", context,
                   " 2>&1"),
      &rc);
  if (rc != 0 || out.find("\"token_ids\"") == std::string::npos) {
    ADD_FAILURE() << "llama.cpp peer failed (rc " << rc << "): " << out;
    *why = "peer failed";
    return false;
  }
  run->prompt_ids = IntsAfter(out, "prompt_ids");
  run->token_ids = IntsAfter(out, "token_ids");
  return true;
}

engine::GenerationResult RunQeff(const std::string& device_kind,
                                 const std::string& model,
                                 const std::string& tokenizer,
                                 std::vector<int64_t>* prompt_ids,
                                 std::string* text) {
  models::LoadOptions lo;
  lo.tokenizer_path = tokenizer;
  auto m = models::Load(model, lo);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return {};
  auto ids = m->tokenizer->Encode(kPrompt, true);
  EXPECT_TRUE(ids.ok()) << ids.status();
  prompt_ids->assign(ids->begin(), ids->end());
  auto opened = hw::OpenDevice(device_kind);
  EXPECT_TRUE(opened.ok()) << opened.status();
  if (!opened.ok()) return {};
  auto& device = *opened;
  auto compiled = engine::CompileLM(
      m->eager, *device, hw::PrefillDecodeSpecializations(1, 8, 128), {});
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  if (!compiled.ok()) return {};
  auto session = device->Load(compiled->program);
  EXPECT_TRUE(session.ok());
  engine::Generator gen(session->get());
  engine::GenerationOptions o;
  o.prefill_seq_len = 8;
  o.ctx_len = 128;
  o.generation_len = kGenerationLen;
  auto r = gen.Generate(*prompt_ids, o);
  EXPECT_TRUE(r.ok()) << r.status();
  std::vector<int32_t> t(r->token_ids.begin(), r->token_ids.end());
  *text = *m->tokenizer->Decode(t);
  return *r;
}

TEST(LlamaCppPeer, Stories260KGreedyStory) {
  std::string gguf = testing::Stories260KGguf();
  PeerRun peer;
  std::string why;
  if (!RunLlamaCpp(gguf, &peer, &why))
    GTEST_SKIP() << "llama.cpp peer unavailable: " << why;
  ASSERT_EQ(peer.token_ids.size(), static_cast<size_t>(kGenerationLen));

  for (const char* device : {"reference", "cpu"}) {
    std::vector<int64_t> prompt;
    std::string text;
    engine::GenerationResult r = RunQeff(device, gguf, "", &prompt, &text);
    EXPECT_EQ(prompt, peer.prompt_ids);
    EXPECT_EQ(r.token_ids, peer.token_ids) << device;
    std::printf("qeff %s (gguf): %s\n", device, text.c_str());
  }
}

// llama2.c's stories260K.bin + tok512.bin (from ../shared; not shipped) tell
// the GGUF's story: the same prompt ids, tokens and text as the in-repo GGUF
// through qeff, which Stories260KGreedyStory checks against llama.cpp.
TEST(LlamaCppPeer, Stories260KLlama2cTellsTheGgufStory) {
  std::string why;
  std::string bin =
      testing::SharedFile("models/stories260K/stories260K.bin", &why);
  if (bin.empty()) GTEST_SKIP() << why;
  std::string tok = testing::SharedFile("models/stories260K/tok512.bin", &why);
  if (tok.empty()) GTEST_SKIP() << why;
  for (const char* device : {"reference", "cpu"}) {
    std::vector<int64_t> prompt, prompt2;
    std::string text, text2;
    engine::GenerationResult r =
        RunQeff(device, testing::Stories260KGguf(), "", &prompt, &text);
    engine::GenerationResult r2 = RunQeff(device, bin, tok, &prompt2, &text2);
    EXPECT_EQ(prompt2, prompt);
    EXPECT_EQ(r2.token_ids.size(), static_cast<size_t>(kGenerationLen));
    EXPECT_EQ(r2.token_ids, r.token_ids) << device;
    EXPECT_EQ(text2, text);
    std::printf("qeff %s (llama2.c): %s\n", device, text2.c_str());
  }
}

// The seeded test models (random weights, f32 GGUF written as llama.cpp's
// converter writes them: Llama's Q/K permuted; Gemma 3's norms shifted by
// one, a window shorter than the prompt, local and global RoPE):
// llama.cpp's greedy tokens equal qeff's on the cpu and reference devices.
// The seed has a top-1 margin >= 1e-3 at every step (models/test_model.h),
// so rounding differences cannot flip a token.
class LlamaCppSeeded : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaCppSeeded, GreedyTokens) {
  models::TestModelSpec spec;
  spec.arch = GetParam();
  spec.seed = models::DefaultTestSeed(spec.arch);
  std::string gguf =
      absl::StrCat(::testing::TempDir(), "/seeded-", spec.arch, ".gguf");
  ASSERT_TRUE(models::WriteTestModelGguf(spec, gguf).ok());
  std::vector<int64_t> prompt = models::TestPromptIds();
  constexpr int kN = 16;
  PeerRun peer;
  std::string why;
  if (!RunLlamaCpp(gguf, &peer, &why, "ids:" + absl::StrJoin(prompt, ","), kN))
    GTEST_SKIP() << "llama.cpp peer unavailable: " << why;
  ASSERT_EQ(peer.prompt_ids, prompt);
  std::printf("llama.cpp: %s\n", absl::StrJoin(peer.token_ids, ",").c_str());
  auto m = models::Load(gguf);
  ASSERT_TRUE(m.ok()) << m.status();
  for (const char* device_kind : {"reference", "cpu"}) {
    auto device = hw::OpenDevice(device_kind);
    ASSERT_TRUE(device.ok());
    auto compiled = engine::CompileLM(
        m->eager, **device, hw::PrefillDecodeSpecializations(1, 8, 64), {});
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    auto session = (*device)->Load(compiled->program);
    ASSERT_TRUE(session.ok());
    engine::Generator gen(session->get());
    engine::GenerationOptions o;
    o.prefill_seq_len = 8;
    o.ctx_len = 64;
    o.generation_len = kN;
    // llama.cpp stops at an end-of-generation token; so does qeff here.
    o.eos_id = m->tokenizer->eos_id();
    auto r = gen.Generate(prompt, o);
    ASSERT_TRUE(r.ok()) << r.status();
    // node-llama-cpp does not yield the end-of-generation token itself.
    std::vector<int64_t> got = r->token_ids;
    if (r->stopped_at_eos) got.pop_back();
    EXPECT_EQ(got, peer.token_ids) << device_kind;
  }
  EXPECT_GE(peer.token_ids.size(), 8u);
  std::printf("seeded %s: llama.cpp and qeff agree on %zu greedy tokens: %s\n",
              spec.arch.c_str(), peer.token_ids.size(),
              absl::StrJoin(peer.token_ids, ",").c_str());
}

// Llama 4 past llama.cpp's fixed attention chunk and temperature floor
// (both 8192, llama4.cpp's load_arch_hparams): a prompt of 8200 tokens, so
// the chunked layers' queries from position 8192 on see only their own
// chunk and the NoPE layer's queries from 8191 on are scaled by
// log(2) * 0.1 + 1. llama.cpp's greedy tokens equal qeff's on the cpu
// device (prefill 256 tokens a call, ctx 8448); each step's top-1 margin is
// checked so rounding cannot decide a token. It takes about 2 minutes on
// 2 busy cores (qeff's cpu attention reads all 8448 slots per query), so it
// runs only with QEFF_LONG_TESTS=1 (bazel test --test_env=QEFF_LONG_TESTS=1).
TEST(LlamaCppLlama4, PastTheFixedChunkAndTemperatureFloor) {
  const char* long_tests = std::getenv("QEFF_LONG_TESTS");
  if (long_tests == nullptr || std::string(long_tests) != "1")
    GTEST_SKIP() << "an 8200-token prompt (about 2 minutes): set "
                    "QEFF_LONG_TESTS=1 to run it";
  models::TestModelSpec spec;
  spec.arch = "llama4_text";
  spec.seed = models::DefaultTestSeed(spec.arch);
  spec.max_position_embeddings = 16384;  // the GGUF's context_length
  const std::string gguf =
      absl::StrCat(::testing::TempDir(), "/seeded-llama4-long.gguf");
  ASSERT_TRUE(models::WriteTestModelGguf(spec, gguf).ok());
  const int64_t vocab =
      static_cast<int64_t>(models::MakeTestVocab().pieces.size());
  std::vector<int64_t> prompt;
  for (int64_t i = 0; i < 8200; ++i)
    prompt.push_back(3 + (i * 53 + 7) % (vocab - 3));  // no control tokens
  constexpr int kN = 8, kCtx = 8448;
  PeerRun peer;
  std::string why;
  const absl::Time t0 = absl::Now();
  if (!RunLlamaCpp(gguf, &peer, &why, "ids:" + absl::StrJoin(prompt, ","), kN,
                   kCtx))
    GTEST_SKIP() << "llama.cpp peer unavailable: " << why;
  const absl::Time t1 = absl::Now();
  ASSERT_EQ(peer.prompt_ids.size(), prompt.size());
  auto m = models::Load(gguf);
  ASSERT_TRUE(m.ok()) << m.status();
  auto device = hw::OpenDevice("cpu");
  ASSERT_TRUE(device.ok());
  auto compiled = engine::CompileLM(
      m->eager, **device, hw::PrefillDecodeSpecializations(1, 256, kCtx), {});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  auto session = (*device)->Load(compiled->program);
  ASSERT_TRUE(session.ok());
  engine::Generator gen(session->get());
  engine::GenerationOptions o;
  o.prefill_seq_len = 256;
  o.ctx_len = kCtx;
  auto logits = gen.Prefill(prompt, o);
  ASSERT_TRUE(logits.ok()) << logits.status();
  std::vector<int64_t> ours;
  double margin = 1e9;
  for (int step = 0; step < kN; ++step) {
    std::vector<float> l = logits->ToFloats();
    const int64_t best = engine::Argmax(*logits);
    float second = -1e30f;
    for (int64_t j = 0; j < static_cast<int64_t>(l.size()); ++j)
      if (j != best) second = std::max(second, l[j]);
    margin = std::min(margin, double(l[best]) - second);
    ours.push_back(best);
    if (step + 1 < kN) {
      logits = gen.Decode(best, static_cast<int64_t>(prompt.size()) + step);
      ASSERT_TRUE(logits.ok()) << logits.status();
    }
  }
  std::printf(
      "llama4 8200-token prompt: llama.cpp %s, qeff cpu %s, min top-1 "
      "margin %.4g\n",
      absl::StrJoin(peer.token_ids, ",").c_str(),
      absl::StrJoin(ours, ",").c_str(), margin);
  std::printf("llama.cpp %.1f s, qeff %.1f s\n", absl::ToDoubleSeconds(t1 - t0),
              absl::ToDoubleSeconds(absl::Now() - t1));
  EXPECT_GE(margin, 1e-3);
  EXPECT_EQ(ours, peer.token_ids);
}

INSTANTIATE_TEST_SUITE_P(Families, LlamaCppSeeded,
                         ::testing::Values("llama", "gemma3_text",
                                           "llama4_text"));

}  // namespace
}  // namespace qeff
