// infer: load a model, transform it, compile it for a device with
// prefill/decode specializations, and generate text — the main job end to
// end. With no --model it generates a small seeded test model on first use
// (under $QEFF_HOME/test-models) and says so.
//
//   bazel run //tools:infer -- --model=stories260K.gguf
//       --prompt="Once upon a time" --generation_len=64  (one line)
//
// Several prompts (--prompts_file, one per line, or --prompt_ids lists
// separated by '|') run one after another at batch 1, or, with
// --full_batch_size=N, together through continuous batching (N cache slots;
// engine::ContinuousBatchGenerator); the results keep the prompts' order.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "base/utf8.h"
#include "engine/qeff_auto_model.h"
#include "engine/test_models.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, model, "",
          "checkpoint: a .gguf file or a llama2.c .bin (empty: a seeded test "
          "model, generated on first use)");
ABSL_FLAG(std::string, tokenizer, "",
          "tokenizer for checkpoints without one (llama2.c tokenizer.bin)");
ABSL_FLAG(std::string, prompt, "Once upon a time", "prompt text");
ABSL_FLAG(
    std::string, prompt_ids, "",
    "comma-separated token ids fed as given (no BOS); overrides --prompt; "
    "several prompts separated by '|' (e.g. 1,5,9|1,7)");
ABSL_FLAG(std::string, prompts_file, "",
          "a text file with one prompt per line (blank lines skipped); "
          "instead of --prompt / --prompt_ids");
ABSL_FLAG(int64_t, full_batch_size, 0,
          "continuous batching with this many cache slots (0: batch 1, the "
          "prompts one after another)");
ABSL_FLAG(int64_t, generation_len, 32, "tokens to generate");
ABSL_FLAG(int64_t, prompt_len, 32,
          "prefill chunk length (the Prefill seq_len)");
ABSL_FLAG(int64_t, ctx_len, 128, "context length (retained-state cache slots)");
ABSL_FLAG(std::string, device, "cpu",
          "device: cpu (all cores) | cpu:N (card 0 of N) | cpu:N/k (card k) | "
          "reference");
ABSL_FLAG(int32_t, num_cores, 0, "cores for the program (0: the device's)");
ABSL_FLAG(bool, mxfp6_matmul, false, "compile matmul weights to MXFP6 (cpu)");
ABSL_FLAG(std::string, output_json, "", "also write the results as JSON here");
ABSL_FLAG(bool, stop_at_eos, true, "stop after the end-of-sequence token");

