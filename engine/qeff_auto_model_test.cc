// The model API: QEfficient's class flow, artifact names, parameters by
// name, the loader's class choice, transform's form factor, and the same
// tokens from a Hugging Face folder and the device's reloaded program.
#include "engine/qeff_auto_model.h"

#include <sys/stat.h>

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "models/test_model.h"

namespace qeff::engine {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Basename(const std::string& p) {
  return p.substr(p.find_last_of('/') + 1);
}

class QEFFAutoModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/qwen2");
    models::TestModelSpec spec;
    spec.arch = "qwen2";
    ASSERT_TRUE(models::WriteTestModelHf(spec, *dir_).ok());
  }
  FromPretrainedOptions Options() const {
    FromPretrainedOptions o;
    o.qeff_home = ::testing::TempDir() + "/home";
    return o;
  }
  static std::string* dir_;
};
std::string* QEFFAutoModelTest::dir_ = nullptr;

TEST_F(QEFFAutoModelTest, ExportCompileGenerateWithQEfficientNames) {
  auto m = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->model_name(), "Qwen2ForCausalLM");
  auto onnx = (*m)->Export();
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  EXPECT_EQ(*onnx, Options().qeff_home + "/Qwen2ForCausalLM/Qwen2ForCausalLM-" +
                       (*m)->export_hash() + "/Qwen2ForCausalLM.onnx");
  CompileParams cp;
  cp.prefill_seq_len = 8;
  cp.ctx_len = 32;
  auto qpc = (*m)->Compile(cp);
  ASSERT_TRUE(qpc.ok()) << qpc.status();
  EXPECT_TRUE(absl::StartsWith(Basename(*qpc), "qpc-"));
  EXPECT_TRUE(IsDir(*qpc + "/qpc"));
  GenerateOptions go;
  go.generation_len = 5;
  int streamed = 0;
  go.on_token = [&](int64_t i, int64_t, const std::string&) {
    EXPECT_EQ(i, 0);
    ++streamed;
  };
  auto out = (*m)->Generate({"hello world"}, go);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->outputs.size(), 1u);
  EXPECT_EQ(out->outputs[0].token_ids.size(), 5u);
  EXPECT_EQ(streamed, 5);
  EXPECT_GT(out->perf.total_time, 0);
  // BOS exactly when the model's tokenizer config adds one.
  const models::Tokenizer& tok = *(*m)->model().tokenizer;
  auto plain = tok.Encode("hello world", false);
  ASSERT_TRUE(plain.ok());
  std::vector<int64_t> want;
  if (tok.add_bos_by_default()) want.push_back(tok.bos_id());
  want.insert(want.end(), plain->begin(), plain->end());
  EXPECT_EQ(out->outputs[0].prompt_ids, want);

  // A second model object reuses both artifacts and, on the reference
  // device (a program saved as ONNX and loaded back), gives the same ids.
  auto again = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Compile(cp).ok());
  EXPECT_TRUE((*again)->onnx_reused());
  EXPECT_TRUE((*again)->program_reused());
  cp.device = "reference";
  auto ref_qpc = (*again)->Compile(cp);
  ASSERT_TRUE(ref_qpc.ok()) << ref_qpc.status();
  EXPECT_NE(*ref_qpc, *qpc);
  auto ref_again = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE((*ref_again)->Compile(cp).ok());
  EXPECT_TRUE((*ref_again)->program_reused());
  auto ref_out = (*ref_again)->Generate({"hello world"}, go);
  ASSERT_TRUE(ref_out.ok()) << ref_out.status();
  EXPECT_EQ(ref_out->outputs[0].token_ids, out->outputs[0].token_ids);
}

TEST_F(QEFFAutoModelTest, ExportDirAndCompileDirAsQEfficient) {
  auto m = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE(m.ok());
  const std::string ed = ::testing::TempDir() + "/exports/mine";
  auto onnx = (*m)->Export(ed);
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  EXPECT_EQ(*onnx, ed + "-" + (*m)->export_hash() + "/Qwen2ForCausalLM.onnx");
  CompileParams cp;
  cp.prefill_seq_len = 8;
  cp.ctx_len = 32;
  cp.compile_dir = ::testing::TempDir() + "/qpcs";
  auto qpc = (*m)->Compile(cp);
  ASSERT_TRUE(qpc.ok()) << qpc.status();
  EXPECT_TRUE(absl::StartsWith(*qpc, cp.compile_dir + "/qpc-")) << *qpc;
}

