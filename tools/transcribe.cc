// Transcribes audio files with a Wav2Vec2ForCTC / HubertForCTC folder
// (QEfficient's QEFFAutoModelForCTC): greedy CTC decoding with the folder's
// vocab.json, one line of text per file.
//
//   bazel run //tools:transcribe -- --model=DIR --wav=a.wav,b.wav \
//       [--output_json=PATH] [--seq_len=480000] [--device=cpu]
//
// --output_json: {"model", "architecture", "device", "artifacts": {"onnx",
// "program"}, "results": [{"wav": PATH, "seq_len": N, "text": TEXT,
// "frame_ids": [...]}]}.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "base/status_macros.h"
#include "tools/audio_flags.h"

namespace {

using qeff::base::JsonValue;

absl::Status Run() {
  QEFF_ASSIGN_OR_RETURN(qeff::tools::AudioRun run,
                        qeff::tools::PrepareAudioRun());
  auto* ctc = dynamic_cast<qeff::engine::QEFFAutoModelForCTC*>(run.audio);
  if (ctc == nullptr)
    return absl::InvalidArgumentError(
        absl::StrCat("--model: '", run.model->model_architecture(),
                     "' is not a CTC model (use //tools:classify_audio for "
                     "*ForSequenceClassification)"));
  QEFF_ASSIGN_OR_RETURN(auto results, ctc->Generate(run.inputs));
  JsonValue report = qeff::tools::AudioReportJson(run);
  JsonValue list = JsonValue::Array();
  for (size_t i = 0; i < results.size(); ++i) {
    std::printf("%s: %s\n", run.wav_paths[i].c_str(), results[i].text.c_str());
    JsonValue ids = JsonValue::Array();
    for (int64_t id : results[i].frame_ids) ids.Append(JsonValue::Int(id));
    list.Append(JsonValue::Object()
                    .Set("wav", JsonValue::String(run.wav_paths[i]))
                    .Set("seq_len", JsonValue::Int(results[i].seq_len))
                    .Set("text", JsonValue::String(results[i].text))
                    .Set("frame_ids", std::move(ids)));
  }
  report.Set("results", std::move(list));
  return qeff::tools::WriteAudioReport(report);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "transcribe --model=DIR --wav=FILE[,FILE...] [--output_json=PATH] "
      "[--seq_len=N[,N...]] [--device=cpu]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "transcribe: unexpected argument '%s'\n", rest[1]);
    return 2;
  }
  absl::Status s = Run();
  if (!s.ok()) {
    std::fprintf(stderr, "transcribe: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
