// qeff's sentence embeddings (QEFFAutoModel on the cpu device, a padded
// batch) vs an independent PyTorch BertModel / NomicBertModel + pooling
// (embedding_reference.py, float64) on a seeded HF folder: every pooling,
// unnormalised and L2, max|Δ|/max|ref| <= 1e-5. Needs /usr/bin/python3 with
// python3-torch; skips with a reason otherwise.
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json.h"
#include "engine/qeff_auto_model_embedding.h"
#include "gtest/gtest.h"
#include "models/test_encoder.h"
#include "tests/util/test_util.h"

namespace qeff {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::string ScriptPath() {
  return testing::Runfile("tests/reference/embedding_reference.py");
}

class EmbeddingReference : public ::testing::TestWithParam<std::string> {};

TEST_P(EmbeddingReference, EveryPoolingMatchesPyTorch) {
  int rc;
  testing::RunCommand(absl::StrCat(kPython, " -c 'import torch' 2>/dev/null"),
                      &rc);
  if (rc != 0)
    GTEST_SKIP() << kPython << " cannot import torch (install python3-torch)";
  const std::string dir = ::testing::TempDir() + "/ref_" + GetParam();
  models::TestBertSpec spec;  // bert: hidden_act gelu (erf), as HF BERT
  spec.arch = GetParam();
  ASSERT_TRUE(models::WriteTestBertHf(spec, dir).ok());
  // Three prompts of different lengths: the shorter ones are padded.
  const std::vector<std::vector<int64_t>> prompts = {
      {2, 40, 7, 13, 60, 22, 9, 3},
      {2, 11, 12, 3},
      {2, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 3}};
  std::vector<std::string> parts;
  for (const auto& p : prompts) parts.push_back(absl::StrJoin(p, ","));
  const std::string out = testing::RunCommand(
      absl::StrCat(kPython, " ", ScriptPath(), " ", dir,
                   " '--ids=", absl::StrJoin(parts, ";"), "'"),
      &rc);
  ASSERT_EQ(rc, 0) << out;
  auto ref = base::ParseJson(out);
  ASSERT_TRUE(ref.ok()) << ref.status();
  for (const char* pooling : {"mean", "avg", "cls", "max", "last"}) {
    for (bool l2 : {false, true}) {
      SCOPED_TRACE(absl::StrCat(pooling, l2 ? " l2" : " none"));
      engine::FromPretrainedOptions fo;
      fo.qeff_home = ::testing::TempDir() + "/home";
      auto m = engine::QEFFAutoModel::FromPretrained(
          dir, fo, {*passes::ParsePooling(pooling), l2});
      ASSERT_TRUE(m.ok()) << m.status();
      engine::CompileParams cp;
      cp.seq_len = {16};
      cp.batch_size = 2;
      ASSERT_TRUE((*m)->Compile(cp).ok());
      auto r = (*m)->EmbedIds(prompts);
      ASSERT_TRUE(r.ok()) << r.status();
      const auto& rows = ref->Find(pooling)->Find(l2 ? "l2" : "none")->array();
      ASSERT_EQ(rows.size(), prompts.size());
      for (size_t i = 0; i < prompts.size(); ++i) {
        const auto& a = r->outputs[i].embedding;
        const auto& b = rows[i].array();
        ASSERT_EQ(a.size(), b.size());
        double diff = 0, mx = 0;
        for (size_t k = 0; k < a.size(); ++k) {
          diff = std::max(diff, std::fabs(a[k] - b[k].number()));
          mx = std::max(mx, std::fabs(b[k].number()));
        }
        EXPECT_LE(diff / mx, 1e-5) << "prompt " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Encoders, EmbeddingReference,
                         ::testing::Values("bert", "nomic-bert"),
                         [](const auto& info) {
                           return info.param == "bert" ? std::string("bert")
                                                       : std::string("nomic");
                         });

}  // namespace
}  // namespace qeff
