// perplexity: a text's perplexity under a model, scored exactly as
// llama.cpp's llama-perplexity scores it (engine/perplexity.h), from the
// device's compiled program.
//
//   bazel run //tools:perplexity -- --model M.gguf --text_file wiki.txt
//       --ctx_len 512 [--batch_size 4] [--output_json ppl.json]
#include "engine/perplexity.h"

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "tools/cli.h"
#include "tools/model_flags.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, text_file, "", "the text to score (required)");
ABSL_FLAG(int64_t, ctx_len, 512, "chunk length (llama-perplexity's -c)");
ABSL_FLAG(int64_t, batch_size, 1, "chunks per prefill call");
ABSL_FLAG(std::string, device, "cpu", "device: cpu | cpu:N/k | reference");
ABSL_FLAG(int32_t, num_cores, 0, "cores (0: the device's)");
ABSL_FLAG(std::string, output_json, "",
          "write {model, ctx_len, tokens, perplexity, chunks} here");

namespace qeff::tools {
namespace {

absl::Status Run(const std::string& argv0) {
  QEFF_ASSIGN_OR_RETURN(const std::string path, ModelPathFromFlags(argv0));
  const std::string text_file = UserPath(absl::GetFlag(FLAGS_text_file));
  if (text_file.empty())
    return absl::InvalidArgumentError("--text_file is required");
  QEFF_ASSIGN_OR_RETURN(std::string text, base::ReadFile(text_file));
  engine::FromPretrainedOptions fo = ModelOptionsFromFlags();
  fo.all_logits = true;
  QEFF_ASSIGN_OR_RETURN(
      auto model, engine::QEFFAutoModelForCausalLM::FromPretrained(path, fo));
  engine::PerplexityOptions po;
  po.ctx_len = absl::GetFlag(FLAGS_ctx_len);
  po.batch_size = absl::GetFlag(FLAGS_batch_size);
  po.device = absl::GetFlag(FLAGS_device);
  po.num_cores = absl::GetFlag(FLAGS_num_cores);
  // llama-perplexity's running line: [1]12.3456,[2]11.2345,...
  po.on_chunk = [](int64_t chunk, double ppl) {
    std::cout << (chunk ? "," : "") << "[" << chunk + 1 << "]"
              << absl::StrFormat("%.4f", ppl) << std::flush;
  };
  QEFF_ASSIGN_OR_RETURN(engine::PerplexityResult r,
                        engine::Perplexity(*model, text, po));
  std::cout << "\n"
            << absl::StrFormat(
                   "Final estimate: PPL = %.4f (%d tokens, %d chunks of %d, "
                   "%d scored)\n",
                   r.perplexity, r.tokens, r.chunks.size(), po.ctx_len,
                   r.scored);
  if (!absl::GetFlag(FLAGS_output_json).empty()) {
    base::JsonValue chunks = base::JsonValue::Array();
    for (double c : r.chunks) chunks.Append(base::JsonValue::Double(c));
    base::JsonValue d = base::JsonValue::Object();
    d.Set("model", base::JsonValue::String(path));
    d.Set("ctx_len", base::JsonValue::Int(po.ctx_len));
    d.Set("tokens", base::JsonValue::Int(r.tokens));
    d.Set("perplexity", base::JsonValue::Double(r.perplexity));
    d.Set("chunks", std::move(chunks));
    QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(
        UserPath(absl::GetFlag(FLAGS_output_json)), base::WriteJson(d) + "\n"));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  return qeff::tools::RunTool(
      argc, argv, "perplexity",
      "Perplexity of a text, scored as llama.cpp's llama-perplexity.",
      qeff::tools::Run);
}
