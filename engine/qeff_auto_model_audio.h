// The audio classes of the model API, on the wav2vec2 / HuBERT encoder
// (models/arch/wav2vec2.h): QEfficient's QEFFAutoModelForCTC (speech
// recognition, greedy CTC decoding with the folder's vocab.json) and
// QEFFAutoModelForAudioClassification
// (Wav2Vec2/HubertForSequenceClassification: labels with softmax scores from
// config.json's id2label).
//
//   auto m = QEFFAutoModelForCTC::FromPretrained(dir);
//   (*m)->Compile(params, {16000, 480000});   // seq_len specializations
//   auto audio = (*m)->ReadAudio("speech.wav");  // mono, model's rate
//   auto out = (*m)->Generate({*audio});        // text per input
//
// Export contract (QEfficient's CTC export): input `input_values` f32
// [batch_size, seq_len], output `logits`; compile takes a list of seq_len
// values (default 480000 = 30 s at 16 kHz), one specialization each, named
// `seq_len_<N>`; a run pads each input with preprocessor_config.json's
// padding_value to the smallest seq_len that fits (longer input is an error
// naming the largest). Inputs are normalized (zero mean, unit variance over
// the real samples, as Wav2Vec2FeatureExtractor) when do_normalize says so.
// Padding: when preprocessor_config.json has return_attention_mask (HF's
// layer-norm feature-encoder models) the export also takes HF's
// `attention_mask` i64 [batch_size, seq_len] and padding does not change
// the logits of the real frames; otherwise (QEfficient's CTC export, group-
// norm models) padding is part of the input, as in HF without a mask:
// compare such models at the same padded length.
//
// Audio files: ReadAudio reads WAV (models/audio/wav.h), averages channels
// and resamples to the model's sampling_rate as torchaudio's Resample does
// with its defaults (models/audio/resample.h).
#ifndef QEFF_ENGINE_QEFF_AUTO_MODEL_AUDIO_H_
#define QEFF_ENGINE_QEFF_AUTO_MODEL_AUDIO_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/qeff_auto_model.h"

namespace qeff::engine {

// preprocessor_config.json (Wav2Vec2FeatureExtractor) fields that change
// the input; HF's defaults when the file or a field is absent.
struct AudioPreprocessor {
  int64_t sampling_rate = 16000;
  bool do_normalize = true;
  float padding_value = 0.0f;
  bool return_attention_mask = false;  // the export takes attention_mask
};
absl::StatusOr<AudioPreprocessor> ReadAudioPreprocessor(
    const std::string& model_dir);

// QEfficient's default CTC seq_len: 30 s at 16 kHz.
inline constexpr int64_t kDefaultAudioSeqLen = 480000;

// The encoder both heads share: transform (shape inference only, as
// QEfficient's CTC class applies no structural transform), export, compile
// with seq_len specializations, input preparation and the raw logits.
class QEFFAudioEncoderModel : public QEFFTransformersBase {
 public:
  const AudioPreprocessor& preprocessor() const { return pre_; }

  // A WAV file as mono float samples at the model's sampling_rate.
  absl::StatusOr<std::vector<float>> ReadAudio(const std::string& path) const;

  // Compiles one specialization per seq_len (batch_size from params).
  absl::StatusOr<std::string> Compile(const CompileParams& params,
                                      const std::vector<int64_t>& seq_lens);
  using QEFFBaseModel::Compile;  // default: kDefaultAudioSeqLen

  // The compiled seq_len values, ascending.
  std::vector<int64_t> seq_lens() const;

  // input_values for one input: normalized as do_normalize says, padded to
  // `seq_len` with padding_value.
  absl::StatusOr<std::vector<float>> InputValues(
      const std::vector<float>& audio, int64_t seq_len) const;

  // Logits per input (CTC: [frames, vocab]; classification: [num_labels]),
  // each input run at the smallest compiled seq_len that holds it; compiles
  // with the default seq_len first if Compile was not called.
  absl::StatusOr<std::vector<ir::Tensor>> Logits(
      const std::vector<std::vector<float>>& audio);

 protected:
  QEFFAudioEncoderModel(std::shared_ptr<const models::LoadedModel> model,
                        std::string qeff_home, AudioPreprocessor pre)
      : QEFFTransformersBase(std::move(model), std::move(qeff_home)),
        pre_(pre) {}
  absl::StatusOr<ir::Graph> RunTransform(const ir::Graph& eager) const override;
  passes::TransformLMOptions transform_options() const override;
  absl::StatusOr<std::vector<hw::Specialization>> Specializations(
      const CompileParams& params) const override;

 private:
  AudioPreprocessor pre_;
  std::unique_ptr<hw::Session> session_;
  std::string session_qpc_;
};

struct Transcription {
  std::string text;
  std::vector<int64_t> frame_ids;  // argmax per frame
  int64_t seq_len = 0;             // the specialization it ran at
};

class QEFFAutoModelForCTC : public QEFFAudioEncoderModel {
 public:
  // A Hugging Face folder (or ORG/NAME in the offline hub cache) of a
  // Wav2Vec2ForCTC / HubertForCTC with vocab.json.
  static absl::StatusOr<std::unique_ptr<QEFFAutoModelForCTC>> FromPretrained(
      const std::string& path_or_hub_id,
      const FromPretrainedOptions& options = {});
  static absl::StatusOr<std::unique_ptr<QEFFAutoModelForCTC>> FromLoaded(
      std::shared_ptr<const models::LoadedModel> model,
      const FromPretrainedOptions& options = {});

  // Greedy CTC: argmax per frame, repeats merged, the pad (blank) token
  // dropped, the word delimiter as a space (Wav2Vec2CTCTokenizer.decode).
  absl::StatusOr<std::vector<Transcription>> Generate(
      const std::vector<std::vector<float>>& audio);
  std::string DecodeIds(const std::vector<int64_t>& frame_ids) const;

 private:
  using QEFFAudioEncoderModel::QEFFAudioEncoderModel;
  std::map<int64_t, std::string> vocab_;
  int64_t pad_id_ = 0;
  std::string word_delimiter_ = "|";
};

struct AudioLabel {
  int64_t id = 0;
  std::string label;
  float score = 0;  // softmax over the logits
};
struct AudioClassification {
  std::vector<AudioLabel> labels;  // best first
  std::vector<float> logits;
  int64_t seq_len = 0;
};

class QEFFAutoModelForAudioClassification : public QEFFAudioEncoderModel {
 public:
  // A folder of a Wav2Vec2ForSequenceClassification /
  // HubertForSequenceClassification.
  static absl::StatusOr<std::unique_ptr<QEFFAutoModelForAudioClassification>>
  FromPretrained(const std::string& path_or_hub_id,
                 const FromPretrainedOptions& options = {});
  static absl::StatusOr<std::unique_ptr<QEFFAutoModelForAudioClassification>>
  FromLoaded(std::shared_ptr<const models::LoadedModel> model,
             const FromPretrainedOptions& options = {});

  // The top_k labels (all when top_k <= 0) of each input.
  absl::StatusOr<std::vector<AudioClassification>> Classify(
      const std::vector<std::vector<float>>& audio, int top_k = 5);

 private:
  using QEFFAudioEncoderModel::QEFFAudioEncoderModel;
};

// True for the architectures the audio classes take.
bool IsAudioCtcArchitecture(const std::string& arch);
bool IsAudioClassificationArchitecture(const std::string& arch);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_QEFF_AUTO_MODEL_AUDIO_H_
