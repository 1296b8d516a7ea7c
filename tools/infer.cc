// infer: load a model, transform it, compile it for a device with
// prefill/decode specializations, and generate text — the main job end to
// end. With no --model it generates a small seeded test model on first use
// (under $QEFF_HOME/test-models) and says so.
//
//   bazel run //tools:infer -- --model=stories260K.gguf
//       --prompt="Once upon a time" --generation_len=64  (one line)
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
#include "engine/artifacts.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "engine/versions.h"
#include "hw/cpu/container.h"
#include "hw/driver.h"
#include "ir/status_macros.h"
#include "models/gguf_writer.h"
#include "models/model_loader.h"
#include "models/test_model.h"
#include "models/unicode.h"
#include "passes/export.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, model, "",
          "checkpoint: a .gguf file or a llama2.c .bin (empty: a seeded test "
          "model, generated on first use)");
ABSL_FLAG(std::string, tokenizer, "",
          "tokenizer for checkpoints without one (llama2.c tokenizer.bin)");
ABSL_FLAG(std::string, prompt, "Once upon a time", "prompt text");
ABSL_FLAG(
    std::string, prompt_ids, "",
    "comma-separated token ids fed as given (no BOS); overrides --prompt");
ABSL_FLAG(int64_t, generation_len, 32, "tokens to generate");
ABSL_FLAG(int64_t, prompt_len, 32,
          "prefill chunk length (the Prefill seq_len)");
ABSL_FLAG(int64_t, ctx_len, 128, "context length (retained-state cache slots)");
ABSL_FLAG(std::string, device, "cpu",
          "device: cpu (all cores) | cpu:N (card 0 of N) | cpu:N/k (card k) | "
          "reference");
ABSL_FLAG(int32_t, num_cores, 0, "cores for the program (0: the device's)");
ABSL_FLAG(bool, mxfp6_matmul, false, "compile matmul weights to MXFP6 (cpu)");
ABSL_FLAG(bool, export_onnx, true,
          "export the transformed model as ONNX into $QEFF_HOME (reused when "
          "it exists)");
ABSL_FLAG(std::string, output_json, "", "also write the results as JSON here");
ABSL_FLAG(bool, stop_at_eos, true, "stop after the end-of-sequence token");

