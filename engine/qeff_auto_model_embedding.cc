#include "engine/qeff_auto_model_embedding.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/artifacts.h"
#include "ir/op_schema.h"
#include "passes/decoder_embedding.h"
#include "passes/pass_pipeline.h"

namespace qeff::engine {

std::vector<hw::Specialization> EmbeddingSpecializations(
    const std::vector<int64_t>& seq_lens, int64_t batch_size) {
  std::vector<hw::Specialization> specs;
  for (size_t i = 0; i < seq_lens.size(); ++i) {
    hw::Specialization s;
    s.name = seq_lens.size() == 1 ? "Embedding" : absl::StrCat("Embedding_", i);
    s.symbols["batch_size"] = batch_size;
    s.symbols["seq_len"] = seq_lens[i];
    specs.push_back(std::move(s));
  }
  return specs;
}

QEFFAutoModel::QEFFAutoModel(std::shared_ptr<const models::LoadedModel> model,
                             const FromPretrainedOptions& options,
                             const passes::PoolingOptions& pooling)
    : QEFFTransformersBase(std::move(model), options.qeff_home.empty()
                                                 ? DefaultQeffHome()
                                                 : options.qeff_home),
      pooling_(pooling) {}

absl::StatusOr<std::unique_ptr<QEFFAutoModel>> QEFFAutoModel::FromPretrained(
    const std::string& path, const FromPretrainedOptions& options,
    const passes::PoolingOptions& pooling) {
  models::LoadOptions lo;
  lo.tokenizer_path = options.tokenizer_path;
  lo.hub_cache_dir = options.hub_cache_dir;
  QEFF_ASSIGN_OR_RETURN(models::LoadedModel m, models::Load(path, lo));
  return FromLoaded(std::make_shared<const models::LoadedModel>(std::move(m)),
                    options, pooling);
}

absl::StatusOr<std::unique_ptr<QEFFAutoModel>> QEFFAutoModel::FromLoaded(
    std::shared_ptr<const models::LoadedModel> model,
    const FromPretrainedOptions& options,
    const passes::PoolingOptions& pooling) {
  const models::ModelFamily f = model->config.family;
  if (!models::IsEncoderFamily(f) && f != models::ModelFamily::kLlama &&
      f != models::ModelFamily::kGpt2)
    return absl::UnimplementedError(absl::StrCat(
        model->source,
        ": QEFFAutoModel takes encoders (BertModel, NomicBertModel) and "
        "causal LMs used as embedders; '",
        model->architecture, "' is not one"));
  if (options.continuous_batching || options.all_logits)
    return absl::InvalidArgumentError(
        "QEFFAutoModel: continuous_batching and all_logits are causal-LM "
        "options");
  return std::unique_ptr<QEFFAutoModel>(
      new QEFFAutoModel(std::move(model), options, pooling));
}

absl::StatusOr<ir::Graph> QEFFAutoModel::RunTransform(
    const ir::Graph& eager) const {
  ir::Graph g = eager;
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  passes::PassPipeline pipeline;
  // A decoder first gets the encoder's I/O (no cache, final hidden out).
  if (!models::IsEncoderFamily(model_->config.family))
    pipeline.AddPass<passes::DecoderAsEncoder>(
        model_->config.max_position_embeddings);
  pipeline.AddPass<passes::PoolingTransform>(pooling_);
  QEFF_RETURN_IF_ERROR(pipeline.Run(g).status());
  return g;
}

absl::StatusOr<base::JsonValue> QEFFAutoModel::ExportHashParams() const {
  using base::JsonValue;
  QEFF_ASSIGN_OR_RETURN(
      JsonValue d, ExportParams(qeff_home_, model_->source,
                                model_architecture(), transform_options()));
  JsonValue t = JsonValue::Object();
  t.Set("pooling",
        JsonValue::String(std::string(passes::PoolingName(pooling_.pooling))));
  t.Set("normalize", JsonValue::String(pooling_.l2_normalize ? "l2" : "none"));
  JsonValue passes = JsonValue::Array();
  if (!models::IsEncoderFamily(model_->config.family))
    passes.Append(JsonValue::String("decoder_as_encoder"));
  passes.Append(JsonValue::String("pooling"));
  t.Set("passes", std::move(passes));
  d.Set("transform", std::move(t));
  return d;
}

absl::StatusOr<std::vector<hw::Specialization>> QEFFAutoModel::Specializations(
    const CompileParams& p) const {
  std::vector<int64_t> lens =
      p.seq_len.empty() ? std::vector<int64_t>{p.prefill_seq_len} : p.seq_len;
  if (p.batch_size <= 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "compile: batch_size (", p.batch_size, ") must be positive"));
  if (p.full_batch_size > 0)
    return absl::InvalidArgumentError(
        "compile: full_batch_size (continuous batching) is for causal LMs; "
        "an embedding model takes batch_size and seq_len");
  std::sort(lens.begin(), lens.end());
  const int64_t max_pos = model_->config.max_position_embeddings;
  for (size_t i = 0; i < lens.size(); ++i) {
    if (lens[i] <= 0 || lens[i] > max_pos)
      return absl::InvalidArgumentError(
          absl::StrCat("compile: seq_len ", lens[i], " must be in [1, ",
                       max_pos, "] (the model's max_position_embeddings)"));
    if (i > 0 && lens[i] == lens[i - 1])
      return absl::InvalidArgumentError(
          absl::StrCat("compile: seq_len ", lens[i], " is given twice"));
  }
  return EmbeddingSpecializations(lens, p.batch_size);
}

