// QEFFAutoModel's exported ONNX (pooling and L2 in the graph) run by stock
// onnxruntime equals qeff's cpu device on the same padded batch, for a
// BERT (mean, L2) and a nomic-bert (cls): max|Δ|/max|ref| <= 1e-5. Skips
// with a reason when onnxruntime-node is absent from the peers folder.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/json.h"
#include "engine/qeff_auto_model_embedding.h"
#include "gtest/gtest.h"
#include "models/test_encoder.h"
#include "tests/util/test_util.h"

namespace qeff {
namespace {

struct Case {
  std::string arch;
  passes::Pooling pooling;
  bool l2;
};

class OrtEmbedding : public ::testing::TestWithParam<Case> {};

TEST_P(OrtEmbedding, StockOnnxruntimeEqualsCpuDevice) {
  std::string why;
  const std::string peers =
      testing::PeersDir("node_modules/onnxruntime-node/package.json", &why);
  if (peers.empty()) GTEST_SKIP() << why;
  const Case& c = GetParam();
  const std::string dir = ::testing::TempDir() + "/ort_" + c.arch;
  models::TestBertSpec spec;
  spec.arch = c.arch;
  ASSERT_TRUE(models::WriteTestBertHf(spec, dir).ok());
  engine::FromPretrainedOptions fo;
  fo.qeff_home = ::testing::TempDir() + "/home";
  auto m = engine::QEFFAutoModel::FromPretrained(dir, fo, {c.pooling, c.l2});
  ASSERT_TRUE(m.ok()) << m.status();
  auto onnx = (*m)->Export();
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  engine::CompileParams cp;
  cp.seq_len = {16};
  cp.batch_size = 2;
  ASSERT_TRUE((*m)->Compile(cp).ok());
  const std::vector<std::vector<int64_t>> prompts = {
      {2, 40, 7, 13, 60, 22, 9, 3}, {2, 11, 12, 3}};
  auto r = (*m)->EmbedIds(prompts);
  ASSERT_TRUE(r.ok()) << r.status();
  // The same padded batch for onnxruntime.
  std::vector<std::string> ids, mask;
  for (const auto& p : prompts) {
    std::vector<int64_t> row(16, 0), mrow(16, 0);
    for (size_t i = 0; i < p.size(); ++i) {
      row[i] = p[i];
      mrow[i] = 1;
    }
    ids.push_back(absl::StrCat("[", absl::StrJoin(row, ","), "]"));
    mask.push_back(absl::StrCat("[", absl::StrJoin(mrow, ","), "]"));
  }
  const std::string input = ::testing::TempDir() + "/ort_input.json";
  ASSERT_TRUE(
      base::WriteFileAtomically(
          input, absl::StrCat("{\"input_ids\": [", absl::StrJoin(ids, ","),
                              "], \"attention_mask\": [",
                              absl::StrJoin(mask, ","), "]}"))
          .ok());
  int rc;
  const std::string out = testing::RunCommand(
      absl::StrCat("node ", testing::Runfile("tests/e2e/peers/ort_embed.mjs"),
                   " ", peers, " ", *onnx, " ", input),
      &rc);
  ASSERT_EQ(rc, 0) << out;
  auto j = base::ParseJson(out);
  ASSERT_TRUE(j.ok()) << j.status() << "\n" << out;
  const auto& flat = j->Find("output")->array();
  const size_t h = r->outputs[0].embedding.size();
  ASSERT_EQ(flat.size(), prompts.size() * h);
  for (size_t b = 0; b < prompts.size(); ++b) {
    double diff = 0, mx = 0;
    for (size_t k = 0; k < h; ++k) {
      const double ref = flat[b * h + k].number();
      diff = std::max(diff, std::fabs(r->outputs[b].embedding[k] - ref));
      mx = std::max(mx, std::fabs(ref));
    }
    std::printf("%s row %zu: max|d|/max|ref| = %.3g\n", c.arch.c_str(), b,
                diff / mx);
    EXPECT_LE(diff / mx, 1e-5) << "row " << b;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Encoders, OrtEmbedding,
    ::testing::Values(Case{"bert", passes::Pooling::kMean, true},
                      Case{"nomic-bert", passes::Pooling::kCls, false}),
    [](const auto& info) {
      return info.param.arch == "bert" ? std::string("bert_mean_l2")
                                       : std::string("nomic_cls");
    });

}  // namespace
}  // namespace qeff
