// The model API: QEfficient's class model in C++.
//
//   auto m = QEFFAutoModelForCausalLM::FromPretrained("stories260K.gguf");
//   auto onnx = (*m)->Export();                 //
//   <QEFF_HOME>/<Arch>/<Name>-<h>/ CompileParams cp; cp.prefill_seq_len = 32;
//   cp.ctx_len = 128; auto qpc = (*m)->Compile(cp);               // <onnx
//   dir>/qpc-<h>/ auto out = (*m)->Generate({"Once upon a time"}, {});
//
// Inheritance follows QEfficient's: QEFFBaseModel owns the steps every
// class shares (transform, export with QEfficient's artifact names and
// hashes, compile for a device with shape specializations, the artifact
// store); QEFFAutoModelForCausalLM derives from QEFFBaseModel;
// QEFFTransformersBase (models described by a Hugging Face config, the base
// of QEFFAutoModel and the audio class) derives from QEFFBaseModel too. A
// subclass says which transform it runs and which specializations its
// compile parameters mean; nothing else.
//
// Devices are opened by spec through the registry (hw/device_registry.h);
// this layer names no driver. Not done here: QEfficient's
// kv_cache_batch_size, prefill_only, comp_ctx_lengths_*, speculative
// decoding, QNN, ONNX subfunctions (rejected by name, SetCompileParam).
#ifndef QEFF_ENGINE_QEFF_AUTO_MODEL_H_
#define QEFF_ENGINE_QEFF_AUTO_MODEL_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/json.h"
#include "engine/artifacts.h"
#include "engine/generator.h"
#include "hw/driver.h"
#include "hw/specialization.h"
#include "ir/graph.h"
#include "models/model_loader.h"
#include "passes/transform_lm.h"

namespace qeff::engine {

// from_pretrained's options.
struct FromPretrainedOptions {
  // QEfficient's continuous_batching: the export gets batch_index and the
  // cache rows are slots (compile then needs full_batch_size).
  bool continuous_batching = false;
  // Keep logits at every position (for scoring text: engine/perplexity.h);
  // such a model scores, it does not Generate.
  bool all_logits = false;
  std::string tokenizer_path;  // for checkpoints without one
  std::string hub_cache_dir;   // for ORG/NAME ids (empty: the default)
  std::string qeff_home;       // empty: DefaultQeffHome()
};

// compile()'s parameters, with QEfficient's names and meanings.
struct CompileParams {
  int64_t prefill_seq_len = 32;
  int64_t ctx_len = 128;
  int64_t batch_size = 1;
  int64_t full_batch_size = 0;  // > 0: continuous batching
  int num_cores = 0;            // 0: the device's
  int num_devices = 1;
  bool mxfp6_matmul = false;
  bool mxint8_kv_cache = false;
  // qaic-compile options: recorded, passed to the aic driver; no effect on
  // host devices.
  int mos = -1;
  bool aic_enable_depth_first = false;
  // qeff's own: Linear weights re-quantized at compile (q8_0, q4_0, mxfp6).
  ir::QuantFormat weight_format = ir::QuantFormat::kNone;
  // qeff's own: Linear weights stored as f16 or bf16 (kF32: as given).
  ir::DType weight_dtype = ir::DType::kF32;
  // QEFFAutoModel (embeddings): one specialization per length in one
  // program (empty: {prefill_seq_len}).
  std::vector<int64_t> seq_len;
  // Overrides the specializations the parameters above build.
  std::optional<std::vector<hw::Specialization>> specializations;
  std::string compile_dir;  // empty: the ONNX's folder
  std::string device = "cpu";
};

// Sets one compile parameter by QEfficient's name (for CLIs and job files);
// a QEfficient parameter qeff does not implement is Unimplemented naming it,
// an unknown name is InvalidArgument listing the known ones.
absl::Status SetCompileParam(CompileParams* params, absl::string_view name,
                             const base::JsonValue& value);

class QEFFBaseModel {
 public:
  virtual ~QEFFBaseModel() = default;

  // QEfficient's model_name (the Hugging Face class, e.g.
  // "LlamaForCausalLM") and model_architecture (config's architectures[0]).
  const std::string& model_name() const { return model_->architecture; }
  const std::string& model_architecture() const { return model_->architecture; }
  const models::LoadedModel& model() const { return *model_; }

  // Runs the class's transform pipeline once (idempotent); Export and
  // Compile call it.
  absl::Status Transform();
  bool transformed() const { return transformed_.has_value(); }
  const ir::Graph& transformed_graph() const { return *transformed_; }

