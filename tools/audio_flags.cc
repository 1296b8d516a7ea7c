#include "tools/audio_flags.h"

#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, model, "",
          "a Hugging Face folder (config.json + safetensors) of a "
          "Wav2Vec2/Hubert ForCTC or ForSequenceClassification");
ABSL_FLAG(std::string, wav, "", "WAV files, comma-separated");
ABSL_FLAG(std::string, seq_len, "",
          "input lengths in samples to compile, comma-separated (default "
          "480000 = 30 s at 16 kHz, or the longest input)");
ABSL_FLAG(std::string, device, "cpu", "device: cpu, cpu:N, reference");
ABSL_FLAG(int64_t, batch_size, 1, "inputs per run");
ABSL_FLAG(std::string, output_json, "", "write the results as JSON here");

namespace qeff::tools {

absl::StatusOr<AudioRun> PrepareAudioRun() {
  AudioRun run;
  const std::string model = absl::GetFlag(FLAGS_model);
  if (model.empty())
    return absl::InvalidArgumentError("--model=DIR is required");
  const std::string wavs = absl::GetFlag(FLAGS_wav);
  if (wavs.empty())
    return absl::InvalidArgumentError("--wav=FILE[,FILE...] is required");
  QEFF_ASSIGN_OR_RETURN(
      run.model, engine::QEFFCommonLoader::FromPretrained(UserPath(model)));
  run.audio = dynamic_cast<engine::QEFFAudioEncoderModel*>(run.model.get());
  if (run.audio == nullptr)
    return absl::InvalidArgumentError(
        absl::StrCat(model, ": '", run.model->model_architecture(),
                     "' is not an audio model"));
  int64_t longest = 0;
  for (absl::string_view w : absl::StrSplit(wavs, ',', absl::SkipEmpty())) {
    run.wav_paths.push_back(UserPath(std::string(w)));
    QEFF_ASSIGN_OR_RETURN(std::vector<float> x,
                          run.audio->ReadAudio(run.wav_paths.back()));
    longest = std::max<int64_t>(longest, static_cast<int64_t>(x.size()));
    run.inputs.push_back(std::move(x));
  }
  std::vector<int64_t> lens;
  for (absl::string_view s :
       absl::StrSplit(absl::GetFlag(FLAGS_seq_len), ',', absl::SkipEmpty())) {
    int64_t v;
    if (!absl::SimpleAtoi(s, &v) || v <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat("--seq_len: '", s, "' is not a positive integer"));
    lens.push_back(v);
  }
  if (lens.empty())
    lens.push_back(std::max(engine::kDefaultAudioSeqLen, longest));
  engine::CompileParams cp;
  cp.device = absl::GetFlag(FLAGS_device);
  cp.batch_size = absl::GetFlag(FLAGS_batch_size);
  QEFF_RETURN_IF_ERROR(run.audio->Compile(cp, lens).status());
  return run;
}

base::JsonValue AudioReportJson(const AudioRun& run) {
  base::JsonValue j = base::JsonValue::Object();
  j.Set("model", base::JsonValue::String(run.model->model().source));
  j.Set("architecture",
        base::JsonValue::String(run.model->model_architecture()));
  j.Set("device", base::JsonValue::String(absl::GetFlag(FLAGS_device)));
  base::JsonValue art = base::JsonValue::Object();
  art.Set("onnx", base::JsonValue::String(run.model->onnx_path()));
  art.Set("program", base::JsonValue::String(run.model->qpc_path()));
  j.Set("artifacts", std::move(art));
  j.Set("results", base::JsonValue::Array());
  return j;
}

absl::Status WriteAudioReport(const base::JsonValue& report) {
  const std::string path = absl::GetFlag(FLAGS_output_json);
  if (path.empty()) return absl::OkStatus();
  return base::WriteFileAtomically(UserPath(path), base::WriteJson(report));
}

}  // namespace qeff::tools
