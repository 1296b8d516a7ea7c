// llama.cpp's own tokenizer test vectors (tests/test-tokenizer-0.cpp's
// models/ggml-vocab-*.gguf with .inp/.out), run through qeff's tokenizers
// exactly as llama.cpp runs them: common_tokenize(text, add_special=false,
// parse_special=false). Also: decode(encode(text)) == text on a
// multilingual corpus, and bad input gives named errors.
//
// Needs $QEFF_PEERS_DIR/llama.cpp (setup.sh clones it from node-llama-cpp's
// bundle); skips with the reason when absent.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "models/tokenizer_loader.h"
#include "tests/util/test_util.h"

namespace qeff::models {
namespace {

// Every vocabulary llama.cpp ships vectors for that qeff must pass.
const char* const kVocabs[] = {
    "llama-spm",      "llama-bpe", "gpt-2",     "qwen2",   "qwen35",
    "phi-3",          "falcon",    "starcoder", "mpt",     "deepseek-llm",
    "deepseek-coder", "command-r", "refact",    "gemma-4", "bert-bge",
};

std::string ModelsDir() {
  const char* peers = std::getenv("QEFF_PEERS_DIR");
  if (peers == nullptr || *peers == '\0') return "";
  return std::string(peers) + "/llama.cpp/models/";
}

using Case = testing::VocabCase;

TEST(TokenizerVectors, LlamaCppVocabs) {
  const std::string dir = ModelsDir();
  if (dir.empty()) GTEST_SKIP() << "QEFF_PEERS_DIR is not set";
  std::string probe;
  if (!testing::ReadFile(dir + "ggml-vocab-gpt-2.gguf.inp", &probe)) {
    GTEST_SKIP() << dir << " has no llama.cpp vocab files (run ./setup.sh)";
  }
  int total_ok = 0, total = 0;
  for (const char* name : kVocabs) {
    const std::string path = dir + "ggml-vocab-" + name + ".gguf";
    std::vector<Case> cases = testing::ReadLlamaCppVocabCases(path);
    if (cases.empty()) {
      ADD_FAILURE() << path << ": no test cases (.inp/.out missing?)";
      continue;
    }
    auto tok = LoadTokenizer(path);
    if (!tok.ok()) {
      ADD_FAILURE() << path << ": " << tok.status();
      std::printf("vocab: %-15s 0/%zu (load failed)\n", name, cases.size());
      continue;
    }
    int ok = 0;
    for (const Case& c : cases) {
      auto ids = (*tok)->Encode(c.text, /*add_bos=*/false);
      if (ids.ok() && *ids == c.ids) {
        ++ok;
        continue;
      }
      ADD_FAILURE() << name << ": '" << c.text << "'\n  want "
                    << absl::StrJoin(c.ids, " ") << "\n  got  "
                    << (ids.ok() ? absl::StrJoin(*ids, " ")
                                 : std::string(ids.status().message()));
    }
    std::printf("vocab: %-15s %d/%zu\n", name, ok, cases.size());
    total_ok += ok;
    total += static_cast<int>(cases.size());
  }
  std::printf("vocab: %-15s %d/%d\n", "TOTAL", total_ok, total);
}

// Prompts: llama.cpp tokenizes a prompt with add_special=true, which puts
// BOS first only for vocabularies that add one. The expectations are
// llama.cpp's (llama-vocab.cpp: SPM and llama-bpe add BOS; qwen2 and gpt-2
// do not), written here, not read from qeff's tokenizer.
TEST(TokenizerVectors, PromptIdsAddBosOnlyWhereLlamaCppDoes) {
  const std::string dir = ModelsDir();
  if (dir.empty()) GTEST_SKIP() << "QEFF_PEERS_DIR is not set";
  struct Want {
    const char* vocab;
    int32_t bos;  // -1: no BOS
  };
  const Want wants[] = {
      {"llama-spm", 1}, {"llama-bpe", 128000}, {"qwen2", -1}, {"gpt-2", -1}};
  for (const Want& w : wants) {
    const std::string path = dir + "ggml-vocab-" + w.vocab + ".gguf";
    std::vector<Case> cases = testing::ReadLlamaCppVocabCases(path);
    if (cases.empty()) GTEST_SKIP() << path << " is absent (run ./setup.sh)";
    auto tok = LoadTokenizer(path);
    ASSERT_TRUE(tok.ok()) << tok.status();
    for (const Case& c : cases) {
      std::vector<int32_t> want;
      if (w.bos >= 0) want.push_back(w.bos);
      want.insert(want.end(), c.ids.begin(), c.ids.end());
      auto ids = (*tok)->EncodePrompt(c.text);
      ASSERT_TRUE(ids.ok()) << w.vocab << ": " << ids.status();
      EXPECT_EQ(*ids, want) << w.vocab << ": '" << c.text << "'";
    }
  }
}

std::string Corpus() {
  std::string text;
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  std::string p = std::string(srcdir ? srcdir : ".") + "/" +
                  (ws ? ws : "qeff") + "/tests/tokenizers/roundtrip_corpus.txt";
  if (!testing::ReadFile(p, &text))
    testing::ReadFile("tests/tokenizers/roundtrip_corpus.txt", &text);
  return text;
}

TEST(TokenizerVectors, RoundTrip) {
  const std::string dir = ModelsDir();
  if (dir.empty()) GTEST_SKIP() << "QEFF_PEERS_DIR is not set";
  const std::string corpus = Corpus();
  ASSERT_GT(corpus.size(), 2000u) << "roundtrip_corpus.txt not found";
  std::vector<std::string> lines = absl::StrSplit(corpus, '\n');
  for (const char* name : kVocabs) {
    if (std::string(name) == "bert-bge") {
      std::printf(
          "roundtrip: %-15s skipped (WordPiece lowercases and strips "
          "accents; decoding is lossy by design)\n",
          name);
      continue;
    }
    const std::string path = dir + "ggml-vocab-" + name + ".gguf";
    auto tok = LoadTokenizer(path);
    if (!tok.ok()) {
      if (testing::ReadLlamaCppVocabCases(path).empty())
        continue;  // vocab absent
      ADD_FAILURE() << path << ": " << tok.status();
      continue;
    }
    int ok = 0, n = 0;
    // The whole corpus, then line by line.
    std::vector<std::string> texts = {corpus};
    texts.insert(texts.end(), lines.begin(), lines.end());
    for (const std::string& t : texts) {
      ++n;
      const bool bos = (*tok)->add_bos_by_default();
      auto ids = (*tok)->Encode(t, bos);
      ASSERT_TRUE(ids.ok()) << name << ": " << ids.status();
      auto back = (*tok)->Decode(*ids);
      ASSERT_TRUE(back.ok()) << name << ": " << back.status();
      if (*back == t) {
        ++ok;
      } else {
        ADD_FAILURE() << name << ": round trip of '" << t << "' gave '" << *back
                      << "'";
      }
    }
    std::printf("roundtrip: %-15s %d/%d\n", name, ok, n);
  }
}

TEST(TokenizerVectors, BadInput) {
  const std::string dir = ModelsDir();
  if (dir.empty()) GTEST_SKIP() << "QEFF_PEERS_DIR is not set";
  for (const char* name : {"llama-spm", "gpt-2", "bert-bge", "gemma-4"}) {
    auto tok = LoadTokenizer(dir + "ggml-vocab-" + name + ".gguf");
    if (!tok.ok()) continue;
    auto ids = (*tok)->Encode("ok \xC3\x28 bad", false);
    ASSERT_FALSE(ids.ok()) << name;
    EXPECT_NE(
        std::string(ids.status().message()).find("not valid UTF-8 at byte 3"),
        std::string::npos)
        << ids.status();
  }
}

TEST(TokenizerVectors, TruncatedFileIsNamedError) {
  const std::string dir = ModelsDir();
  if (dir.empty()) GTEST_SKIP() << "QEFF_PEERS_DIR is not set";
  std::string data;
  if (!testing::ReadFile(dir + "ggml-vocab-gpt-2.gguf", &data)) {
    GTEST_SKIP() << "no ggml-vocab-gpt-2.gguf (run ./setup.sh)";
  }
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/cut.gguf";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(data.data(), data.size() / 2);
  }
  auto tok = LoadTokenizer(path);
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(std::string(tok.status().message()).find(path), std::string::npos)
      << tok.status();
}

}  // namespace
}  // namespace qeff::models