TEST_F(QEFFAutoModelTest, ParametersByQEfficientName) {
  CompileParams p;
  EXPECT_TRUE(SetCompileParam(&p, "ctx_len", base::JsonValue::Int(256)).ok());
  EXPECT_EQ(p.ctx_len, 256);
  EXPECT_TRUE(
      SetCompileParam(&p, "mxfp6_matmul", base::JsonValue::Bool(true)).ok());
  EXPECT_TRUE(p.mxfp6_matmul);
  auto s = SetCompileParam(&p, "prefill_only", base::JsonValue::Bool(true));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("'prefill_only'"), std::string::npos) << s;
  s = SetCompileParam(&p, "num_speculative_tokens", base::JsonValue::Int(2));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  s = SetCompileParam(&p, "ctx_lenn", base::JsonValue::Int(2));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("known: prefill_seq_len"), std::string::npos);
  s = SetCompileParam(&p, "ctx_len", base::JsonValue::String("x"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(QEFFAutoModelTest, CompileRulesAndErrors) {
  auto m = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE(m.ok());
  CompileParams cp;
  cp.full_batch_size = 2;  // needs continuous_batching at load
  EXPECT_FALSE((*m)->Compile(cp).ok());
  cp.full_batch_size = 0;
  cp.prefill_seq_len = 64;
  cp.ctx_len = 32;
  EXPECT_FALSE((*m)->Compile(cp).ok());
  cp.prefill_seq_len = 8;
  cp.device = "tpu";
  auto s = (*m)->Compile(cp).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  // Capacity is checked before any work.
  cp.device = "cpu";
  ASSERT_TRUE((*m)->Compile(cp).ok());
  GenerateOptions go;
  go.generation_len = 40;
  auto out = (*m)->Generate({"hello"}, go);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("ctx_len"), std::string::npos);
}

TEST_F(QEFFAutoModelTest, ContinuousBatchingThroughTheClass) {
  FromPretrainedOptions o = Options();
  o.continuous_batching = true;
  auto m = QEFFAutoModelForCausalLM::FromPretrained(*dir_, o);
  ASSERT_TRUE(m.ok());
  CompileParams cp;
  cp.prefill_seq_len = 8;
  cp.ctx_len = 32;
  cp.full_batch_size = 2;
  ASSERT_TRUE((*m)->Compile(cp).ok());
  const auto& specs = *(*m)->compile_params().specializations;
  EXPECT_EQ(specs[1].symbols.at("batch_size"), 2);  // Decode = full batch
  GenerateOptions go;
  go.generation_len = 4;
  auto cb = (*m)->Generate({"hello world", "a b", "world"}, go);
  ASSERT_TRUE(cb.ok()) << cb.status();
  auto solo = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  cp.full_batch_size = 0;
  ASSERT_TRUE((*solo)->Compile(cp).ok());
  auto one = (*solo)->Generate({"hello world", "a b", "world"}, go);
  ASSERT_TRUE(one.ok()) << one.status();
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(cb->outputs[i].token_ids, one->outputs[i].token_ids) << i;
}

TEST_F(QEFFAutoModelTest, StaticBatchesEqualBatchOne) {
  CompileParams cp;
  cp.prefill_seq_len = 4;
  cp.ctx_len = 32;
  GenerateOptions go;
  go.generation_len = 5;
  const std::vector<std::string> prompts = {"hello world", "a b", "world",
                                            "hello a b world"};
  auto solo = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE((*solo)->Compile(cp).ok());
  auto one = (*solo)->Generate(prompts, go);
  ASSERT_TRUE(one.ok()) << one.status();
  cp.batch_size = 3;  // 4 prompts: the second batch is incomplete
  auto batched = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE((*batched)->Compile(cp).ok());
  EXPECT_EQ((*batched)->compile_params().specializations->at(0).symbols.at(
                "batch_size"),
            3);
  auto three = (*batched)->Generate(prompts, go);
  ASSERT_TRUE(three.ok()) << three.status();
  ASSERT_EQ(three->outputs.size(), 4u);
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ(three->outputs[i].token_ids, one->outputs[i].token_ids) << i;
}

// Sampling (QEfficient's parameters): seeded and reproducible, and the same
// tokens per prompt at batch 1, in static batches and in continuous
// batching (prompt i draws from seed + i; the cpu driver is batch-invariant).
TEST_F(QEFFAutoModelTest, SeededSamplingIsReproducibleInEveryBatchingMode) {
  GenerateOptions go;
  go.generation_len = 8;
  go.stop_at_eos = false;
  go.sampling.temperature = 1.2f;
  go.sampling.top_k = 40;
  go.sampling.top_p = 0.95f;
  go.sampling.repetition_penalty = 1.1f;
  go.sampling.seed = 2024;
  const std::vector<std::string> prompts = {"hello world", "a b", "world"};
  CompileParams cp;
  cp.prefill_seq_len = 4;
  cp.ctx_len = 32;
  auto run = [&](int64_t batch, int64_t fbs) {
    FromPretrainedOptions o = Options();
    o.continuous_batching = fbs > 0;
    auto m = QEFFAutoModelForCausalLM::FromPretrained(*dir_, o);
    EXPECT_TRUE(m.ok());
    CompileParams c = cp;
    c.batch_size = batch;
    c.full_batch_size = fbs;
    EXPECT_TRUE((*m)->Compile(c).ok());
    auto r = (*m)->Generate(prompts, go);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::vector<int64_t>> ids;
    for (const auto& g : r->outputs) ids.push_back(g.token_ids);
    return ids;
  };
  const auto solo = run(1, 0);
  EXPECT_EQ(run(1, 0), solo);  // reproducible
  EXPECT_EQ(run(2, 0), solo);  // static batches
  EXPECT_EQ(run(1, 2), solo);  // continuous batching
  go.sampling.seed = 2025;
  EXPECT_NE(run(1, 0), solo);  // another seed, other tokens
  go.sampling.temperature = -1;
  auto m = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE((*m)->Compile(cp).ok());
  auto bad = (*m)->Generate(prompts, go);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("temperature"), std::string::npos);
}

