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
#include "base/status_macros.h"
#include "engine/artifacts.h"
#include "engine/batch_generator.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "engine/versions.h"
#include "hw/cpu/container.h"
#include "hw/driver.h"
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

// One prompt: its text (none for --prompt_ids), its ids and how the report
// shows it.
struct Prompt {
  std::optional<std::string> text;
  std::vector<int64_t> ids;
  std::string label;
};

// Whether --prompt differs from its default (then it may not be combined
// with --prompts_file).
bool PromptFlagGiven() {
  const absl::CommandLineFlag* f = absl::FindCommandLineFlag("prompt");
  return f && f->CurrentValue() != f->DefaultValue();
}

absl::StatusOr<std::string> DefaultModel() {
  std::string dir = absl::StrCat(QeffHome(), "/test-models");
  std::string path = absl::StrCat(dir, "/qeff-test-llama-seed42.gguf");
  if (base::FileExists(path)) return path;
  QEFF_RETURN_IF_ERROR(base::MakeDirs(dir));
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

  // The prompts: --prompt_ids (lists separated by '|'), --prompts_file or
  // --prompt.
  std::vector<Prompt> prompts;
  const std::string prompts_file = absl::GetFlag(FLAGS_prompts_file);
  const std::string prompt_ids_flag = absl::GetFlag(FLAGS_prompt_ids);
  if (!prompts_file.empty() && !prompt_ids_flag.empty())
    return absl::InvalidArgumentError(
        "--prompts_file and --prompt_ids are exclusive");
  if (!prompts_file.empty() && PromptFlagGiven())
    return absl::InvalidArgumentError(
        "--prompts_file and --prompt are exclusive");
  if (!prompt_ids_flag.empty()) {
    for (absl::string_view list : absl::StrSplit(prompt_ids_flag, '|')) {
      Prompt pr;
      pr.label = std::string(list);
      for (absl::string_view p : absl::StrSplit(list, ',')) {
        int64_t id;
        if (!absl::SimpleAtoi(p, &id) || id < 0 ||
            id >= model.config.vocab_size) {
          return absl::InvalidArgumentError(
              absl::StrCat("--prompt_ids: '", p, "' is not a token id in [0, ",
                           model.config.vocab_size, ")"));
        }
        pr.ids.push_back(id);
      }
      prompts.push_back(std::move(pr));
    }
  } else {
    std::vector<std::string> texts;
    std::string source = "--prompt";
    if (!prompts_file.empty()) {
      source = UserPath(prompts_file);
      std::ifstream in(source);
      if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", source));
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) texts.push_back(line);
      }
      if (texts.empty())
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": no prompts (one per line)"));
    } else {
      texts.push_back(absl::GetFlag(FLAGS_prompt));
    }
    if (!model.tokenizer) {
      return absl::InvalidArgumentError(absl::StrCat(
          model_path, " has no tokenizer: pass --tokenizer or --prompt_ids"));
    }
    for (size_t i = 0; i < texts.size(); ++i) {
      Prompt pr;
      pr.text = texts[i];
      pr.label = texts[i];
      auto ids = model.tokenizer->EncodePrompt(texts[i]);
      if (!ids.ok())
        return absl::Status(
            ids.status().code(),
            absl::StrCat(source, ": prompt ", i, ": ", ids.status().message()));
      pr.ids.assign(ids->begin(), ids->end());
      prompts.push_back(std::move(pr));
    }
  }

  const int64_t ctx_len = absl::GetFlag(FLAGS_ctx_len);
  const int64_t prompt_len = absl::GetFlag(FLAGS_prompt_len);
  const int64_t full_batch_size = absl::GetFlag(FLAGS_full_batch_size);
  const int64_t generation_len = absl::GetFlag(FLAGS_generation_len);
  if (full_batch_size < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("--full_batch_size must be >= 0, got ", full_batch_size));
  // Capacity of every prompt before any work (DESIGN.md).
  // (One prompt: engine::Generator says it; continuous batching: the batch
  // generator names the request.)
  for (size_t i = 0; prompts.size() > 1 && i < prompts.size(); ++i) {
    const int64_t L = static_cast<int64_t>(prompts[i].ids.size());
    if (L + generation_len - 1 > ctx_len)
      return absl::InvalidArgumentError(absl::StrCat(
          "prompt ", i, ": a prompt of ", L, " tokens and ", generation_len,
          " generated tokens need ctx_len >= ", L + generation_len - 1,
          ", but ctx_len is ", ctx_len));
  }
  QEFF_ASSIGN_OR_RETURN(auto device,
                        hw::OpenDevice(absl::GetFlag(FLAGS_device)));
  passes::TransformLMOptions to;
  to.continuous_batching = full_batch_size > 0;
  auto specs = full_batch_size > 0
                   ? engine::ContinuousBatchingSpecializations(
                         full_batch_size, prompt_len, ctx_len)
                   : hw::PrefillDecodeSpecializations(1, prompt_len, ctx_len);
  hw::CompileOptions co;
  co.num_cores = absl::GetFlag(FLAGS_num_cores);
  co.mxfp6_matmul = absl::GetFlag(FLAGS_mxfp6_matmul);
  QEFF_ASSIGN_OR_RETURN(ir::Graph transformed,
                        engine::TransformForDevice(model.eager, to));

  // The ONNX artifact (QEfficient's layout), keyed by the model's content.
  std::string onnx_path, program_path, export_params;
  std::string compile_key_base = "no-onnx";
  if (absl::GetFlag(FLAGS_export_onnx)) {
    passes::ExportArtifactOptions eo;
    eo.qeff_home = QeffHome();
    eo.architecture = model.architecture;
    QEFF_ASSIGN_OR_RETURN(eo.params_json,
                          engine::ExportParamsJson(eo.qeff_home, model.source,
                                                   model.architecture, to));
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
    if (base::DirExists(program_path)) {
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
    if (container && !base::DirExists(program_path)) {
      QEFF_RETURN_IF_ERROR(
          hw::cpu::WriteProgram(*program, program_path,
                                engine::ProgramProvenanceJson(export_params)));
      std::cout << "Compiled program: " << program_path << "\n";
    }
  }
  QEFF_ASSIGN_OR_RETURN(auto session, device->Load(program));

  int64_t eos_id = -1;
  if (absl::GetFlag(FLAGS_stop_at_eos) && model.tokenizer)
    eos_id = model.tokenizer->eos_id();
  std::vector<engine::GenerationResult> results;
  const auto t0 = std::chrono::steady_clock::now();
  if (full_batch_size > 0) {
    QEFF_ASSIGN_OR_RETURN(engine::ContinuousBatchOptions cbo,
                          engine::ContinuousBatchOptionsFor(specs));
    cbo.vocab_size = model.config.vocab_size;
    std::vector<engine::BatchRequest> requests;
    for (const Prompt& pr : prompts) {
      engine::BatchRequest r;
      r.prompt = pr.ids;
      r.generation_len = generation_len;
      r.eos_id = eos_id;
      requests.push_back(std::move(r));
    }
    engine::ContinuousBatchGenerator gen(session.get(), cbo);
    QEFF_ASSIGN_OR_RETURN(engine::BatchResult br, gen.Generate(requests));
    for (auto& r : br.results) results.push_back(std::move(r.generation));
  } else {
    engine::GenerationOptions go;
    go.prefill_seq_len = prompt_len;
    go.ctx_len = ctx_len;
    go.generation_len = generation_len;
    go.eos_id = eos_id;
    engine::Generator gen(session.get());
    for (const Prompt& pr : prompts) {
      QEFF_ASSIGN_OR_RETURN(engine::GenerationResult r,
                            gen.Generate(pr.ids, go));
      results.push_back(std::move(r));
    }
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();

  std::cout << "Device: " << device->name() << "\n";
  std::vector<std::string> completions;
  std::string json_results;
  int64_t generated_tokens = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const engine::GenerationResult& r = results[i];
    generated_tokens += static_cast<int64_t>(r.token_ids.size());
    std::string completion;
    if (model.tokenizer) {
      std::vector<int32_t> ids(r.token_ids.begin(), r.token_ids.end());
      QEFF_ASSIGN_OR_RETURN(completion, model.tokenizer->Decode(ids));
    }
    std::cout << "Prompt : " << prompts[i].label << "\n";
    std::cout << "Completion : " << completion << "\n";
    std::cout << "Token ids : " << JoinInts(r.token_ids) << "\n";
    std::cout << absl::StrFormat(
        "TTFT: %.4f s | Decode: %.2f tok/s | Total: %.2f tok/s | E2E: %.4f "
        "s\n",
        r.stats.ttft_s, r.stats.decode_tok_s, r.stats.total_tok_s,
        r.stats.e2e_s);
    absl::StrAppend(
        &json_results, i ? ", " : "", "{\"prompt\": ",
        prompts[i].text ? base::JsonQuote(*prompts[i].text) : "null",
        ", \"prompt_ids\": [", JoinInts(prompts[i].ids),
        "], \"completion\": ", base::JsonQuote(ValidUtf8(completion)),
        ", \"token_ids\": [", JoinInts(r.token_ids), "], \"stats\": ",
        absl::StrFormat(
            "{\"ttft_s\": %.6f, \"decode_tok_s\": %.3f, \"total_tok_s\": "
            "%.3f, \"e2e_s\": %.6f}",
            r.stats.ttft_s, r.stats.decode_tok_s, r.stats.total_tok_s,
            r.stats.e2e_s),
        "}");
  }
  const double throughput = wall_s > 0 ? generated_tokens / wall_s : 0;
  if (prompts.size() > 1 || full_batch_size > 0) {
    std::cout << absl::StrFormat(
        "Prompts: %d | Generated: %d tokens in %.4f s | Throughput: %.2f "
        "tok/s (%s)\n",
        prompts.size(), generated_tokens, wall_s, throughput,
        full_batch_size > 0
            ? absl::StrCat("continuous batching, full_batch_size ",
                           full_batch_size)
            : std::string("batch 1, one after another"));
  }

  if (!absl::GetFlag(FLAGS_output_json).empty()) {
    std::string json = absl::StrCat(
        "{\"model\": ", base::JsonQuote(model_path),
        ", \"device\": ", base::JsonQuote(device->name()),
        ", \"artifacts\": {\"onnx\": ",
        onnx_path.empty() ? "null" : base::JsonQuote(onnx_path),
        ", \"program\": ",
        program_path.empty() ? "null" : base::JsonQuote(program_path),
        "}, \"results\": [", json_results, "], \"summary\": ",
        absl::StrFormat("{\"prompts\": %d, \"full_batch_size\": %d, "
                        "\"generated_tokens\": %d, \"wall_s\": %.6f, "
                        "\"generated_tok_s\": %.3f}",
                        prompts.size(), full_batch_size, generated_tokens,
                        wall_s, throughput),
        "}\n");
    QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(
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
