// QEFFAutoModel: one program holding several sequence lengths with the
// smallest fitting one chosen per input, capacity errors before work,
// padding- and batch-invariance, the cpu device equal to the reference
// device, GGUF equal to the HF folder, and the loader's class choice.
#include "engine/qeff_auto_model_embedding.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "models/test_encoder.h"
#include "models/test_model.h"

namespace qeff::engine {
namespace {

double MaxRelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0, r = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    m = std::max(m, std::fabs(double(a[i]) - b[i]));
    r = std::max(r, std::fabs(double(b[i])));
  }
  return a.size() == b.size() ? m / r : 1e9;
}

std::vector<int64_t> Ids(int n, int salt) {
  std::vector<int64_t> ids = {2};  // [CLS]
  for (int i = 1; i + 1 < n; ++i) ids.push_back(5 + (i * 7 + salt) % 60);
  ids.push_back(3);  // [SEP]
  return ids;
}

class EmbeddingModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/bert");
    models::TestBertSpec spec;
    spec.hidden_act = "gelu_new";  // so that the GGUF computes the same
    absl::Status st = models::WriteTestBertHf(spec, *dir_);
    ASSERT_TRUE(st.ok()) << st;
    st = models::WriteTestBertGguf(spec, *dir_ + ".gguf");
    ASSERT_TRUE(st.ok()) << st;
  }
  FromPretrainedOptions Options() const {
    FromPretrainedOptions o;
    o.qeff_home = ::testing::TempDir() + "/home";
    return o;
  }
  std::vector<float> EmbedOne(const std::string& path, passes::Pooling p,
                              const std::vector<int64_t>& ids,
                              const std::string& device = "cpu",
                              int64_t seq_len = 64) {
    auto m = QEFFAutoModel::FromPretrained(path, Options(), {p, false});
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) return {};
    CompileParams cp;
    cp.seq_len = {seq_len};
    cp.device = device;
    auto c = (*m)->Compile(cp);
    EXPECT_TRUE(c.ok()) << c.status();
    auto r = (*m)->EmbedIds({ids});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->outputs[0].embedding : std::vector<float>{};
  }
  static std::string* dir_;
};
std::string* EmbeddingModelTest::dir_ = nullptr;

TEST_F(EmbeddingModelTest, SeveralLengthsInOneProgramSmallestFittingRuns) {
  auto m = QEFFAutoModel::FromPretrained(*dir_, Options());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->model_name(), "BertModel");
  CompileParams cp;
  cp.seq_len = {128, 32, 64};
  auto qpc = (*m)->Compile(cp);
  ASSERT_TRUE(qpc.ok()) << qpc.status();
  const auto& specs = *(*m)->compile_params().specializations;
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].name, "Embedding_0");
  EXPECT_EQ(specs[0].symbols.at("seq_len"), 32);
  EXPECT_EQ(specs[2].name, "Embedding_2");
  EXPECT_EQ(specs[2].symbols.at("seq_len"), 128);
  EXPECT_EQ((*m)->program()->specializations().size(), 3u);

  auto r = (*m)->EmbedIds({Ids(20, 0), Ids(50, 1), Ids(32, 2), Ids(33, 3)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outputs[0].specialization, "Embedding_0");
  EXPECT_EQ(r->outputs[0].seq_len, 32);
  EXPECT_EQ(r->outputs[1].specialization, "Embedding_1");
  EXPECT_EQ(r->outputs[1].seq_len, 64);
  EXPECT_EQ(r->outputs[2].seq_len, 32);
  EXPECT_EQ(r->outputs[3].seq_len, 64);
  ASSERT_EQ(r->outputs[0].embedding.size(), 32u);

  // Too long: an error before any work, naming the limit; or truncated.
  auto too_long = (*m)->EmbedIds({Ids(20, 0), Ids(200, 0)});
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("prompt 1: 200 tokens exceed"),
            std::string::npos)
      << too_long.status();
  EmbedOptions trunc;
  trunc.truncate = true;
  auto cut = (*m)->EmbedIds({Ids(200, 0)}, trunc);
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_EQ(cut->outputs[0].prompt_ids.size(), 128u);
  EXPECT_EQ(cut->outputs[0].seq_len, 128);

  // Padding never leaks: the 20-token prompt alone through a 128 program.
  std::vector<float> solo =
      EmbedOne(*dir_, passes::Pooling::kMean, Ids(20, 0), "cpu", 128);
  EXPECT_LT(MaxRelDiff(r->outputs[0].embedding, solo), 1e-5);
}

