// Classifies audio files with a Wav2Vec2/Hubert ForSequenceClassification
// folder (QEFFAutoModelForAudioClassification): per file, the top_k labels
// (config.json's id2label) with softmax scores.
//
//   bazel run //tools:classify_audio -- --model=DIR --wav=a.wav,b.wav \
//       [--top_k=5] [--output_json=PATH] [--seq_len=480000] [--device=cpu]
//
// --output_json: {"model", "architecture", "device", "artifacts": {"onnx",
// "program"}, "results": [{"wav": PATH, "seq_len": N, "labels": [{"label",
// "id", "score"}...], "logits": [...]}]}.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "base/status_macros.h"
#include "tools/audio_flags.h"

ABSL_FLAG(int32_t, top_k, 5, "labels per file (<= 0: all)");

namespace {

using qeff::base::JsonValue;

absl::Status Run() {
  QEFF_ASSIGN_OR_RETURN(qeff::tools::AudioRun run,
                        qeff::tools::PrepareAudioRun());
  auto* cls = dynamic_cast<qeff::engine::QEFFAutoModelForAudioClassification*>(
      run.audio);
  if (cls == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(
        "--model: '", run.model->model_architecture(),
        "' is not a sequence-classification model (use //tools:transcribe "
        "for *ForCTC)"));
  QEFF_ASSIGN_OR_RETURN(auto results,
                        cls->Classify(run.inputs, absl::GetFlag(FLAGS_top_k)));
  JsonValue report = qeff::tools::AudioReportJson(run);
  JsonValue list = JsonValue::Array();
  for (size_t i = 0; i < results.size(); ++i) {
    std::printf("%s\n", run.wav_paths[i].c_str());
    JsonValue r = JsonValue::Object();
    r.Set("wav", JsonValue::String(run.wav_paths[i]));
    r.Set("seq_len", JsonValue::Int(results[i].seq_len));
    JsonValue labels = JsonValue::Array();
    for (const auto& l : results[i].labels) {
      std::printf("  %-24s %.6f\n", l.label.c_str(), l.score);
      labels.Append(JsonValue::Object()
                        .Set("label", JsonValue::String(l.label))
                        .Set("id", JsonValue::Int(l.id))
                        .Set("score", JsonValue::Double(l.score)));
    }
    r.Set("labels", std::move(labels));
    JsonValue logits = JsonValue::Array();
    for (float v : results[i].logits) logits.Append(JsonValue::Double(v));
    r.Set("logits", std::move(logits));
    list.Append(std::move(r));
  }
  report.Set("results", std::move(list));
  return qeff::tools::WriteAudioReport(report);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "classify_audio --model=DIR --wav=FILE[,FILE...] [--top_k=5] "
      "[--output_json=PATH] [--seq_len=N[,N...]] [--device=cpu]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "classify_audio: unexpected argument '%s'\n", rest[1]);
    return 2;
  }
  absl::Status s = Run();
  if (!s.ok()) {
    std::fprintf(stderr, "classify_audio: %s\n",
                 std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
