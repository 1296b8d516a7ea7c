#include "models/arch/moe.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/shape.h"

namespace qeff::models {
namespace {

using ir::Attribute;
using ir::ValueId;

// The op of ir/custom_ops.h (spelled here: models/ does not link the
// evaluator that owns that header).
constexpr char kMoEOp[] = "MoE";

// The [E, out, in] stack of one expert role.
absl::StatusOr<ValueId> ExpertStack(ArchBuilder& a, const WeightMap& w,
                                    const MoEBlockSpec& s,
                                    const std::string& role, int64_t out,
                                    int64_t in) {
  const std::string stacked =
      absl::StrCat(s.prefix, ".experts.", role, ".weight");
  if (a.Has(stacked)) return a.Weight(stacked, {s.num_experts, out, in});
  std::vector<const ir::Tensor*> parts;
  for (int64_t e = 0; e < s.num_experts; ++e) {
    const std::string n =
        absl::StrCat(s.prefix, ".experts.", e, ".", role, ".weight");
    auto it = w.find(n);
    if (it == w.end()) {
      return absl::NotFoundError(absl::StrCat("moe weights: '", n, "' (or '",
                                              stacked, "') is missing"));
    }
    const ir::Tensor& t = it->second;
    if (t.dims() != std::vector<int64_t>{out, in}) {
      return absl::InvalidArgumentError(
          absl::StrCat("moe weights: '", n, "' has shape ",
                       ir::Shape::Of(t.dims()).ToString(), ", expected [", out,
                       ",", in, "]"));
    }
    if (t.is_quantized() ||
        (!parts.empty() && t.dtype() != parts[0]->dtype())) {
      return absl::InvalidArgumentError(
          absl::StrCat("moe weights: '", n, "' has type ", t.TypeString(),
                       "; per-expert weights must share one unquantized type"));
    }
    parts.push_back(&t);
  }
  ir::Tensor st =
      ir::Tensor::Zeros(parts[0]->dtype(), {s.num_experts, out, in});
  const size_t bytes = parts[0]->byte_size();
  for (int64_t e = 0; e < s.num_experts; ++e)
    std::memcpy(st.mutable_raw() + e * bytes, parts[e]->raw(), bytes);
  ValueId c = a.b().Const(stacked, st);
  if (st.dtype() == ir::DType::kF16 || st.dtype() == ir::DType::kBF16) {
    c = a.b().Op("Cast", {c},
                 {{"to", Attribute::Int(ir::DTypeToOnnx(ir::DType::kF32))}},
                 stacked + ".f32");
  } else if (st.dtype() != ir::DType::kF32) {
    return absl::InvalidArgumentError(
        absl::StrCat("moe weights: '", stacked, "' has type ", st.TypeString(),
                     "; expected f32, f16 or bf16"));
  }
  return c;
}

}  // namespace

absl::StatusOr<ValueId> BuildMoEBlock(ArchBuilder& a, const WeightMap& w,
                                      const MoEBlockSpec& s, ValueId x) {
  if (s.num_experts <= 0 || s.top_k <= 0 || s.top_k > s.num_experts) {
    return absl::InvalidArgumentError(
        absl::StrCat("moe: ", s.prefix, ": experts per token ", s.top_k,
                     " must be in [1, ", s.num_experts, "]"));
  }
  QEFF_ASSIGN_OR_RETURN(
      ValueId router, a.Weight(absl::StrCat(s.prefix, ".", s.router, ".weight"),
                               {s.num_experts, s.hidden}));
  QEFF_ASSIGN_OR_RETURN(ValueId gate,
                        ExpertStack(a, w, s, s.gate, s.ffn, s.hidden));
  QEFF_ASSIGN_OR_RETURN(ValueId up,
                        ExpertStack(a, w, s, s.up, s.ffn, s.hidden));
  QEFF_ASSIGN_OR_RETURN(ValueId down,
                        ExpertStack(a, w, s, s.down, s.hidden, s.ffn));
  ValueId logits =
      a.Linear(x, router, ir::kNoValue, s.prefix + ".router_logits");
  return a.b().Op(kMoEOp, {x, logits, gate, up, down},
                  {{"top_k", Attribute::Int(s.top_k)},
                   {"scoring", Attribute::Int(s.scoring)},
                   {"norm_topk_prob", Attribute::Int(s.norm_topk_prob)},
                   {"score_on_input", Attribute::Int(s.score_on_input)},
                   {"activation", Attribute::Int(s.activation)}},
                  s.prefix + ".experts_out", std::string(ir::kQaicDomain));
}

}  // namespace qeff::models