namespace qeff::tools {
namespace {

using base::JsonValue;

// Whether --prompt differs from its default (then it may not be combined
// with --prompts_file).
bool PromptFlagGiven() {
  const absl::CommandLineFlag* f = absl::FindCommandLineFlag("prompt");
  return f && f->CurrentValue() != f->DefaultValue();
}

// --prompt_ids lists ("1,5,9|1,7").
absl::StatusOr<std::vector<std::vector<int64_t>>> ParseIdLists(
    const std::string& flag) {
  std::vector<std::vector<int64_t>> out;
  for (absl::string_view list : absl::StrSplit(flag, '|')) {
    out.emplace_back();
    for (absl::string_view p : absl::StrSplit(list, ',')) {
      int64_t id;
      if (!absl::SimpleAtoi(p, &id))
        return absl::InvalidArgumentError(
            absl::StrCat("--prompt_ids: '", p, "' is not a token id"));
      out.back().push_back(id);
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ReadPromptsFile(
    const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(std::string text, base::ReadFile(path));
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) out.emplace_back(line);
  }
  if (out.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no prompts (one per line)"));
  return out;
}

JsonValue IdsJson(const std::vector<int64_t>& ids) {
  JsonValue a = JsonValue::Array();
  for (int64_t id : ids) a.Append(JsonValue::Int(id));
  return a;
}

absl::Status Run() {
  std::string model_path = UserPath(absl::GetFlag(FLAGS_model));
  const bool generated = model_path.empty();
  const std::string home = engine::DefaultQeffHome();
  if (generated) {
    QEFF_ASSIGN_OR_RETURN(model_path, engine::DefaultTestModel(home));
    std::cout << "No --model given: using a small seeded test model (random "
                 "weights, seed 42; its text is gibberish) at "
              << model_path << "\n";
  }
  const std::string prompts_file = absl::GetFlag(FLAGS_prompts_file);
  const std::string prompt_ids = absl::GetFlag(FLAGS_prompt_ids);
  if (!prompts_file.empty() && !prompt_ids.empty())
    return absl::InvalidArgumentError(
        "--prompts_file and --prompt_ids are exclusive");
  if (!prompts_file.empty() && PromptFlagGiven())
    return absl::InvalidArgumentError(
        "--prompts_file and --prompt are exclusive");
  const int64_t full_batch_size = absl::GetFlag(FLAGS_full_batch_size);
  if (full_batch_size < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("--full_batch_size must be >= 0, got ", full_batch_size));

  engine::FromPretrainedOptions fo;
  fo.continuous_batching = full_batch_size > 0;
  fo.tokenizer_path = UserPath(absl::GetFlag(FLAGS_tokenizer));
  fo.qeff_home = home;
  QEFF_ASSIGN_OR_RETURN(
      auto model,
      engine::QEFFAutoModelForCausalLM::FromPretrained(model_path, fo));
  engine::CompileParams cp;
  cp.prefill_seq_len = absl::GetFlag(FLAGS_prompt_len);
  cp.ctx_len = absl::GetFlag(FLAGS_ctx_len);
  cp.full_batch_size = full_batch_size;
  cp.num_cores = absl::GetFlag(FLAGS_num_cores);
  cp.mxfp6_matmul = absl::GetFlag(FLAGS_mxfp6_matmul);
  cp.device = absl::GetFlag(FLAGS_device);
  QEFF_RETURN_IF_ERROR(model->Export().status());
  std::cout << (model->onnx_reused() ? "Reusing ONNX: " : "Exported ONNX: ")
            << model->onnx_path() << "\n";
  QEFF_RETURN_IF_ERROR(model->Compile(cp).status());
  std::cout << (model->program_reused() ? "Reusing program: "
                                        : "Compiled program: ")
            << model->qpc_path() << "\n";

  engine::GenerateOptions go;
  go.generation_len = absl::GetFlag(FLAGS_generation_len);
  go.stop_at_eos = absl::GetFlag(FLAGS_stop_at_eos);
  engine::GenerateResult r;
  if (!prompt_ids.empty()) {
    QEFF_ASSIGN_OR_RETURN(auto ids, ParseIdLists(prompt_ids));
    QEFF_ASSIGN_OR_RETURN(r, model->GenerateIds(ids, go));
  } else {
    std::vector<std::string> texts = {absl::GetFlag(FLAGS_prompt)};
    if (!prompts_file.empty()) {
      QEFF_ASSIGN_OR_RETURN(texts, ReadPromptsFile(UserPath(prompts_file)));
    }
    QEFF_ASSIGN_OR_RETURN(r, model->Generate(texts, go));
  }

  std::cout << "Device: " << model->device()->name() << "\n";
  JsonValue results = JsonValue::Array();
  for (const engine::GeneratedText& g : r.outputs) {
    std::cout << "Prompt : " << (g.prompt ? *g.prompt : JoinInts(g.prompt_ids))
              << "\nCompletion : " << g.text
              << "\nToken ids : " << JoinInts(g.token_ids) << "\n";
    std::cout << absl::StrFormat(
        "TTFT: %.4f s | Decode: %.2f tok/s | Total: %.2f tok/s | E2E: %.4f "
        "s\n",
        g.perf.prefill_time, g.perf.decode_perf, g.perf.total_perf,
        g.perf.total_time);
    JsonValue stats = JsonValue::Object();
    stats.Set("ttft_s", JsonValue::Double(g.perf.prefill_time));
    stats.Set("decode_tok_s", JsonValue::Double(g.perf.decode_perf));
    stats.Set("total_tok_s", JsonValue::Double(g.perf.total_perf));
    stats.Set("e2e_s", JsonValue::Double(g.perf.total_time));
    JsonValue o = JsonValue::Object();
    o.Set("prompt",
          g.prompt ? JsonValue::String(*g.prompt) : JsonValue::Null());
    o.Set("prompt_ids", IdsJson(g.prompt_ids));
    // JSON readers need valid UTF-8: a lone byte token becomes U+FFFD.
    o.Set("completion", JsonValue::String(base::ValidUtf8(g.text)));
    o.Set("token_ids", IdsJson(g.token_ids));
    o.Set("stats", std::move(stats));
    results.Append(std::move(o));
  }
  const bool several = r.outputs.size() > 1 || full_batch_size > 0;
  if (several) {
    std::cout << absl::StrFormat(
        "Prompts: %d | Generated: %d tokens in %.4f s | Throughput: %.2f "
        "tok/s (%s)\n",
        r.outputs.size(), r.generated_tokens, r.perf.total_time,
        r.perf.total_perf,
        full_batch_size > 0 ? absl::StrCat("continuous batching, "
                                           "full_batch_size ",
                                           full_batch_size)
                            : std::string("batch 1, one after another"));
  }
  if (!absl::GetFlag(FLAGS_output_json).empty()) {
    JsonValue artifacts = JsonValue::Object();
    artifacts.Set("onnx", JsonValue::String(model->onnx_path()));
    artifacts.Set("program", JsonValue::String(model->qpc_path()));
    JsonValue summary = JsonValue::Object();
    summary.Set("prompts", JsonValue::Int(r.outputs.size()));
    summary.Set("full_batch_size", JsonValue::Int(full_batch_size));
    summary.Set("generated_tokens", JsonValue::Int(r.generated_tokens));
    summary.Set("wall_s", JsonValue::Double(r.perf.total_time));
    summary.Set("generated_tok_s", JsonValue::Double(r.perf.total_perf));
    JsonValue doc = JsonValue::Object();
    doc.Set("model", JsonValue::String(model_path));
    doc.Set("device", JsonValue::String(model->device()->name()));
    doc.Set("artifacts", std::move(artifacts));
    doc.Set("results", std::move(results));
    doc.Set("summary", std::move(summary));
    base::JsonWriteOptions wo;
    wo.indent = 1;
    QEFF_RETURN_IF_ERROR(
        base::WriteFileAtomically(UserPath(absl::GetFlag(FLAGS_output_json)),
                                  base::WriteJson(doc, wo) + "\n"));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Generate text with a model on a qeff device.");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = qeff::tools::Run();
  if (!s.ok()) {
    std::cerr << "infer: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
