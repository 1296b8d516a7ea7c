// embed: sentence embeddings from an encoder (QEFFAutoModel), as llama.cpp's
// llama-embedding computes them.
//
//   bazel run //tools:embed -- --model bge-small/ --prompt "hello|world"
//       --pooling mean --normalize l2 --seq_len 32,64,128
//       [--output_json out.json]
//
// Prints one line per prompt (its specialization and the first values);
// --output_json writes {"model", "pooling", "normalize", "results":
// [{"prompt", "prompt_ids", "embedding"}]} (DESIGN.md "Contracts").
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "engine/qeff_auto_model_embedding.h"
#include "tools/cli.h"
#include "tools/model_flags.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, pooling, "mean", "mean | avg | cls | max | last");
ABSL_FLAG(std::string, normalize, "none",
          "none | l2 (default none, QEfficient's; llama-embedding defaults "
          "to l2, its --embd-normalize 2)");
ABSL_FLAG(std::string, prompt, "", "prompts, several separated by '|'");
ABSL_FLAG(std::string, prompts_file, "", "a file of prompts, one per line");
ABSL_FLAG(std::string, prompts_txt_file_path, "",
          "QEfficient's name for --prompts_file");
ABSL_FLAG(std::string, seq_len, "32",
          "compiled lengths, e.g. 32,64,128 (default 32): one program, the "
          "smallest length that fits runs each batch");
ABSL_FLAG(bool, truncate, false,
          "cut prompts longer than the largest seq_len instead of failing");
ABSL_FLAG(int64_t, batch_size, 1, "prompts per run");
ABSL_FLAG(std::string, device, "cpu", "device: cpu | cpu:N/k | reference");
ABSL_FLAG(int32_t, num_cores, 0, "cores (0: the device's)");
ABSL_FLAG(std::string, output_json, "",
          "write {model, pooling, normalize, results} here");

namespace qeff::tools {
namespace {

absl::Status Run(const std::string& argv0) {
  QEFF_ASSIGN_OR_RETURN(const std::string path, ModelPathFromFlags(argv0));
  QEFF_ASSIGN_OR_RETURN(passes::Pooling pooling,
                        passes::ParsePooling(absl::GetFlag(FLAGS_pooling)));
  const std::string norm = absl::GetFlag(FLAGS_normalize);
  if (norm != "none" && norm != "l2")
    return absl::InvalidArgumentError(
        absl::StrCat("--normalize: '", norm, "' (use none or l2)"));
  std::string file = absl::GetFlag(FLAGS_prompts_file);
  const std::string file2 = absl::GetFlag(FLAGS_prompts_txt_file_path);
  if (!file.empty() && !file2.empty())
    return absl::InvalidArgumentError(
        "give --prompts_file or --prompts_txt_file_path, not both");
  if (file.empty()) file = file2;
  QEFF_ASSIGN_OR_RETURN(std::vector<std::string> prompts,
                        ReadPrompts(absl::GetFlag(FLAGS_prompt),
                                    file.empty() ? file : UserPath(file)));
  engine::CompileParams cp;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_seq_len), ',')) {
    int64_t n;
    if (!absl::SimpleAtoi(part, &n) || n <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat("--seq_len: '", part, "' is not a positive integer"));
    cp.seq_len.push_back(n);
  }
  cp.batch_size = absl::GetFlag(FLAGS_batch_size);
  cp.device = absl::GetFlag(FLAGS_device);
  cp.num_cores = absl::GetFlag(FLAGS_num_cores);
  QEFF_ASSIGN_OR_RETURN(
      auto model, engine::QEFFAutoModel::FromPretrained(
                      path, ModelOptionsFromFlags(), {pooling, norm == "l2"}));
  QEFF_RETURN_IF_ERROR(model->Compile(cp).status());
  engine::EmbedOptions eo;
  eo.truncate = absl::GetFlag(FLAGS_truncate);
  QEFF_ASSIGN_OR_RETURN(engine::EmbeddingResult r, model->Embed(prompts, eo));
  using base::JsonValue;
  JsonValue results = JsonValue::Array();
  for (const engine::Embedding& e : r.outputs) {
    std::string head;
    for (size_t i = 0; i < e.embedding.size() && i < 4; ++i)
      absl::StrAppend(&head, i ? " " : "", e.embedding[i]);
    std::printf("%s (%zu tokens, %s seq_len %lld): [%s ...] (%zu values)\n",
                base::JsonQuote(e.prompt.value_or("")).c_str(),
                e.prompt_ids.size(), e.specialization.c_str(),
                static_cast<long long>(e.seq_len), head.c_str(),
                e.embedding.size());
    JsonValue ids = JsonValue::Array(), vec = JsonValue::Array();
    for (int64_t id : e.prompt_ids) ids.Append(JsonValue::Int(id));
    for (float x : e.embedding) vec.Append(JsonValue::Double(x));
    JsonValue o = JsonValue::Object();
    o.Set("prompt", JsonValue::String(e.prompt.value_or("")));
    o.Set("prompt_ids", std::move(ids));
    o.Set("embedding", std::move(vec));
    results.Append(std::move(o));
  }
  std::printf("%zu prompts in %.3f s (%.1f sentences/s)\n", r.outputs.size(),
              r.total_time,
              r.total_time > 0 ? r.outputs.size() / r.total_time : 0.0);
  if (!absl::GetFlag(FLAGS_output_json).empty()) {
    JsonValue d = JsonValue::Object();
    d.Set("model", JsonValue::String(path));
    d.Set("pooling",
          JsonValue::String(std::string(passes::PoolingName(pooling))));
    d.Set("normalize", JsonValue::String(norm));
    d.Set("results", std::move(results));
    QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(
        UserPath(absl::GetFlag(FLAGS_output_json)), base::WriteJson(d) + "\n"));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  return qeff::tools::RunTool(
      argc, argv, "embed",
      "Sentence embeddings from an encoder model (QEFFAutoModel).",
      qeff::tools::Run);
}
