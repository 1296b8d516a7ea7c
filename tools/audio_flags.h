// The flags //tools:classify_audio and //tools:transcribe share, and the
// steps they share: load the model folder through QEFFCommonLoader, read
// each --wav (resampled to the model's rate), compile with the --seq_len
// specializations (default: QEfficient's 480000, raised to the longest
// input when that is longer), and write --output_json atomically.
#ifndef QEFF_TOOLS_AUDIO_FLAGS_H_
#define QEFF_TOOLS_AUDIO_FLAGS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "base/json.h"
#include "engine/qeff_auto_model_audio.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, wav);
ABSL_DECLARE_FLAG(std::string, seq_len);
ABSL_DECLARE_FLAG(std::string, device);
ABSL_DECLARE_FLAG(int64_t, batch_size);
ABSL_DECLARE_FLAG(std::string, output_json);

namespace qeff::tools {

struct AudioRun {
  std::unique_ptr<engine::QEFFBaseModel> model;
  engine::QEFFAudioEncoderModel* audio = nullptr;  // model, as audio
  std::vector<std::string> wav_paths;
  std::vector<std::vector<float>> inputs;  // at the model's sampling_rate
};

// Loads --model, reads every --wav, compiles for --device.
absl::StatusOr<AudioRun> PrepareAudioRun();

// The JSON skeleton both tools write: {"model", "device", "artifacts":
// {"onnx", "program"}, "results": []}.
base::JsonValue AudioReportJson(const AudioRun& run);

// Writes `report` to --output_json when given.
absl::Status WriteAudioReport(const base::JsonValue& report);

}  // namespace qeff::tools

#endif  // QEFF_TOOLS_AUDIO_FLAGS_H_