TEST_F(EmbeddingModelTest, EveryPoolingCpuEqualsReferenceAndBatchesAgree) {
  for (passes::Pooling p :
       {passes::Pooling::kMean, passes::Pooling::kAvg, passes::Pooling::kCls,
        passes::Pooling::kMax, passes::Pooling::kLast}) {
    SCOPED_TRACE(std::string(passes::PoolingName(p)));
    const std::vector<float> cpu = EmbedOne(*dir_, p, Ids(23, 5));
    const std::vector<float> ref = EmbedOne(*dir_, p, Ids(23, 5), "reference");
    EXPECT_LT(MaxRelDiff(cpu, ref), 1e-5);
    // In a batch of 3 with longer and shorter neighbours.
    auto m = QEFFAutoModel::FromPretrained(*dir_, Options(), {p, false});
    ASSERT_TRUE(m.ok());
    CompileParams cp;
    cp.seq_len = {64};
    cp.batch_size = 3;
    ASSERT_TRUE((*m)->Compile(cp).ok());
    auto r = (*m)->EmbedIds({Ids(40, 1), Ids(23, 5), Ids(7, 2), Ids(9, 9)});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_LT(MaxRelDiff(r->outputs[1].embedding, ref), 1e-5);
  }
}

TEST_F(EmbeddingModelTest, GgufEqualsHfFolderAndL2Normalises) {
  const std::vector<int64_t> ids = Ids(17, 4);
  const std::vector<float> hf = EmbedOne(*dir_, passes::Pooling::kCls, ids);
  const std::vector<float> gguf =
      EmbedOne(*dir_ + ".gguf", passes::Pooling::kCls, ids);
  EXPECT_LT(MaxRelDiff(gguf, hf), 1e-5);
  auto m = QEFFAutoModel::FromPretrained(*dir_ + ".gguf", Options(),
                                         {passes::Pooling::kCls, true});
  ASSERT_TRUE(m.ok()) << m.status();
  auto r = (*m)->Embed({"Hello world, the cat sat on the mat."});
  ASSERT_TRUE(r.ok()) << r.status();
  double n = 0, dot = 0, hn = 0;
  const auto& e = r->outputs[0].embedding;
  for (float x : e) n += double(x) * x;
  EXPECT_NEAR(n, 1.0, 1e-5);
  // [CLS] hello world , the cat sat on the mat . [SEP]
  EXPECT_EQ(r->outputs[0].prompt_ids.size(), 12u);
  EXPECT_EQ(r->outputs[0].prompt_ids.front(), 2);
  EXPECT_EQ(r->outputs[0].prompt_ids.back(), 3);
  (void)dot;
  (void)hn;
}

TEST_F(EmbeddingModelTest, LoaderChoosesTheClassAndBadInputIsNamed) {
  auto any = QEFFCommonLoader::FromPretrained(*dir_, Options());
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_NE(dynamic_cast<QEFFAutoModel*>(any->get()), nullptr);
  auto lm = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE(lm.ok());
  auto exported = (*lm)->Export();
  ASSERT_FALSE(exported.ok());
  EXPECT_NE(exported.status().message().find("is an encoder"),
            std::string::npos)
      << exported.status();
  auto m = QEFFAutoModel::FromPretrained(*dir_, Options());
  ASSERT_TRUE(m.ok());
  CompileParams cp;
  cp.seq_len = {32, 1000};
  auto c = (*m)->Compile(cp);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("seq_len 1000"), std::string::npos);
  auto bad = (*m)->EmbedIds({{2, 99999, 3}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("99999"), std::string::npos);
  EXPECT_FALSE(passes::ParsePooling("none").ok());
}

}  // namespace
}  // namespace qeff::engine

