// The wav2vec2 / HuBERT graph builder: the math of Hugging Face's
// Wav2Vec2ForCTC, Wav2Vec2ForSequenceClassification, HubertForCTC and
// HubertForSequenceClassification at inference, from raw audio.
//
//   input_values f32[batch_size, seq_len] → feature encoder (1-D convs; the
//   first normed by GroupNorm with one group per channel for
//   feat_extract_norm "group", every one by LayerNorm over channels for
//   "layer") → feature projection (LayerNorm + Linear; HuBERT's LayerNorm
//   only with feat_proj_layer_norm) → grouped positional convolution (weight
//   norm folded at build: w = g * v / |v| over all axes but the kernel's;
//   the last frame dropped for an even kernel) → post-LN or stable-layer-norm
//   (pre-LN) transformer → a head:
//   - CTC: lm_head → logits f32[batch_size, frames, vocab_size];
//   - sequence classification: projector → mean over frames → classifier
//     → logits f32[batch_size, num_labels]; with use_weighted_layer_sum the
//     encoder output is softmax(layer_weights)-weighted over the
//     num_hidden_layers + 1 hidden states.
// With `attention_mask` set the graph also takes HF's attention_mask (see
// the field). Not done (rejected by name at config parse): adapters
// (add_adapter), HuBERT's conv_pos_batch_norm, activations other than gelu /
// relu. Weight names are HF's (`wav2vec2.` / `hubert.` prefixes kept).
#ifndef QEFF_MODELS_ARCH_WAV2VEC2_H_
#define QEFF_MODELS_ARCH_WAV2VEC2_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "ir/graph.h"
#include "models/arch/builder_util.h"

namespace qeff::models {

struct Wav2Vec2Config {
  std::string model_type = "wav2vec2";  // or "hubert"
  bool ctc = true;                      // else sequence classification
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t intermediate_size = 0;
  std::string hidden_act = "gelu";
  float layer_norm_eps = 1e-5f;
  std::string feat_extract_norm = "group";  // or "layer"
  std::string feat_extract_activation = "gelu";
  std::vector<int64_t> conv_dim, conv_stride, conv_kernel;
  bool conv_bias = false;
  int64_t num_conv_pos_embeddings = 128;
  int64_t num_conv_pos_embedding_groups = 16;
  bool do_stable_layer_norm = false;
  bool feat_proj_layer_norm = true;  // always true for wav2vec2
  // CTC.
  int64_t vocab_size = 0;
  // Sequence classification.
  bool use_weighted_layer_sum = false;
  int64_t classifier_proj_size = 256;
  int64_t num_labels = 0;
  std::map<int64_t, std::string> id2label;

  // Not from config.json: the graph takes `attention_mask` i64[batch_size,
  // seq_len] (1: a real sample) as HF's forward does — padded frames are
  // zeroed before the positional convolution, masked as attention keys, and
  // (classification) left out of the mean. The engine sets it when
  // preprocessor_config.json has return_attention_mask.
  bool attention_mask = false;

  int64_t HeadDim() const { return hidden_size / num_attention_heads; }
  // Audio samples per output frame and the frames of `samples` samples.
  int64_t FramesOf(int64_t samples) const;
  absl::Status Validate() const;
};

// config.json's fields → Wav2Vec2Config (`ctc` from the architecture).
// Errors name `source` and the field.
absl::StatusOr<Wav2Vec2Config> ParseWav2Vec2Config(const base::JsonValue& j,
                                                   const std::string& source,
                                                   const std::string& arch);

absl::StatusOr<ir::Graph> BuildWav2Vec2Eager(const Wav2Vec2Config& config,
                                             const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_WAV2VEC2_H_