TEST_F(QEFFAutoModelTest, ExecuteUsesAProgramFolder) {
  auto m = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  CompileParams cp;
  cp.prefill_seq_len = 8;
  cp.ctx_len = 32;
  auto qpc = (*m)->Compile(cp);
  ASSERT_TRUE(qpc.ok());
  GenerateOptions go;
  go.generation_len = 4;
  auto want = (*m)->Generate({"hello world"}, go);
  ASSERT_TRUE(want.ok());
  auto e = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE((*e)->UseProgram(*qpc + "/qpc").ok());  // the qpc/ form too
  EXPECT_EQ((*e)->qpc_path(), *qpc);
  EXPECT_EQ((*e)->compile_params().ctx_len, 32);
  auto got = (*e)->Generate({"hello world"}, go);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->outputs[0].token_ids, want->outputs[0].token_ids);
  // cloud.compile from the exported ONNX into a folder of the user's.
  const std::string dir = ::testing::TempDir() + "/mine/qpcs";
  auto c = CompileOnnx((*m)->onnx_path(), cp, dir);
  ASSERT_TRUE(c.ok()) << c.status();
  auto e2 = QEFFAutoModelForCausalLM::FromPretrained(*dir_, Options());
  ASSERT_TRUE((*e2)->UseProgram(dir).ok());
  auto got2 = (*e2)->Generate({"hello world"}, go);
  ASSERT_TRUE(got2.ok()) << got2.status();
  EXPECT_EQ(got2->outputs[0].token_ids, want->outputs[0].token_ids);
  EXPECT_FALSE((*e2)->UseProgram(::testing::TempDir() + "/none").ok());
}

TEST_F(QEFFAutoModelTest, CommonLoaderAndTransformFormFactor) {
  auto m = QEFFCommonLoader::FromPretrained(*dir_, Options());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NE(dynamic_cast<QEFFAutoModelForCausalLM*>(m->get()), nullptr);
  auto s = Transform(**m, "edge");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'edge'"), std::string::npos);
  EXPECT_FALSE((*m)->transformed());
  EXPECT_TRUE(Transform(**m).ok());
  EXPECT_TRUE((*m)->transformed());
  auto missing = QEFFCommonLoader::FromPretrained(*dir_ + "/nope", Options());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
}

}  // namespace
}  // namespace qeff::engine
