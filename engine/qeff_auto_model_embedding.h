// QEFFAutoModel: sentence embeddings (QEfficient's QEFFAutoModel) through
// the same load -> transform -> export -> compile -> run path as the causal
// LM class.
//
//   passes::PoolingOptions pool{passes::Pooling::kMean, /*l2=*/false};
//   auto m = QEFFAutoModel::FromPretrained("bge-small/", {}, pool);
//   CompileParams cp; cp.seq_len = {32, 64, 128};
//   (*m)->Compile(cp);          // one program, specializations Embedding_0..2
//   auto r = (*m)->Embed({"hello world"});   // runs Embedding_0 (seq_len 32)
//
// Transform: shape inference, then passes::PoolingTransform (the pooling
// and the optional L2 normalisation are part of the exported graph). Export
// contract (DESIGN.md "Contracts"): inputs input_ids / attention_mask
// i64[batch_size, seq_len], output `output` f32[batch_size, hidden].
// Compile: one specialization per seq_len in one program, named
// `Embedding` for one length and `Embedding_{i}` for several (symbols
// batch_size and seq_len). Embed: each group of batch_size prompts runs the
// smallest length >= its longest prompt, padded with id 0 and mask 0; a
// prompt longer than the largest length is an error before any work,
// unless `truncate` (then it keeps its first tokens and its final [SEP]).
// Models: encoders (BertModel, NomicBertModel) and causal LMs (llama,
// mistral, qwen2, gpt2) used as embedders — passes::DecoderAsEncoder first
// gives those the encoder's I/O without a KV cache, so `last` pooling is the
// final normed hidden state at the last real token (llama-embedding's
// --pooling last on a decoder).
#ifndef QEFF_ENGINE_QEFF_AUTO_MODEL_EMBEDDING_H_
#define QEFF_ENGINE_QEFF_AUTO_MODEL_EMBEDDING_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/qeff_auto_model.h"
#include "passes/pooling.h"

namespace qeff::engine {

struct EmbedOptions {
  // Cut prompts longer than the largest compiled seq_len (keeping the
  // tokenizer's final [SEP]) instead of failing.
  bool truncate = false;
};

struct Embedding {
  std::optional<std::string> prompt;  // none for id prompts
  std::vector<int64_t> prompt_ids;    // as fed (after any truncation)
  std::vector<float> embedding;
  std::string specialization;  // the one that ran, e.g. "Embedding_1"
  int64_t seq_len = 0;         // its length
};

struct EmbeddingResult {
  std::vector<Embedding> outputs;  // in prompt order
  double total_time = 0;           // s, running the program
};

class QEFFAutoModel : public QEFFTransformersBase {
 public:
  // A Hugging Face folder, a GGUF file or an ORG/NAME in the hub cache
  // holding an encoder (BertModel, NomicBertModel; GGUF bert, nomic-bert)
  // or a causal LM.
  static absl::StatusOr<std::unique_ptr<QEFFAutoModel>> FromPretrained(
      const std::string& path_or_hub_id,
      const FromPretrainedOptions& options = {},
      const passes::PoolingOptions& pooling = {});
  // Wraps a model already loaded; an architecture that is neither an
  // encoder nor a supported causal LM is an error naming it.
  static absl::StatusOr<std::unique_ptr<QEFFAutoModel>> FromLoaded(
      std::shared_ptr<const models::LoadedModel> model,
      const FromPretrainedOptions& options = {},
      const passes::PoolingOptions& pooling = {});

  const passes::PoolingOptions& pooling() const { return pooling_; }
  int64_t hidden_size() const { return model_->config.hidden_size; }

  // Tokenizes (as the tokenizer files say: [CLS] ... [SEP]) and embeds;
  // compiles with default parameters (seq_len 32, batch_size 1) first if
  // Compile was not called.
  absl::StatusOr<EmbeddingResult> Embed(const std::vector<std::string>& prompts,
                                        const EmbedOptions& options = {});
  // The same with prompts given as ids (fed as given).
  absl::StatusOr<EmbeddingResult> EmbedIds(
      const std::vector<std::vector<int64_t>>& prompts,
      const EmbedOptions& options = {});

  // The specialization names and lengths of the compiled program, in
  // increasing length.
  std::vector<std::pair<std::string, int64_t>> Lengths() const;

 protected:
  absl::StatusOr<ir::Graph> RunTransform(const ir::Graph& eager) const override;
  passes::TransformLMOptions transform_options() const override { return {}; }
  absl::StatusOr<base::JsonValue> ExportHashParams() const override;
  absl::StatusOr<std::vector<hw::Specialization>> Specializations(
      const CompileParams& params) const override;

 private:
  QEFFAutoModel(std::shared_ptr<const models::LoadedModel> model,
                const FromPretrainedOptions& options,
                const passes::PoolingOptions& pooling);
  absl::StatusOr<EmbeddingResult> Run(std::vector<Embedding> outputs,
                                      const EmbedOptions& options);
  passes::PoolingOptions pooling_;
};

// Specialization names of an embedding program: "Embedding" for one
// length, "Embedding_{i}" for several.
std::vector<hw::Specialization> EmbeddingSpecializations(
    const std::vector<int64_t>& seq_lens, int64_t batch_size);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_QEFF_AUTO_MODEL_EMBEDDING_H_
