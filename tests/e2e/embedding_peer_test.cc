// qeff's sentence embeddings (QEFFAutoModel) against llama.cpp's own
// llama-embedding on the same seeded BERT GGUF with the real BGE WordPiece
// vocabulary (llama.cpp's models/ggml-vocab-bert-bge.gguf), and the same
// for a seeded nomic-bert (RoPE, SwiGLU) at 1e-4: identical
// token ids, and for pooling mean / cls / last, unnormalised and L2,
// max|Δ|/max|ref| <= 5e-4 (measured here: 0.8e-4 .. 2.9e-4). The issue
// asked for 1e-4; llama.cpp's CPU GELU (ggml_vec_gelu_f32 under
// GGML_GELU_FP16, ggml-cpu/vec.h) rounds every input to f16 and reads an
// f16 table, a relative error of up to ~5e-4 per activation, which qeff's
// f32 GELU does not reproduce. Skips with a reason when llama.cpp's source
// build (llama-embedding, built by setup.sh) is absent.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/json.h"
#include "engine/qeff_auto_model_embedding.h"
#include "gtest/gtest.h"
#include "models/test_encoder.h"
#include "models/test_model.h"
#include "tests/util/test_util.h"

namespace qeff {
namespace {

const std::vector<std::string> kPrompts = {
    "Hello world, this is a sentence embedding test.",
    "The quick brown fox jumps over the lazy dog!",
    "llama.cpp and qeff should agree to six digits",
};

struct PeerOutput {
  std::vector<std::vector<int64_t>> ids;
  std::vector<std::vector<float>> embeddings;
};

// Runs llama-embedding; token ids from --verbose-prompt ("  101 -> '...'"
// lines), vectors from --embd-output-format json.
bool RunLlamaEmbedding(const std::string& bin, const std::string& gguf,
                       const std::string& pooling, int normalize,
                       PeerOutput* out, std::string* err) {
  std::string prompt;
  for (size_t i = 0; i < kPrompts.size(); ++i)
    absl::StrAppend(&prompt, i ? "\n" : "", kPrompts[i]);
  const std::string cmd =
      absl::StrCat(bin, " -m ", gguf, " --pooling ", pooling,
                   " --embd-normalize ", normalize,
                   " --embd-output-format json --verbose-prompt -t 2 -fa off "
                   "-fit off -ctk f32 -ctv f32",
                   " -p '", prompt, "' 2>&1");
  // llama.cpp's output reaches the pipe through its asynchronous logger
  // (stdout and stderr together); on this loaded machine about one run in
  // three has exited 0 with its JSON cut short, so a run whose JSON does not
  // parse is retried (up to 5 runs; the last error is reported).
  int rc = 0;
  std::string text;
  absl::StatusOr<base::JsonValue> j =
      absl::InternalError("llama-embedding did not run");
  for (int attempt = 0; attempt < 5; ++attempt) {
    text = testing::RunCommand(cmd, &rc);
    if (rc != 0) {
      *err = absl::StrCat("llama-embedding exited ", rc, ":\n", text);
      return false;
    }
    const size_t start = text.find("{\n  \"object\": \"list\"");
    if (start == std::string::npos) {
      j = absl::NotFoundError("no JSON in llama-embedding's output:\n" + text);
      continue;
    }
    std::string json = text.substr(start);
    json = json.substr(0, json.rfind('}') + 1);
    j = base::ParseJson(json);
    if (j.ok()) break;
  }
  if (!j.ok()) {
    *err = absl::StrCat("llama-embedding JSON: ", j.status().ToString());
    return false;
  }
  out->ids.clear();
  bool in_prompt = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, "number of tokens in prompt")) {
      out->ids.emplace_back();
      in_prompt = true;
      continue;
    }
    const size_t arrow = line.find(" -> '");
    int64_t id;
    if (in_prompt && arrow != absl::string_view::npos &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(0, arrow)),
                         &id)) {
      out->ids.back().push_back(id);
    } else if (in_prompt && !absl::StripAsciiWhitespace(line).empty()) {
      in_prompt = false;
    }
  }
  out->embeddings.clear();
  for (const base::JsonValue& d : j->Find("data")->array()) {
    std::vector<float> v;
    for (const base::JsonValue& x : d.Find("embedding")->array())
      v.push_back(static_cast<float>(x.number()));
    out->embeddings.push_back(std::move(v));
  }
  return true;
}

