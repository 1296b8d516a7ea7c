// POST /v1/embeddings' JSON: OpenAI's response shape with the vectors the
// model API gives, text and id inputs, and request errors named (field,
// status).
#include "tools/embedding_service.h"

#include <string>

#include "base/json.h"
#include "gtest/gtest.h"
#include "models/test_encoder.h"

namespace qeff::tools {
namespace {

class EmbeddingServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/svc_bert");
    models::TestBertSpec spec;
    ASSERT_TRUE(models::WriteTestBertHf(spec, *dir_).ok());
    setenv("QEFF_HOME", (::testing::TempDir() + "/home").c_str(), 1);
  }
  static std::string* dir_;
};
std::string* EmbeddingServiceTest::dir_ = nullptr;

TEST_F(EmbeddingServiceTest, AnswersAsOpenAiAndAsTheModelApi) {
  EmbeddingServiceOptions o;
  o.seq_lens = {16, 32};
  o.pooling = {passes::Pooling::kMean, true};
  EmbeddingService svc(o);
  ASSERT_TRUE(svc.Load({{"bge", *dir_}}).ok());
  EXPECT_EQ(svc.model_ids(), std::vector<std::string>{"bge"});
  auto r = svc.Embed(R"({"model":"bge","input":["hello world","the cat"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = base::ParseJson(r.body);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->Find("object")->string_value(), "list");
  EXPECT_EQ(j->Find("model")->string_value(), "bge");
  const auto& data = j->Find("data")->array();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(*data[1].Find("index")->AsInt64(), 1);
  EXPECT_EQ(*j->Find("usage")->Find("prompt_tokens")->AsInt64(), 8);
  // The same vector as the model API.
  engine::FromPretrainedOptions fo;
  fo.qeff_home = ::testing::TempDir() + "/home";
  auto m = engine::QEFFAutoModel::FromPretrained(*dir_, fo, o.pooling);
  ASSERT_TRUE(m.ok());
  auto e = (*m)->Embed({"hello world"});
  ASSERT_TRUE(e.ok());
  const auto& v = data[0].Find("embedding")->array();
  ASSERT_EQ(v.size(), e->outputs[0].embedding.size());
  for (size_t i = 0; i < v.size(); ++i)
    EXPECT_NEAR(v[i].number(), e->outputs[0].embedding[i], 1e-6);
  // Token ids, one prompt and several.
  EXPECT_EQ(svc.Embed(R"({"model":"bge","input":[2,60,3]})").status, 200);
  EXPECT_EQ(svc.Embed(R"({"model":"bge","input":[[2,60,3],[2,3]]})").status,
            200);
}

TEST_F(EmbeddingServiceTest, BadRequestsNameTheField) {
  EmbeddingService svc({});
  ASSERT_TRUE(svc.Load({{"bge", *dir_}}).ok());
  struct Case {
    const char* body;
    int status;
    const char* needle;
  } cases[] = {
      {"not json", 400, "not a JSON object"},
      {R"({"input":"x"})", 400, "'model' is required"},
      {R"({"model":"nope","input":"x"})", 404, "model_not_found"},
      {R"({"model":"bge"})", 400, "'input' is required"},
      {R"({"model":"bge","input":[]})", 400, "must not be empty"},
      {R"({"model":"bge","input":["a",[1]]})", 400, "array of strings"},
      {R"({"model":"bge","input":"x","encoding_format":"base64"})", 400,
       "encoding_format"},
      {R"({"model":"bge","input":"x","dimensions":7})", 400, "dimensions"},
      {R"({"model":"bge","input":"x","temperature":1})", 400,
       "Unrecognized request argument supplied: temperature"},
      {R"({"model":"bge","input":[2,99999,3]})", 400, "99999"},
  };
  for (const Case& c : cases) {
    auto r = svc.Embed(c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find(c.needle), std::string::npos)
        << c.body << " -> " << r.body;
  }
}

}  // namespace
}  // namespace qeff::tools