  // Exports the ONNX: `<export_dir>-<hash16>/<model_name>.onnx` when
  // export_dir is given, else `<qeff_home>/<architecture>/<model_name>-
  // <hash16>/`, with hashed_export_params.json holding the hashed dict.
  // Reuses an artifact that exists. Returns the ONNX path.
  absl::StatusOr<std::string> Export(const std::string& export_dir = "");

  // Compiles for params.device (exporting first if needed) into
  // `<compile_dir or the ONNX's folder>/qpc-<hash16>/` (the device's files,
  // hashed_compile_params.json); a program that exists is loaded instead.
  // Returns the program folder.
  absl::StatusOr<std::string> Compile(const CompileParams& params);

  const std::string& onnx_path() const { return onnx_path_; }
  const std::string& export_hash() const { return export_hash_; }
  const std::string& qpc_path() const { return qpc_path_; }
  bool onnx_reused() const { return onnx_reused_; }
  bool program_reused() const { return program_reused_; }
  const CompileParams& compile_params() const { return compile_params_; }
  hw::Device* device() const { return device_.get(); }
  std::shared_ptr<const hw::Program> program() const { return program_; }

 protected:
  // Takes a program loaded from `dir` as this model's compiled program.
  void AdoptProgram(std::shared_ptr<hw::Device> device,
                    std::shared_ptr<const hw::Program> program,
                    const std::string& dir, const CompileParams& params);
  QEFFBaseModel(std::shared_ptr<const models::LoadedModel> model,
                std::string qeff_home)
      : model_(std::move(model)), qeff_home_(std::move(qeff_home)) {}
  // The transform this class runs on the eager graph.
  virtual absl::StatusOr<ir::Graph> RunTransform(
      const ir::Graph& eager) const = 0;
  // The transform's part of the export dict (options and pass names).
  virtual passes::TransformLMOptions transform_options() const = 0;
  // The export dict (hashed_export_params.json); by default the model
  // files and transform_options().
  virtual absl::StatusOr<base::JsonValue> ExportHashParams() const;
  // The specializations `params` mean for this class (unless overridden).
  virtual absl::StatusOr<std::vector<hw::Specialization>> Specializations(
      const CompileParams& params) const = 0;

  std::shared_ptr<const models::LoadedModel> model_;
  std::string qeff_home_;

 private:
  std::optional<ir::Graph> transformed_;
  std::string onnx_path_, export_hash_, export_params_, qpc_path_;
  bool onnx_reused_ = false, program_reused_ = false;
  CompileParams compile_params_;
  std::shared_ptr<hw::Device> device_;
  std::shared_ptr<const hw::Program> program_;
};

// Models described by a Hugging Face config (QEfficient's
// QEFFTransformersBase): the base of QEFFAutoModel (embeddings) and the
// audio class, which add their transforms and specializations.
class QEFFTransformersBase : public QEFFBaseModel {
 protected:
  using QEFFBaseModel::QEFFBaseModel;
};

struct GenerateOptions {
  int64_t generation_len = 32;  // tokens to generate per prompt
  bool stop_at_eos = true;
  // Streaming: (prompt index, token id, its text chunk) as each token comes
  // (text chunks are whole UTF-8 characters).
  std::function<void(int64_t, int64_t, const std::string&)> on_token;
  // QEfficient's sampler parameters (default: greedy). Prompt i draws from
  // seed + i, so each prompt's tokens are reproducible.
  SamplingParams sampling;
};

// QEfficient's perf metrics, per prompt and overall.
struct PerfMetrics {
  double prefill_time = 0;  // s, to the first token
  double decode_perf = 0;   // tokens/s after the first
  double total_perf = 0;    // tokens/s end to end
  double total_time = 0;    // s
};

struct GeneratedText {
  std::optional<std::string> prompt;  // none for id prompts
  std::vector<int64_t> prompt_ids;
  std::vector<int64_t> token_ids;
  std::string text;  // the decoded completion ("" without a tokenizer)
  PerfMetrics perf;
};

struct GenerateResult {
  std::vector<GeneratedText> outputs;  // in prompt order
  PerfMetrics perf;                    // whole batch
  int64_t generated_tokens = 0;
};

class QEFFAutoModelForCausalLM : public QEFFBaseModel {
 public:
  // A GGUF file, a llama2.c .bin, a Hugging Face folder or an ORG/NAME in
  // the offline hub cache.
  static absl::StatusOr<std::unique_ptr<QEFFAutoModelForCausalLM>>
  FromPretrained(const std::string& path_or_hub_id,
                 const FromPretrainedOptions& options = {});
  // Wraps a model already loaded.
  static std::unique_ptr<QEFFAutoModelForCausalLM> FromLoaded(
      std::shared_ptr<const models::LoadedModel> model,
      const FromPretrainedOptions& options = {});

