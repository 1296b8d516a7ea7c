// infer: load a model, transform it, compile it for a device with
// prefill/decode specializations, and generate text — the main job end to
// end. With no --model it generates a small seeded test model on first use
// (under $QEFF_HOME/test-models) and says so.
//
//   bazel run //tools:infer -- --model=stories260K.gguf \
//       --prompt="Once upon a time" --generation_len=64
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "hw/driver.h"
#include "ir/status_macros.h"
#include "models/gguf_writer.h"
#include "models/model_loader.h"
#include "models/test_model.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, model, "",
          "checkpoint: a .gguf file or a llama2.c .bin (empty: a seeded test "
          "model, generated on first use)");
ABSL_FLAG(std::string, tokenizer, "",
          "tokenizer for checkpoints without one (llama2.c tokenizer.bin)");
ABSL_FLAG(std::string, prompt, "Once upon a time", "prompt text");
ABSL_FLAG(std::string, prompt_ids, "",
          "comma-separated token ids fed as given (no BOS); overrides --prompt");
ABSL_FLAG(int64_t, generation_len, 32, "tokens to generate");
ABSL_FLAG(int64_t, prompt_len, 32, "prefill chunk length (the Prefill seq_len)");
ABSL_FLAG(int64_t, ctx_len, 128, "context length (retained-state cache slots)");
ABSL_FLAG(std::string, device, "reference", "device: reference");
ABSL_FLAG(std::string, output_json, "", "also write the results as JSON here");
ABSL_FLAG(bool, stop_at_eos, true, "stop after the end-of-sequence token");

namespace qeff::tools {
namespace {

absl::StatusOr<std::string> DefaultModel() {
  std::string dir = absl::StrCat(QeffHome(), "/test-models");
  std::string path = absl::StrCat(dir, "/qeff-test-llama-seed42.gguf");
  if (FileExists(path)) return path;
  QEFF_RETURN_IF_ERROR(MakeDirs(dir));
  std::cout << "No --model given: generating a small seeded test model (random "
               "weights, seed 42) at "
            << path << "\n";
  QEFF_RETURN_IF_ERROR(models::WriteTestModelGguf(models::TestModelSpec{}, path));
  return path;
}

absl::Status Run() {
  std::string model_path = absl::GetFlag(FLAGS_model);
  bool generated = false;
  if (model_path.empty()) {
    QEFF_ASSIGN_OR_RETURN(model_path, DefaultModel());
    generated = true;
  } else {
    model_path = UserPath(model_path);
  }
  models::LoadOptions lo;
  if (!absl::GetFlag(FLAGS_tokenizer).empty())
    lo.tokenizer_path = UserPath(absl::GetFlag(FLAGS_tokenizer));
  QEFF_ASSIGN_OR_RETURN(models::LoadedModel model, models::Load(model_path, lo));
  if (generated) std::cout << "Model: seeded test model (random weights; its text is gibberish)\n";

  std::vector<int64_t> prompt_ids;
  std::string prompt_text;
  bool have_text = absl::GetFlag(FLAGS_prompt_ids).empty();
  if (!have_text) {
    for (absl::string_view p : absl::StrSplit(absl::GetFlag(FLAGS_prompt_ids), ',')) {
      int64_t id;
      if (!absl::SimpleAtoi(p, &id) || id < 0 || id >= model.config.vocab_size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--prompt_ids: '", p, "' is not a token id in [0, ", model.config.vocab_size, ")"));
      }
      prompt_ids.push_back(id);
    }
  } else {
    if (!model.tokenizer) {
      return absl::InvalidArgumentError(
          absl::StrCat(model_path, " has no tokenizer: pass --tokenizer or --prompt_ids"));
    }
    prompt_text = absl::GetFlag(FLAGS_prompt);
    QEFF_ASSIGN_OR_RETURN(auto ids, model.tokenizer->Encode(prompt_text, /*add_bos=*/true));
    prompt_ids.assign(ids.begin(), ids.end());
  }

  const int64_t ctx_len = absl::GetFlag(FLAGS_ctx_len);
  const int64_t prompt_len = absl::GetFlag(FLAGS_prompt_len);
  QEFF_ASSIGN_OR_RETURN(auto device, hw::OpenDevice(absl::GetFlag(FLAGS_device)));
  auto specs = hw::PrefillDecodeSpecializations(1, prompt_len, ctx_len);
  QEFF_ASSIGN_OR_RETURN(engine::CompiledLM compiled,
                        engine::CompileLM(model.eager, *device, specs, {}));
  QEFF_ASSIGN_OR_RETURN(auto session, device->Load(compiled.program));

  engine::GenerationOptions go;
  go.prefill_seq_len = prompt_len;
  go.ctx_len = ctx_len;
  go.generation_len = absl::GetFlag(FLAGS_generation_len);
  if (absl::GetFlag(FLAGS_stop_at_eos) && model.tokenizer)
    go.eos_id = model.tokenizer->eos_id();
  engine::Generator gen(session.get());
  QEFF_ASSIGN_OR_RETURN(engine::GenerationResult r, gen.Generate(prompt_ids, go));

  std::string completion;
  if (model.tokenizer) {
    std::vector<int32_t> ids(r.token_ids.begin(), r.token_ids.end());
    QEFF_ASSIGN_OR_RETURN(completion, model.tokenizer->Decode(ids));
  }
  std::cout << "Device: " << device->name() << "\n";
  std::cout << "Prompt : " << (have_text ? prompt_text : absl::GetFlag(FLAGS_prompt_ids))
            << "\n";
  std::cout << "Completion : " << completion << "\n";
  std::cout << "Token ids : " << JoinInts(r.token_ids) << "\n";
  std::cout << absl::StrFormat(
      "TTFT: %.4f s | Decode: %.2f tok/s | Total: %.2f tok/s | E2E: %.4f s\n",
      r.stats.ttft_s, r.stats.decode_tok_s, r.stats.total_tok_s, r.stats.e2e_s);

  if (!absl::GetFlag(FLAGS_output_json).empty()) {
    std::string json = absl::StrCat(
        "{\"model\": ", JsonString(model_path), ", \"device\": ", JsonString(device->name()),
        ", \"artifacts\": {\"onnx\": null, \"program\": null}, \"results\": [{\"prompt\": ",
        have_text ? JsonString(prompt_text) : "null", ", \"prompt_ids\": [",
        JoinInts(prompt_ids), "], \"completion\": ", JsonString(completion),
        ", \"token_ids\": [", JoinInts(r.token_ids), "], \"stats\": ",
        absl::StrFormat("{\"ttft_s\": %.6f, \"decode_tok_s\": %.3f, \"total_tok_s\": "
                        "%.3f, \"e2e_s\": %.6f}",
                        r.stats.ttft_s, r.stats.decode_tok_s, r.stats.total_tok_s,
                        r.stats.e2e_s),
        "}]}\n");
    QEFF_RETURN_IF_ERROR(
        models::WriteFileAtomically(UserPath(absl::GetFlag(FLAGS_output_json)), json));
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