// qeff vs llama-embedding on `gguf` for each pooling, unnormalised and L2:
// identical token ids, max|Δ|/max|ref| <= tolerance (printed per prompt).
void CompareWithPeer(const std::string& bin, const std::string& gguf,
                     const std::string& label,
                     const std::vector<std::string>& poolings,
                     const std::vector<int64_t>& seq_lens, double tolerance) {
  for (const std::string& pooling : poolings) {
    for (bool l2 : {false, true}) {
      SCOPED_TRACE(absl::StrCat(label, " ", pooling, l2 ? " l2" : " none"));
      PeerOutput peer;
      std::string err;
      ASSERT_TRUE(
          RunLlamaEmbedding(bin, gguf, pooling, l2 ? 2 : -1, &peer, &err))
          << err;
      engine::FromPretrainedOptions fo;
      fo.qeff_home = ::testing::TempDir() + "/home";
      auto m = engine::QEFFAutoModel::FromPretrained(
          gguf, fo, {*passes::ParsePooling(pooling), l2});
      ASSERT_TRUE(m.ok()) << m.status();
      engine::CompileParams cp;
      cp.seq_len = seq_lens;
      ASSERT_TRUE((*m)->Compile(cp).ok());
      auto r = (*m)->Embed(kPrompts);
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(peer.embeddings.size(), kPrompts.size());
      ASSERT_EQ(peer.ids.size(), kPrompts.size());
      for (size_t i = 0; i < kPrompts.size(); ++i) {
        EXPECT_EQ(r->outputs[i].prompt_ids, peer.ids[i]) << "prompt " << i;
        const auto& a = r->outputs[i].embedding;
        const auto& b = peer.embeddings[i];
        ASSERT_EQ(a.size(), b.size());
        double diff = 0, ref = 0;
        for (size_t k = 0; k < a.size(); ++k) {
          diff = std::max(diff, std::fabs(double(a[k]) - b[k]));
          ref = std::max(ref, std::fabs(double(b[k])));
        }
        std::printf("%s %s %s prompt %zu: %zu tokens, max|d|/max|ref| = %.3g\n",
                    label.c_str(), pooling.c_str(), l2 ? "l2" : "none", i,
                    r->outputs[i].prompt_ids.size(), diff / ref);
        EXPECT_LE(diff / ref, tolerance) << "prompt " << i;
      }
    }
  }
}

class EmbeddingPeer : public ::testing::TestWithParam<std::string> {};

TEST_P(EmbeddingPeer, LlamaEmbeddingAgrees) {
  std::string why;
  const std::string peers =
      testing::PeersDir("llama.cpp/build/bin/llama-embedding", &why);
  if (peers.empty()) GTEST_SKIP() << why;
  const std::string vocab =
      peers + "/llama.cpp/models/ggml-vocab-bert-bge.gguf";
  std::string unused;
  if (!testing::ReadFile(vocab, &unused)) GTEST_SKIP() << vocab << " is absent";
  const std::string gguf =
      ::testing::TempDir() + "/" + GetParam() + "_bge.gguf";
  models::TestBertSpec spec;
  spec.arch = GetParam();
  // bert: see the file comment (llama.cpp's f16 GELU table); nomic-bert's
  // SwiGLU is f32 in llama.cpp.
  const double tolerance = spec.arch == "bert" ? 5e-4 : 1e-4;
  spec.vocab_gguf = vocab;
  spec.hidden_size = 64;
  spec.intermediate_size = 128;
  spec.num_attention_heads = 4;
  spec.num_hidden_layers = 2;
  spec.layer_norm_eps = 1e-12f;
  spec.hidden_act = "gelu_new";
  ASSERT_TRUE(models::WriteTestBertGguf(spec, gguf).ok());
  const std::string bin = peers + "/llama.cpp/build/bin/llama-embedding";
  CompareWithPeer(bin, gguf, spec.arch, {"mean", "cls", "last"}, {16, 32},
                  tolerance);
}

// A decoder used as an embedder: the seeded llama test model (GGUF, its
// SentencePiece vocabulary), pooling last and mean, against llama-embedding.
TEST(EmbeddingPeerDecoder, LlamaLastAndMeanPooling) {
  std::string why;
  const std::string peers =
      testing::PeersDir("llama.cpp/build/bin/llama-embedding", &why);
  if (peers.empty()) GTEST_SKIP() << why;
  const std::string gguf = ::testing::TempDir() + "/llama_embed.gguf";
  models::TestModelSpec spec;
  spec.arch = "llama";
  ASSERT_TRUE(models::WriteTestModelGguf(spec, gguf).ok());
  const std::string bin = peers + "/llama.cpp/build/bin/llama-embedding";
  CompareWithPeer(bin, gguf, "llama", {"last", "mean"}, {64}, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Encoders, EmbeddingPeer,
                         ::testing::Values("bert", "nomic-bert"),
                         [](const auto& info) {
                           return info.param == "bert" ? std::string("bert")
                                                       : std::string("nomic");
                         });

}  // namespace
}  // namespace qeff