std::vector<std::pair<std::string, int64_t>> QEFFAutoModel::Lengths() const {
  std::vector<std::pair<std::string, int64_t>> out;
  if (!compile_params().specializations) return out;
  for (const hw::Specialization& s : *compile_params().specializations) {
    auto it = s.symbols.find("seq_len");
    if (it != s.symbols.end()) out.emplace_back(s.name, it->second);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  return out;
}

absl::StatusOr<EmbeddingResult> QEFFAutoModel::Embed(
    const std::vector<std::string>& prompts, const EmbedOptions& options) {
  QEFF_ASSIGN_OR_RETURN(auto ids, EncodePrompts(*model_, prompts));
  std::vector<Embedding> outputs;
  for (size_t i = 0; i < prompts.size(); ++i) {
    Embedding e;
    e.prompt = prompts[i];
    e.prompt_ids = std::move(ids[i]);
    outputs.push_back(std::move(e));
  }
  return Run(std::move(outputs), options);
}

absl::StatusOr<EmbeddingResult> QEFFAutoModel::EmbedIds(
    const std::vector<std::vector<int64_t>>& prompts,
    const EmbedOptions& options) {
  QEFF_RETURN_IF_ERROR(CheckPromptIds(*model_, prompts));
  std::vector<Embedding> outputs;
  for (const std::vector<int64_t>& p : prompts) {
    Embedding e;
    e.prompt_ids = p;
    outputs.push_back(std::move(e));
  }
  return Run(std::move(outputs), options);
}

absl::StatusOr<EmbeddingResult> QEFFAutoModel::Run(
    std::vector<Embedding> outputs, const EmbedOptions& options) {
  if (outputs.empty()) return absl::InvalidArgumentError("no prompts");
  if (!program()) QEFF_RETURN_IF_ERROR(Compile(CompileParams{}).status());
  const auto lengths = Lengths();
  if (lengths.empty())
    return absl::FailedPreconditionError(
        "the compiled program has no seq_len specialization");
  const int64_t longest = lengths.back().second;
  const int64_t batch =
      compile_params().specializations->front().symbols.at("batch_size");
  // Capacity of every prompt before any work (DESIGN.md).
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::vector<int64_t>& ids = outputs[i].prompt_ids;
    if (ids.empty())
      return absl::InvalidArgumentError(
          absl::StrCat("prompt ", i, ": no tokens"));
    if (static_cast<int64_t>(ids.size()) <= longest) continue;
    if (!options.truncate)
      return absl::InvalidArgumentError(
          absl::StrCat("prompt ", i, ": ", ids.size(),
                       " tokens exceed the largest compiled seq_len ", longest,
                       " (compile a longer one, or truncate)"));
    const int64_t last = ids.back();
    ids.resize(longest);
    if (model_->tokenizer && last == model_->tokenizer->eos_id())
      ids.back() = last;
  }
  hw::Device::LoadOptions lo;
  lo.num_cores = compile_params().num_cores;
  QEFF_ASSIGN_OR_RETURN(std::unique_ptr<hw::Session> session,
                        device()->Load(program(), lo));
  const int64_t hidden = hidden_size();
  EmbeddingResult result;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t start = 0; start < outputs.size(); start += batch) {
    const size_t end = std::min(outputs.size(), start + batch);
    int64_t need = 0;
    for (size_t i = start; i < end; ++i)
      need = std::max<int64_t>(need, outputs[i].prompt_ids.size());
    const auto& [spec, len] =
        *std::find_if(lengths.begin(), lengths.end(),
                      [need](const auto& l) { return l.second >= need; });
    // Padding: id 0 with mask 0 (rows past the prompts are all padding,
    // their vectors discarded).
    std::vector<int64_t> ids(batch * len, 0), mask(batch * len, 0);
    for (size_t i = start; i < end; ++i) {
      const std::vector<int64_t>& p = outputs[i].prompt_ids;
      for (size_t s = 0; s < p.size(); ++s) {
        ids[(i - start) * len + s] = p[s];
        mask[(i - start) * len + s] = 1;
      }
    }
    hw::TensorMap in;
    in["input_ids"] = ir::Tensor::I64({batch, len}, ids);
    in["attention_mask"] = ir::Tensor::I64({batch, len}, mask);
    auto out = session->Run(spec, in);
    if (!out.ok())
      return absl::Status(out.status().code(),
                          absl::StrCat("prompts ", start, "..", end - 1, " (",
                                       spec, "): ", out.status().message()));
    auto it = out->find("output");
    if (it == out->end() ||
        it->second.dims() != std::vector<int64_t>{batch, hidden})
      return absl::InternalError(absl::StrCat(
          spec, ": the program's `output` is not [", batch, ", ", hidden, "]"));
    for (size_t i = start; i < end; ++i) {
      Embedding& e = outputs[i];
      e.specialization = spec;
      e.seq_len = len;
      e.embedding.resize(hidden);
      for (int64_t d = 0; d < hidden; ++d)
        e.embedding[d] =
            static_cast<float>(it->second.GetDouble((i - start) * hidden + d));
    }
  }
  result.total_time =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  result.outputs = std::move(outputs);
  return result;
}

}  // namespace qeff::engine
