// OpenAI completion requests: what is accepted (and how it maps onto the
// executor's request) and a table of malformed bodies, each a 4xx naming
// the field.
#include "tools/openai_api.h"

#include <string>
#include <variant>

#include "base/json.h"
#include "gtest/gtest.h"

namespace qeff::tools {
namespace {

TEST(OpenAiApi, ParsesTheDocumentedFields) {
  auto r = ParseCompletionRequest(
      R"({"model":"m","prompt":"Once upon","max_tokens":7,"temperature":0,)"
      R"("top_p":0.5,"seed":3,"stop":["\n","The"],"stream":true,)"
      R"("stream_options":{"include_usage":true},"top_k":5,"min_p":0.1,)"
      R"("repetition_penalty":1.2,"presence_penalty":0.5,"n":1,"echo":false,)"
      R"("logprobs":null,"user":"u","frequency_penalty":0})");
  ASSERT_TRUE(std::holds_alternative<CompletionRequest>(r))
      << std::get<ApiError>(r).message;
  const CompletionRequest& c = std::get<CompletionRequest>(r);
  EXPECT_EQ(c.model, "m");
  ASSERT_EQ(c.prompts.size(), 1u);
  EXPECT_EQ(std::get<std::string>(c.prompts[0]), "Once upon");
  EXPECT_TRUE(c.stream);
  EXPECT_TRUE(c.include_usage);
  EXPECT_EQ(c.request.generation_len, 7);
  EXPECT_EQ(c.request.sampling.temperature, 0.0f);
  EXPECT_EQ(c.request.sampling.top_p, 0.5f);
  EXPECT_EQ(c.request.sampling.seed, 3u);
  EXPECT_EQ(c.request.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(c.request.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(c.request.sampling.repetition_penalty, 1.2f);
  EXPECT_FLOAT_EQ(c.request.sampling.presence_penalty, 0.5f);
  EXPECT_EQ(c.request.stop_strings, (std::vector<std::string>{"\n", "The"}));
}

TEST(OpenAiApi, PromptFormsAndDefaults) {
  auto ids = ParseCompletionRequest(R"({"model":"m","prompt":[1,5,9]})");
  ASSERT_TRUE(std::holds_alternative<CompletionRequest>(ids));
  const CompletionRequest& c = std::get<CompletionRequest>(ids);
  EXPECT_EQ(std::get<std::vector<int64_t>>(c.prompts[0]),
            (std::vector<int64_t>{1, 5, 9}));
  EXPECT_EQ(c.request.generation_len, 16);          // OpenAI's default
  EXPECT_EQ(c.request.sampling.temperature, 1.0f);  // OpenAI's default
  auto many = ParseCompletionRequest(R"({"model":"m","prompt":["a","b"]})");
  ASSERT_TRUE(std::holds_alternative<CompletionRequest>(many));
  EXPECT_EQ(std::get<CompletionRequest>(many).prompts.size(), 2u);
  auto nested = ParseCompletionRequest(R"({"model":"m","prompt":[[1],[2,3]]})");
  ASSERT_TRUE(std::holds_alternative<CompletionRequest>(nested));
  EXPECT_EQ(std::get<CompletionRequest>(nested).prompts.size(), 2u);
}

TEST(OpenAiApi, MalformedRequestsNameTheField) {
  struct Case {
    const char* body;
    const char* param;
    const char* says;
  } cases[] = {
      {"", "", "could not parse the JSON body"},
      {"{", "", "could not parse the JSON body"},
      {"[1,2]", "", "must be a JSON object"},
      {R"({"prompt":"x"})", "model", "'model' is required"},
      {R"({"model":"m"})", "prompt", "'prompt' is required"},
      {R"({"model":7,"prompt":"x"})", "model", "non-empty string"},
      {R"({"model":"m","prompt":[]})", "prompt", "not empty"},
      {R"({"model":"m","prompt":[1,"a"]})", "prompt", "non-negative integers"},
      {R"({"model":"m","prompt":["a",1]})", "prompt", "an array of strings"},
      {R"({"model":"m","prompt":[-1]})", "prompt", "non-negative"},
      {R"({"model":"m","prompt":[1.5]})", "prompt", "non-negative integers"},
      {R"({"model":"m","prompt":{}})", "prompt", "must be a string"},
      {R"({"model":"m","prompt":"x","max_tokens":0})", "max_tokens",
       "at least 1"},
      {R"({"model":"m","prompt":"x","max_tokens":"9"})", "max_tokens",
       "must be an integer"},
      {R"({"model":"m","prompt":"x","temperature":3})", "temperature",
       "must be in [0, 2]"},
      {R"({"model":"m","prompt":"x","top_p":0})", "top_p", "(0, 1]"},
      {R"({"model":"m","prompt":"x","min_p":1})", "min_p", "below 1"},
      {R"({"model":"m","prompt":"x","top_k":-2})", "top_k", ">= 0"},
      {R"({"model":"m","prompt":"x","repetition_penalty":0})",
       "repetition_penalty", "must be in (0"},
      {R"({"model":"m","prompt":"x","seed":1.5})", "seed", "integer"},
      {R"({"model":"m","prompt":"x","stop":["a","b","c","d","e"]})", "stop",
       "up to 4"},
      {R"({"model":"m","prompt":"x","stop":""})", "stop", "not be empty"},
      {R"({"model":"m","prompt":"x","stream":"yes"})", "stream", "boolean"},
      {R"({"model":"m","prompt":"x","stream_options":{"include_usage":true}})",
       "stream_options", "only allowed when 'stream' is true"},
      {R"({"model":"m","prompt":"x","n":2})", "n", "other than 1"},
      {R"({"model":"m","prompt":"x","best_of":3})", "best_of", "other than 1"},
      {R"({"model":"m","prompt":"x","logprobs":2})", "logprobs",
       "not supported"},
      {R"({"model":"m","prompt":"x","echo":true})", "echo", "not supported"},
      {R"({"model":"m","prompt":"x","suffix":"end"})", "suffix",
       "not supported"},
      {R"({"model":"m","prompt":"x","frequency_penalty":0.5})",
       "frequency_penalty", "not supported"},
      {R"({"model":"m","prompt":"x","logit_bias":{"5":1}})", "logit_bias",
       "not supported"},
      {R"({"model":"m","prompt":"x","messages":[]})", "messages",
       "Unrecognized request argument supplied: messages"},
  };
  for (const Case& c : cases) {
    auto r = ParseCompletionRequest(c.body);
    ASSERT_TRUE(std::holds_alternative<ApiError>(r)) << c.body;
    const ApiError& e = std::get<ApiError>(r);
    EXPECT_EQ(e.http_status, 400) << c.body;
    EXPECT_EQ(e.param, c.param) << c.body;
    EXPECT_NE(e.message.find(c.says), std::string::npos)
        << c.body << " -> " << e.message;
    // The error body is OpenAI's shape.
    auto j = base::ParseJson(ApiErrorJson(e));
    ASSERT_TRUE(j.ok());
    ASSERT_NE(j->Find("error"), nullptr);
    EXPECT_EQ(j->Find("error")->Find("message")->string_value(), e.message);
  }
}

TEST(OpenAiApi, ResponseShapes) {
  CompletionChoice ch;
  ch.text = "hi";
  ch.finish = engine::FinishReason::kStopString;
  ch.prompt_tokens = 3;
  ch.completion_tokens = 2;
  auto j = base::ParseJson(CompletionJson("cmpl-1", 5, "m", {ch}));
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->Find("object")->string_value(), "text_completion");
  const base::JsonValue& c0 = j->Find("choices")->array()[0];
  EXPECT_EQ(c0.Find("text")->string_value(), "hi");
  EXPECT_EQ(c0.Find("finish_reason")->string_value(), "stop");
  EXPECT_EQ(*j->Find("usage")->Find("total_tokens")->AsInt64(), 5);
  auto chunk = base::ParseJson(CompletionChunkJson(
      "cmpl-1", 5, "m", 0, "x", engine::FinishReason::kNone));
  ASSERT_TRUE(chunk.ok());
  EXPECT_TRUE(
      chunk->Find("choices")->array()[0].Find("finish_reason")->is_null());
  EXPECT_STREQ(OpenAiFinishReason(engine::FinishReason::kContextLength),
               "length");
  auto models = base::ParseJson(ModelListJson({"a", "b"}, 1));
  ASSERT_TRUE(models.ok());
  EXPECT_EQ(models->Find("data")->array().size(), 2u);
}

}  // namespace
}  // namespace qeff::tools
