// Writes a seeded random test model as a Hugging Face folder (config.json,
// generation_config.json, model.safetensors, tokenizer_config.json for the
// llama family) and, with --gguf, the same weights as DIR/model.gguf.
//
//   bazel run //tools:make_test_model -- --arch=mistral --out=/tmp/mistral
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_join.h"
#include "models/test_encoder.h"
#include "models/test_model.h"
#include "tools/tool_util.h"

ABSL_FLAG(
    std::string, arch, "llama",
    "llama, mistral, qwen2, qwen3, mixtral, qwen3_moe, phi3, gpt2, "
    "gemma3_text, llama4_text, grok-1, or the encoders bert and nomic-bert");
ABSL_FLAG(std::string, vocab_gguf, "",
          "bert/nomic-bert: take the WordPiece vocabulary of this GGUF "
          "(default: a small built-in one)");
ABSL_FLAG(int64_t, seed, -1,
          "random seed (-1: the architecture's default test seed)");
ABSL_FLAG(std::string, out, "", "output folder (created if needed)");
ABSL_FLAG(bool, gguf, false, "also write OUT/model.gguf");
ABSL_FLAG(std::string, gguf_weights, "",
          "store the GGUF's weight matrices as q8_0 or q4_0 (default f32)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string out = qeff::tools::UserPath(absl::GetFlag(FLAGS_out));
  if (absl::GetFlag(FLAGS_out).empty()) {
    std::fprintf(stderr, "make_test_model: --out is required\n");
    return 2;
  }
  const std::string arch = absl::GetFlag(FLAGS_arch);
  if (arch == "bert" || arch == "nomic-bert") {  // models/test_encoder.h
    qeff::models::TestBertSpec es;
    es.arch = arch;
    if (absl::GetFlag(FLAGS_seed) >= 0)
      es.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
    es.vocab_gguf = qeff::tools::UserPath(absl::GetFlag(FLAGS_vocab_gguf));
    absl::Status st = qeff::models::WriteTestBertHf(es, out);
    if (st.ok() && absl::GetFlag(FLAGS_gguf))
      st = qeff::models::WriteTestBertGguf(es, out + "/model.gguf");
    if (!st.ok()) {
      std::fprintf(stderr, "make_test_model: %s\n", st.ToString().c_str());
      return 1;
    }
    std::printf("wrote %s test model to %s\n", arch.c_str(), out.c_str());
    return 0;
  }
  qeff::models::TestModelSpec spec;
  spec.arch = arch;
  const int64_t seed = absl::GetFlag(FLAGS_seed);
  spec.seed = seed >= 0 ? static_cast<uint64_t>(seed)
                        : qeff::models::DefaultTestSeed(spec.arch);
  const std::string wf = absl::GetFlag(FLAGS_gguf_weights);
  if (!wf.empty()) {
    auto f = qeff::ir::ParseQuantFormat(wf);
    if (!f.ok() || (*f != qeff::ir::QuantFormat::kQ8_0 &&
                    *f != qeff::ir::QuantFormat::kQ4_0)) {
      std::fprintf(stderr,
                   "make_test_model: --gguf_weights=%s (use q8_0 or q4_0)\n",
                   wf.c_str());
      return 2;
    }
    spec.gguf_weights = *f;
  }
  absl::Status st =
      qeff::models::WriteTestModelHf(spec, out, absl::GetFlag(FLAGS_gguf));
  if (!st.ok()) {
    std::fprintf(stderr, "make_test_model: %s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("wrote %s test model (seed %llu) to %s\n", spec.arch.c_str(),
              static_cast<unsigned long long>(spec.seed), out.c_str());
  return 0;
}
