// Consistency of the tokenizer.json path with the GGUF path on llama.cpp's
// own vocabularies: each ggml-vocab-*.gguf is written out as a Hugging Face
// tokenizer.json + tokenizer_config.json (hf_tokenizer_writer.h, structured
// like Hugging Face's files for that family), loaded back through
// LoadTokenizer(folder), and both tokenizers encode every .inp case.
//
// This is a consistency test, not proof against Hugging Face: the original
// tokenizer.json files are not available offline, so the files under test
// are reconstructed from the GGUF. It does check the reader's handling of
// the real files' structure (Split regexes run through ICU, ByteLevel,
// NFC, Prepend/Replace, byte_fallback, merges extracted from SentencePiece
// scores, BertNormalizer/WordPiece, TemplateProcessing), and the ids are
// also compared with llama.cpp's .out (which Hugging Face produced).
//
// Needs $QEFF_PEERS_DIR/llama.cpp/models; skips with the reason otherwise.
#include <sys/stat.h>

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
#include "models/gguf.h"
#include "models/hf_tokenizer_writer.h"
#include "models/tokenizer_loader.h"
#include "tests/util/test_util.h"

namespace qeff::models {
namespace {

const char* const kVocabs[] = {"llama-spm", "gpt-2",     "llama-bpe", "qwen2",
                               "bert-bge",  "starcoder", "refact",    "mpt"};

bool WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
  return static_cast<bool>(f);
}

using Case = testing::VocabCase;

TEST(HfTokenizerGguf, SameIdsAsGgufOnLlamaCppVectors) {
  const char* peers = std::getenv("QEFF_PEERS_DIR");
  if (peers == nullptr || *peers == '\0') {
    GTEST_SKIP() << "QEFF_PEERS_DIR is not set";
  }
  const std::string dir = std::string(peers) + "/llama.cpp/models/";
  std::string probe;
  if (!testing::ReadFile(dir + "ggml-vocab-gpt-2.gguf.inp", &probe)) {
    GTEST_SKIP() << dir << " has no llama.cpp vocab files (run ./setup.sh)";
  }
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string out_root = tmp != nullptr ? tmp : "/tmp";
  int total_same = 0, total_out = 0, total = 0;
  for (const char* name : kVocabs) {
    const std::string path = dir + "ggml-vocab-" + name + ".gguf";
    std::vector<Case> cases = testing::ReadLlamaCppVocabCases(path);
    ASSERT_FALSE(cases.empty()) << path << ": no .inp/.out";
    auto gguf = ReadGguf(path);
    ASSERT_TRUE(gguf.ok()) << gguf.status();
    auto from_gguf = TokenizerFromGguf(*gguf);
    ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
    auto src = HfVocabSourceFromGguf(*gguf);
    ASSERT_TRUE(src.ok()) << src.status();
    auto files = MakeHfTokenizerFiles(*src);
    ASSERT_TRUE(files.ok()) << name << ": " << files.status();
    const std::string folder = out_root + "/hf-" + name;
    mkdir(folder.c_str(), 0755);
    ASSERT_TRUE(WriteFile(folder + "/tokenizer.json", files->tokenizer_json));
    ASSERT_TRUE(WriteFile(folder + "/tokenizer_config.json",
                          files->tokenizer_config_json));
    auto from_json = LoadTokenizer(folder);
    ASSERT_TRUE(from_json.ok()) << name << ": " << from_json.status();
    const Tokenizer& g = **from_gguf;
    const Tokenizer& j = **from_json;
    EXPECT_EQ(j.bos_id(), g.bos_id()) << name;
    EXPECT_EQ(j.eos_id(), g.eos_id()) << name;
    EXPECT_EQ(j.add_bos_by_default(), g.add_bos_by_default()) << name;
    int same = 0, match_out = 0, decode_same = 0;
    for (const Case& c : cases) {
      auto gi = g.Encode(c.text, /*add_bos=*/false);
      auto ji = j.Encode(c.text, /*add_bos=*/false);
      ASSERT_TRUE(gi.ok() && ji.ok()) << name << ": '" << c.text << "'";
      if (*ji == c.ids) ++match_out;
      if (*ji == *gi) {
        ++same;
      } else {
        ADD_FAILURE() << name << ": '" << c.text << "'\n  gguf "
                      << absl::StrJoin(*gi, " ") << "\n  json "
                      << absl::StrJoin(*ji, " ");
      }
      auto gd = g.Decode(*gi);
      auto jd = j.Decode(*gi);
      if (gd.ok() && jd.ok() && *gd == *jd) ++decode_same;
    }
    // With BOS too (add_bos as each tokenizer's config says).
    for (const Case& c : cases) {
      auto gi = g.Encode(c.text, g.add_bos_by_default());
      auto ji = j.Encode(c.text, j.add_bos_by_default());
      ASSERT_TRUE(gi.ok() && ji.ok());
      EXPECT_EQ(*ji, *gi) << name << " (with special tokens): '" << c.text
                          << "'";
    }
    EXPECT_EQ(decode_same, static_cast<int>(cases.size())) << name;
    std::printf(
        "hf-json vs gguf: %-10s same ids %d/%zu, == llama.cpp .out %d/%zu, "
        "decode same %d/%zu\n",
        name, same, cases.size(), match_out, cases.size(), decode_same,
        cases.size());
    total_same += same;
    total_out += match_out;
    total += static_cast<int>(cases.size());
  }
  std::printf("hf-json vs gguf: %-10s same ids %d/%d, == .out %d/%d\n", "TOTAL",
              total_same, total, total_out, total);
  EXPECT_EQ(total_same, total);
}

}  // namespace
}  // namespace qeff::models
