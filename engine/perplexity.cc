#include "engine/perplexity.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::engine {
namespace {

// log softmax(row)[target], in double as llama-perplexity computes it.
double LogProb(const float* row, int64_t vocab, int64_t target) {
  float max = row[0];
  for (int64_t i = 1; i < vocab; ++i) max = std::max(max, row[i]);
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i) sum += std::exp(double(row[i]) - max);
  return double(row[target]) - max - std::log(sum);
}

}  // namespace

absl::StatusOr<std::vector<float>> ChunkLogits(
    QEFFAutoModelForCausalLM& model, const std::vector<int32_t>& tokens,
    const CompileParams& params) {
  if (!model.all_logits())
    return absl::FailedPreconditionError(
        "teacher-forced logits need a model loaded with all_logits");
  const int64_t n = static_cast<int64_t>(tokens.size());
  CompileParams cp = params;
  cp.prefill_seq_len = n;
  cp.ctx_len = n;
  cp.batch_size = 1;
  cp.full_batch_size = 0;
  QEFF_RETURN_IF_ERROR(model.Compile(cp).status());
  QEFF_ASSIGN_OR_RETURN(std::unique_ptr<hw::Session> session,
                        model.device()->Load(model.program()));
  ir::Tensor ids = ir::Tensor::Zeros(ir::DType::kI64, {1, n});
  ir::Tensor pos = ir::Tensor::Zeros(ir::DType::kI64, {1, n});
  for (int64_t j = 0; j < n; ++j) {
    ids.mutable_data<int64_t>()[j] = tokens[j];
    pos.mutable_data<int64_t>()[j] = j;
  }
  QEFF_ASSIGN_OR_RETURN(
      hw::TensorMap out,
      session->Run("Prefill", {{"input_ids", ids}, {"position_ids", pos}}));
  return out.at("logits").ToFloats();
}

absl::StatusOr<PerplexityResult> Perplexity(QEFFAutoModelForCausalLM& model,
                                            const std::string& text,
                                            const PerplexityOptions& o) {
  if (!model.all_logits())
    return absl::FailedPreconditionError(
        "perplexity needs a model loaded with all_logits");
  const models::Tokenizer* tok = model.model().tokenizer.get();
  if (!tok)
    return absl::FailedPreconditionError(
        absl::StrCat(model.model().source, " has no tokenizer"));
  if (o.ctx_len < 4 || o.batch_size < 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "perplexity: ctx_len must be >= 4 and batch_size >= 1 (got ", o.ctx_len,
        ", ", o.batch_size, ")"));
  QEFF_ASSIGN_OR_RETURN(std::vector<int32_t> tokens, tok->EncodePrompt(text));
  const int64_t n_ctx = o.ctx_len;
  PerplexityResult r;
  r.tokens = static_cast<int64_t>(tokens.size());
  if (r.tokens < 2 * n_ctx)
    return absl::InvalidArgumentError(absl::StrCat(
        "perplexity: the text has ", r.tokens, " tokens; a context of ", n_ctx,
        " needs at least ", 2 * n_ctx, " (as llama-perplexity)"));
  const int64_t n_chunk = r.tokens / n_ctx;
  const int64_t first = n_ctx / 2;
  const bool add_bos = tok->add_bos_by_default();

  CompileParams cp;
  cp.prefill_seq_len = n_ctx;
  cp.ctx_len = n_ctx;
  cp.batch_size = o.batch_size;
  cp.device = o.device;
  cp.num_cores = o.num_cores;
  cp.weight_format = o.weight_format;
  cp.mxint8_kv_cache = o.mxint8_kv_cache;
  QEFF_RETURN_IF_ERROR(model.Compile(cp).status());
  hw::Device::LoadOptions lo;
  lo.num_cores = o.num_cores;
  QEFF_ASSIGN_OR_RETURN(std::unique_ptr<hw::Session> session,
                        model.device()->Load(model.program(), lo));

  const int64_t B = o.batch_size;
  double nll = 0;
  for (int64_t c0 = 0; c0 < n_chunk; c0 += B) {
    QEFF_RETURN_IF_ERROR(session->ResetState());
    ir::Tensor ids = ir::Tensor::Zeros(ir::DType::kI64, {B, n_ctx});
    ir::Tensor pos = ir::Tensor::Zeros(ir::DType::kI64, {B, n_ctx});
    int64_t* idp = ids.mutable_data<int64_t>();
    int64_t* pp = pos.mutable_data<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      const int64_t c = c0 + b;
      for (int64_t j = 0; j < n_ctx; ++j) {
        const bool real = c < n_chunk;
        idp[b * n_ctx + j] = real ? tokens[c * n_ctx + j] : 0;
        pp[b * n_ctx + j] = real ? j : -1;  // a padding row writes nothing
      }
      if (c < n_chunk && add_bos) idp[b * n_ctx] = tok->bos_id();
    }
    auto out =
        session->Run("Prefill", {{"input_ids", ids}, {"position_ids", pos}});
    if (!out.ok())
      return absl::Status(
          out.status().code(),
          absl::StrCat("perplexity: chunk ", c0, ": ", out.status().message()));
    const ir::Tensor& logits = out->at("logits");
    const int64_t vocab = logits.dims().back();
    if (logits.rank() != 3 || logits.dims()[0] != B ||
        logits.dims()[1] != n_ctx)
      return absl::InternalError(
          absl::StrCat("perplexity: logits are ", logits.TypeString(),
                       ", expected [", B, ", ", n_ctx, ", vocab]"));
    // In place when f32 (the program's logits are); a copy otherwise.
    std::vector<float> copy;
    const float* l = logits.dtype() == ir::DType::kF32
                         ? logits.data<float>()
                         : (copy = logits.ToFloats()).data();
    for (int64_t b = 0; b < B && c0 + b < n_chunk; ++b) {
      const int64_t c = c0 + b;
      for (int64_t j = first; j < n_ctx - 1; ++j) {
        const float* row = l + (b * n_ctx + j) * vocab;
        nll -= LogProb(row, vocab, tokens[c * n_ctx + j + 1]);
        ++r.scored;
      }
      r.chunks.push_back(std::exp(nll / r.scored));
      if (o.on_chunk) o.on_chunk(c, r.chunks.back());
    }
  }
  r.perplexity = r.chunks.back();
  return r;
}

}  // namespace qeff::engine
