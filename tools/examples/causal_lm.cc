// A user's whole flow through the model API, as QEfficient's README shows
// it in Python:
//
//   model = QEFFAutoModelForCausalLM.from_pretrained(path)
//   model.export()
//   model.compile(prefill_seq_len=32, ctx_len=128)
//   model.generate(prompts=[...])
//
// Run: bazel run //tools/examples:causal_lm -- MODEL "PROMPT" [N]
// (MODEL: a .gguf, a llama2.c .bin, a Hugging Face folder or ORG/NAME; no
// MODEL: the embedded stories260K).
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/str_join.h"
#include "engine/qeff_auto_model.h"
#include "tools/tool_util.h"

int main(int argc, char** argv) {
  using qeff::engine::QEFFAutoModelForCausalLM;
  std::string path = argc > 1 ? argv[1] : "";
  const std::string prompt = argc > 2 ? argv[2] : "Once upon a time";
  const int64_t n = argc > 3 ? std::atoll(argv[3]) : 32;
  if (path.empty()) {
    path = qeff::tools::EmbeddedModelPath(argv[0]);
  }

  auto model = QEFFAutoModelForCausalLM::FromPretrained(path);
  if (!model.ok()) {
    std::cerr << model.status().message() << "\n";
    return 1;
  }
  auto onnx = (*model)->Export();
  if (!onnx.ok()) {
    std::cerr << onnx.status().message() << "\n";
    return 1;
  }
  qeff::engine::CompileParams params;  // QEfficient's names and defaults
  params.prefill_seq_len = 32;
  params.ctx_len = 128;
  auto qpc = (*model)->Compile(params);
  if (!qpc.ok()) {
    std::cerr << qpc.status().message() << "\n";
    return 1;
  }
  qeff::engine::GenerateOptions go;
  go.generation_len = n;
  go.on_token = [](int64_t, int64_t, const std::string& text) {
    std::cout << text << std::flush;  // streamed as it is generated
  };
  auto out = (*model)->Generate({prompt}, go);
  if (!out.ok()) {
    std::cerr << out.status().message() << "\n";
    return 1;
  }
  const auto& g = out->outputs[0];
  std::cout << "\nONNX: " << *onnx << "\nQPC: " << *qpc
            << "\nToken ids : " << absl::StrJoin(g.token_ids, ",")
            << "\nprefill_time " << out->perf.prefill_time << " s, decode_perf "
            << out->perf.decode_perf << " tok/s, total_perf "
            << out->perf.total_perf << " tok/s, total_time "
            << out->perf.total_time << " s\n";
  return 0;
}