namespace qeff::engine {
namespace {

// nomic-bert (RoPE, SwiGLU): GGUF == HF folder, cpu == reference device, in
// a padded batch, through a two-length program.
TEST(NomicBertEmbedding, GgufEqualsHfCpuEqualsReference) {
  const std::string dir = ::testing::TempDir() + "/nomic";
  models::TestBertSpec spec;
  spec.arch = "nomic-bert";
  ASSERT_TRUE(models::WriteTestBertHf(spec, dir).ok());
  ASSERT_TRUE(models::WriteTestBertGguf(spec, dir + ".gguf").ok());
  FromPretrainedOptions fo;
  fo.qeff_home = ::testing::TempDir() + "/home";
  std::vector<std::vector<float>> runs;
  for (const std::string& path : {dir, dir + ".gguf", dir}) {
    auto m = QEFFAutoModel::FromPretrained(path, fo);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ((*m)->model_name(), "NomicBertModel");
    CompileParams cp;
    cp.seq_len = {16, 32};
    cp.batch_size = 2;
    cp.device = runs.size() == 2 ? "reference" : "cpu";
    ASSERT_TRUE((*m)->Compile(cp).ok());
    auto r = (*m)->EmbedIds({Ids(20, 1), Ids(9, 2)});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->outputs[1].seq_len, 32);  // batched with a 20-token row
    runs.push_back(r->outputs[1].embedding);
  }
  EXPECT_LT(MaxRelDiff(runs[1], runs[0]), 1e-5);
  EXPECT_LT(MaxRelDiff(runs[0], runs[2]), 1e-5);
}

}  // namespace
}  // namespace qeff::engine

namespace qeff::engine {
namespace {

// A causal LM used as an embedder: `last` pooling is the final normed hidden
// state at the last real token, so lm_head(embedding) equals the eager
// graph's logits at that position (the eager graph is checked against
// PyTorch in tests/reference); padding in a batch changes nothing.
TEST(DecoderEmbedding, LastPoolingIsTheFinalHiddenBehindTheLogits) {
  for (const char* arch : {"llama", "gpt2"}) {
    SCOPED_TRACE(arch);
    const std::string dir = ::testing::TempDir() + "/dec_" + arch;
    models::TestModelSpec spec;
    spec.arch = arch;
    ASSERT_TRUE(models::WriteTestModelHf(spec, dir).ok());
    FromPretrainedOptions fo;
    fo.qeff_home = ::testing::TempDir() + "/home";
    auto m =
        QEFFAutoModel::FromPretrained(dir, fo, {passes::Pooling::kLast, false});
    ASSERT_TRUE(m.ok()) << m.status();
    CompileParams cp;
    cp.seq_len = {16};
    cp.batch_size = 2;
    ASSERT_TRUE((*m)->Compile(cp).ok());
    const std::vector<int64_t> ids = {1, 40, 7, 13, 60, 22, 9};
    auto r = (*m)->EmbedIds({ids, {1, 5, 6}});
    ASSERT_TRUE(r.ok()) << r.status();
    const std::vector<float>& e = r->outputs[0].embedding;
    // Eager logits at the last position.
    ir::Graph g = (*m)->model().eager;
    ASSERT_TRUE(ir::InferShapes(g).ok());
    const int64_t S = static_cast<int64_t>(ids.size());
    std::vector<int64_t> pos(S);
    for (int64_t i = 0; i < S; ++i) pos[i] = i;
    auto out =
        ir::Evaluator::Run(g, {{"input_ids", ir::Tensor::I64({1, S}, ids)},
                               {"position_ids", ir::Tensor::I64({1, S}, pos)}});
    ASSERT_TRUE(out.ok()) << out.status();
    const ir::Tensor& logits = (*out)[0];
    const int64_t V = logits.dims()[2], H = static_cast<int64_t>(e.size());
    const auto& w = (*m)->model().weights;
    const ir::Tensor& head =
        w.contains("lm_head.weight") ? w.at("lm_head.weight")
        : w.contains("wte.weight")   ? w.at("wte.weight")
                                     : w.at("model.embed_tokens.weight");
    double diff = 0, mx = 0;
    for (int64_t v = 0; v < V; ++v) {
      double dot = 0;
      for (int64_t h = 0; h < H; ++h)
        dot += double(e[h]) * head.GetDouble(v * H + h);
      const double ref = logits.GetDouble((S - 1) * V + v);
      diff = std::max(diff, std::fabs(dot - ref));
      mx = std::max(mx, std::fabs(ref));
    }
    EXPECT_LT(diff / mx, 1e-5);
  }
}

}  // namespace
}  // namespace qeff::engine