namespace qeff::tools {
namespace {

// JSON readers need valid UTF-8: bytes that do not form a character (a
// random model can emit a lone byte token) become U+FFFD; token_ids stay
// exact.
std::string ValidUtf8(absl::string_view s) {
  return models::unicode::EncodeUtf8(models::unicode::DecodeUtf8(s));
}

absl::StatusOr<std::string> DefaultModel() {
  std::string dir = absl::StrCat(QeffHome(), "/test-models");
  std::string path = absl::StrCat(dir, "/qeff-test-llama-seed42.gguf");
  if (FileExists(path)) return path;
  QEFF_RETURN_IF_ERROR(MakeDirs(dir));
  std::cout << "No --model given: generating a small seeded test model (random "
               "weights, seed 42) at "
            << path << "\n";
  QEFF_RETURN_IF_ERROR(
      models::WriteTestModelGguf(models::TestModelSpec{}, path));
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
  QEFF_ASSIGN_OR_RETURN(models::LoadedModel model,
                        models::Load(model_path, lo));
  if (generated)
    std::cout
        << "Model: seeded test model (random weights; its text is gibberish)\n";

  std::vector<int64_t> prompt_ids;
  std::string prompt_text;
  bool have_text = absl::GetFlag(FLAGS_prompt_ids).empty();
  if (!have_text) {
    for (absl::string_view p :
         absl::StrSplit(absl::GetFlag(FLAGS_prompt_ids), ',')) {
      int64_t id;
      if (!absl::SimpleAtoi(p, &id) || id < 0 ||
          id >= model.config.vocab_size) {
        return absl::InvalidArgumentError(
            absl::StrCat("--prompt_ids: '", p, "' is not a token id in [0, ",
                         model.config.vocab_size, ")"));
      }
      prompt_ids.push_back(id);
    }
  } else {
    if (!model.tokenizer) {
      return absl::InvalidArgumentError(absl::StrCat(
          model_path, " has no tokenizer: pass --tokenizer or --prompt_ids"));
    }
    prompt_text = absl::GetFlag(FLAGS_prompt);
    QEFF_ASSIGN_OR_RETURN(
        auto ids, model.tokenizer->Encode(prompt_text, /*add_bos=*/true));
    prompt_ids.assign(ids.begin(), ids.end());
  }

  const int64_t ctx_len = absl::GetFlag(FLAGS_ctx_len);
  const int64_t prompt_len = absl::GetFlag(FLAGS_prompt_len);
  QEFF_ASSIGN_OR_RETURN(auto device,
                        hw::OpenDevice(absl::GetFlag(FLAGS_device)));
  auto specs = hw::PrefillDecodeSpecializations(1, prompt_len, ctx_len);
  hw::CompileOptions co;
  co.num_cores = absl::GetFlag(FLAGS_num_cores);
  co.mxfp6_matmul = absl::GetFlag(FLAGS_mxfp6_matmul);
  QEFF_ASSIGN_OR_RETURN(ir::Graph transformed,
                        engine::TransformForDevice(model.eager, {}));

  // The ONNX artifact (QEfficient's layout), keyed by the model's content.
  std::string onnx_path, program_path, export_params;
  std::string compile_key_base = "no-onnx";
  if (absl::GetFlag(FLAGS_export_onnx)) {
    passes::ExportArtifactOptions eo;
    eo.qeff_home = QeffHome();
    eo.architecture = model.architecture;
    QEFF_ASSIGN_OR_RETURN(eo.params_json,
                          engine::ExportParamsJson(eo.qeff_home, model.source,
                                                   model.architecture, {}));
    QEFF_ASSIGN_OR_RETURN(passes::ExportedArtifact art,
                          passes::ExportArtifact(transformed, eo));
    onnx_path = art.onnx_path;
    compile_key_base = art.hash16;
    export_params = eo.params_json;
    std::cout << (art.reused ? "Reusing ONNX: " : "Exported ONNX: ")
              << onnx_path << "\n";
  }

  // Compile; on the cpu driver the program container is kept beside the
  // ONNX (qpc-<hash16>/) and reused when it exists.
  std::shared_ptr<const hw::Program> program;
  const bool container =
      device->kind() == "cpu" && absl::GetFlag(FLAGS_export_onnx);
  if (container) {
    program_path =
        engine::ProgramArtifactDir(onnx_path, compile_key_base, specs,
                                   device->kind(), hw::cpu::ProgramIsa(), co);
    if (DirExists(program_path)) {
      auto read = hw::cpu::ReadProgram(program_path);
      if (read.ok()) {
        program = *read;
        std::cout << "Reusing program: " << program_path << "\n";
      } else {
        std::cout << "Recompiling: " << read.status().message() << "\n";
      }
    }
  }
  if (!program) {
    QEFF_ASSIGN_OR_RETURN(program, device->Compile(transformed, specs, co));
    if (container && !DirExists(program_path)) {
      QEFF_RETURN_IF_ERROR(
          hw::cpu::WriteProgram(*program, program_path,
                                engine::ProgramProvenanceJson(export_params)));
      std::cout << "Compiled program: " << program_path << "\n";
    }
  }
  QEFF_ASSIGN_OR_RETURN(auto session, device->Load(program));

  engine::GenerationOptions go;
  go.prefill_seq_len = prompt_len;
  go.ctx_len = ctx_len;
  go.generation_len = absl::GetFlag(FLAGS_generation_len);
  if (absl::GetFlag(FLAGS_stop_at_eos) && model.tokenizer)
    go.eos_id = model.tokenizer->eos_id();
  engine::Generator gen(session.get());
  QEFF_ASSIGN_OR_RETURN(engine::GenerationResult r,
                        gen.Generate(prompt_ids, go));

  std::string completion;
  if (model.tokenizer) {
    std::vector<int32_t> ids(r.token_ids.begin(), r.token_ids.end());
    QEFF_ASSIGN_OR_RETURN(completion, model.tokenizer->Decode(ids));
  }
  std::cout << "Device: " << device->name() << "\n";
  std::cout << "Prompt : "
            << (have_text ? prompt_text : absl::GetFlag(FLAGS_prompt_ids))
            << "\n";
  std::cout << "Completion : " << completion << "\n";
  std::cout << "Token ids : " << JoinInts(r.token_ids) << "\n";
  std::cout << absl::StrFormat(
      "TTFT: %.4f s | Decode: %.2f tok/s | Total: %.2f tok/s | E2E: %.4f s\n",
      r.stats.ttft_s, r.stats.decode_tok_s, r.stats.total_tok_s, r.stats.e2e_s);

  if (!absl::GetFlag(FLAGS_output_json).empty()) {
    std::string json = absl::StrCat(
        "{\"model\": ", JsonString(model_path),
        ", \"device\": ", JsonString(device->name()),
        ", \"artifacts\": {\"onnx\": ",
        onnx_path.empty() ? "null" : JsonString(onnx_path), ", \"program\": ",
        program_path.empty() ? "null" : JsonString(program_path),
        "}, \"results\": [{\"prompt\": ",
        have_text ? JsonString(prompt_text) : "null", ", \"prompt_ids\": [",
        JoinInts(prompt_ids),
        "], \"completion\": ", JsonString(ValidUtf8(completion)),
        ", \"token_ids\": [", JoinInts(r.token_ids), "], \"stats\": ",
        absl::StrFormat(
            "{\"ttft_s\": %.6f, \"decode_tok_s\": %.3f, \"total_tok_s\": "
            "%.3f, \"e2e_s\": %.6f}",
            r.stats.ttft_s, r.stats.decode_tok_s, r.stats.total_tok_s,
            r.stats.e2e_s),
        "}]}\n");
    QEFF_RETURN_IF_ERROR(models::WriteFileAtomically(
        UserPath(absl::GetFlag(FLAGS_output_json)), json));
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