  bool continuous_batching() const { return continuous_batching_; }
  bool all_logits() const { return all_logits_; }

  // QEfficient's cloud.execute: use the program folder `qpc_path` (the
  // folder, or its `qpc`/`qpcs` subfolder) instead of compiling; the
  // device is `device` (empty: the kind in its qconfig.json). Its
  // specializations give the shapes (batch_size, full_batch_size,
  // prefill_seq_len, ctx_len).
  absl::Status UseProgram(const std::string& qpc_path,
                          const std::string& device = "");

  // Tokenizes each prompt (BOS only when the tokenizer adds one) and
  // generates; compiles first with default parameters if Compile was not
  // called. Batch 1 one prompt after another, static batches of batch_size
  // (an incomplete last batch is padded and its extra rows discarded), or
  // continuous batching over full_batch_size slots, as compiled.
  absl::StatusOr<GenerateResult> Generate(
      const std::vector<std::string>& prompts,
      const GenerateOptions& options = {});
  // The same with prompts given as ids (fed as given).
  absl::StatusOr<GenerateResult> GenerateIds(
      const std::vector<std::vector<int64_t>>& prompts,
      const GenerateOptions& options = {});

 protected:
  absl::StatusOr<ir::Graph> RunTransform(const ir::Graph& eager) const override;
  passes::TransformLMOptions transform_options() const override;
  absl::StatusOr<std::vector<hw::Specialization>> Specializations(
      const CompileParams& params) const override;

 private:
  QEFFAutoModelForCausalLM(std::shared_ptr<const models::LoadedModel> model,
                           const FromPretrainedOptions& options);
  absl::StatusOr<GenerateResult> Run(std::vector<GeneratedText> outputs,
                                     const GenerateOptions& options);
  bool continuous_batching_ = false;
  bool all_logits_ = false;
};

// Each prompt's ids as the model's tokenizer encodes a prompt
// (Tokenizer::EncodePrompt); FailedPrecondition when the model has none,
// and an error names the prompt that failed.
absl::StatusOr<std::vector<std::vector<int64_t>>> EncodePrompts(
    const models::LoadedModel& model, const std::vector<std::string>& prompts);
// Every id of every prompt in [0, vocab_size); an error names the prompt
// and the id.
absl::Status CheckPromptIds(const models::LoadedModel& model,
                            const std::vector<std::vector<int64_t>>& prompts);

// QEfficient's QEFFCommonLoader: picks the class from the model's
// architecture (config.json's architectures / GGUF general.architecture).
class QEFFCommonLoader {
 public:
  static absl::StatusOr<std::unique_ptr<QEFFBaseModel>> FromPretrained(
      const std::string& path_or_hub_id,
      const FromPretrainedOptions& options = {});
};

// QEfficient's cloud.compile: the transformed causal LM exported at
// `onnx_path` compiled for `params` (specializations from prefill_seq_len,
// ctx_len, batch_size, full_batch_size — continuous batching when the graph
// has a batch_index input) into the program folder `qpc_dir` (published
// whole; a folder that exists is loaded and reused). Returns the folder.
absl::StatusOr<std::string> CompileOnnx(const std::string& onnx_path,
                                        const CompileParams& params,
                                        const std::string& qpc_dir);

// The program folder of a user's qpc path: the folder itself, or the one
// above when given its `qpc`/`qpcs` subfolder (QEfficient prints both).
std::string ProgramFolderOf(const std::string& qpc_path);

// The device compile options `params` mean.
hw::CompileOptions ToCompileOptions(const CompileParams& params);

// Memory as input: the retained state (KV cache) `graph` keeps for `specs`
// must fit the host's available memory; otherwise ResourceExhausted naming
// the bytes needed and available (before any compile or allocation).
absl::Status CheckStateFits(const ir::Graph& graph,
                            const std::vector<hw::Specialization>& specs);

// QEfficient's transform(model, form_factor="cloud"): runs the model's
// transform; any other form factor is an error (as QEfficient's).
absl::Status Transform(QEFFBaseModel& model,
                       absl::string_view form_factor = "cloud");

// QEfficient's transform_lm on a graph: shape inference, then the
// transform_lm pipeline (passes/pipelines.h).
absl::StatusOr<ir::Graph> TransformLM(const ir::Graph& eager,
                                      const passes::TransformLMOptions& o);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_QEFF_AUTO_MODEL_H_
