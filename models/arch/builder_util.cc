#include "models/arch/builder_util.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::models {

using ir::Attribute;
using ir::Dim;
using ir::DType;
using ir::Shape;
using ir::ValueId;

absl::Status CheckDecoderConfig(
    absl::string_view family,
    std::initializer_list<std::pair<const char*, int64_t>> positive,
    int64_t num_attention_heads, int64_t num_key_value_heads,
    int64_t head_dim) {
  for (const auto& [name, v] : positive) {
    if (v <= 0)
      return absl::InvalidArgumentError(absl::StrCat(
          family, " config: ", name, " must be positive, got ", v));
  }
  if (num_key_value_heads <= 0 ||
      num_attention_heads % num_key_value_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        family, " config: num_attention_heads ", num_attention_heads,
        " is not a multiple of num_key_value_heads ", num_key_value_heads));
  }
  if (head_dim % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(family, " config: head_dim ", head_dim, " must be even"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ValueId> ArchBuilder::Weight(const std::string& name,
                                            const std::vector<int64_t>& dims) {
  auto it = w_.find(name);
  if (it == w_.end()) {
    return absl::NotFoundError(
        absl::StrCat(family_, " weights: '", name, "' is missing"));
  }
  if (it->second.dims() != dims) {
    return absl::InvalidArgumentError(
        absl::StrCat(family_, " weights: '", name, "' has shape ",
                     Shape::Of(it->second.dims()).ToString(), ", expected ",
                     Shape::Of(dims).ToString()));
  }
  ValueId c = b_.Const(name, it->second);
  const ir::Tensor& t = it->second;
  if (!t.is_quantized() &&
      (t.dtype() == DType::kF16 || t.dtype() == DType::kBF16)) {
    c = b_.Op("Cast", {c},
              {{"to", Attribute::Int(ir::DTypeToOnnx(DType::kF32))}},
              name + ".f32");
  } else if (!t.is_quantized() && t.dtype() != DType::kF32) {
    return absl::InvalidArgumentError(
        absl::StrCat(family_, " weights: '", name, "' has type ",
                     t.TypeString(), "; expected f32, f16 or bf16"));
  }
  return c;
}

ValueId ArchBuilder::Linear(ValueId x, ValueId w, ValueId bias,
                            const std::string& name) {
  ValueId wt = b_.Transpose(w, {1, 0}, name + ".weight_t");
  if (bias == ir::kNoValue) return b_.MatMul(x, wt, name);
  return b_.Add(b_.MatMul(x, wt, name + ".matmul"), bias, name);
}

ValueId ArchBuilder::RmsNorm(ValueId x, ValueId w, float eps,
                             const std::string& name) {
  ValueId sq = b_.Op("Pow", {x, b_.ScalarF32(2.0f)}, {}, name + ".sq");
  ValueId var =
      b_.Op("ReduceMean", {sq},
            {{"axes", Attribute::Ints({-1})}, {"keepdims", Attribute::Int(1)}},
            name + ".variance");
  ValueId var_eps = b_.Add(var, b_.ScalarF32(eps), name + ".var_eps");
  ValueId rstd =
      b_.Op("Reciprocal", {b_.Op("Sqrt", {var_eps}, {}, name + ".std")}, {},
            name + ".rstd");
  ValueId normed = b_.Mul(x, rstd, name + ".normed");
  return b_.Mul(w, normed, name);
}

ValueId ArchBuilder::Conv1D(ValueId x, ValueId w, ValueId bias,
                            const std::string& name) {
  if (bias == ir::kNoValue) return b_.MatMul(x, w, name);
  return b_.Add(b_.MatMul(x, w, name + ".matmul"), bias, name);
}

ValueId ArchBuilder::NormalizeLastAxis(ValueId x, float eps,
                                       const std::string& name) {
  auto mean = [&](ValueId v, const std::string& n) {
    return b_.Op(
        "ReduceMean", {v},
        {{"axes", Attribute::Ints({-1})}, {"keepdims", Attribute::Int(1)}}, n);
  };
  ValueId centered =
      b_.Op("Sub", {x, mean(x, name + ".mean")}, {}, name + ".centered");
  ValueId var =
      mean(b_.Mul(centered, centered, name + ".sq"), name + ".variance");
  ValueId std =
      b_.Op("Sqrt", {b_.Add(var, b_.ScalarF32(eps), name + ".var_eps")}, {},
            name + ".std");
  return b_.Op("Div", {centered, std}, {}, name + ".normed");
}

void ArchBuilder::AddTokenInputs() {
  const Shape s({Dim::Symbol("batch_size"), Dim::Symbol("seq_len")});
  input_ids_ = b_.Input("input_ids", DType::kI64, s);
  position_ids_ = b_.Input("position_ids", DType::kI64, s);
}

void ArchBuilder::AddEncoderInputs() {
  const Shape s({Dim::Symbol("batch_size"), Dim::Symbol("seq_len")});
  input_ids_ = b_.Input("input_ids", DType::kI64, s);
  attention_mask_ = b_.Input("attention_mask", DType::kI64, s);
}

ValueId ArchBuilder::PaddingMask() {
  if (padding_mask_ != ir::kNoValue) return padding_mask_;
  // masked[b, 0, i, j] = attention_mask[b, j] < 1, for every query i: the
  // ones [B, 1, S, 1] give the query axis (the cpu driver fuses attention
  // with a [B, 1, S, S] mask).
  ValueId am = attention_mask_;
  ValueId ones = b_.Add(b_.Mul(am, b_.ScalarI64(0), "model.pad_mask.zeros"),
                        b_.ScalarI64(1), "model.pad_mask.ones");
  ValueId k = b_.Unsqueeze(am, {1, 2}, "model.pad_mask.key");
  ValueId q = b_.Unsqueeze(ones, {1, 3}, "model.pad_mask.query");
  padding_mask_ = b_.Op("Less", {k, q}, {}, "model.pad_mask");
  return padding_mask_;
}

ValueId ArchBuilder::FirstRows(ValueId table, const std::string& name) {
  ValueId len =
      b_.Op("Shape", {input_ids_},
            {{"start", Attribute::Int(1)}, {"end", Attribute::Int(2)}},
            name + ".seq_len");
  return b_.Op("Slice", {table, b_.ConstI64({0}), len, b_.ConstI64({0})}, {},
               name);
}

absl::StatusOr<ValueId> ArchBuilder::LayerNorm(ValueId x,
                                               const std::string& prefix,
                                               int64_t dim, float eps,
                                               const std::string& name) {
  QEFF_ASSIGN_OR_RETURN(ValueId w, Weight(prefix + ".weight", {dim}));
  QEFF_ASSIGN_OR_RETURN(ValueId bias, Weight(prefix + ".bias", {dim}));
  ValueId normed = NormalizeLastAxis(x, eps, name);
  return b_.Add(b_.Mul(normed, w, name + ".scaled"), bias, name);
}

ValueId ArchBuilder::Gelu(ValueId x, bool tanh_approx,
                          const std::string& name) {
  if (!tanh_approx) {
    // 0.5 * x * (1 + erf(x / sqrt(2)))
    ValueId e = b_.Op("Erf",
                      {b_.Mul(x, b_.ScalarF32(static_cast<float>(M_SQRT1_2)),
                              name + ".scaled")},
                      {}, name + ".erf");
    return b_.Mul(b_.Mul(x, b_.ScalarF32(0.5f), name + ".half_x"),
                  b_.Add(e, b_.ScalarF32(1.0f), name + ".one_plus"), name);
  }
  // gelu_new: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
  ValueId cube = b_.Op("Pow", {x, b_.ScalarF32(3.0f)}, {}, name + ".cube");
  ValueId inner =
      b_.Add(x, b_.Mul(cube, b_.ScalarF32(0.044715f), name + ".cube_s"),
             name + ".inner");
  ValueId t = b_.Op(
      "Tanh",
      {b_.Mul(inner, b_.ScalarF32(static_cast<float>(std::sqrt(2.0 / M_PI))),
              name + ".inner_s")},
      {}, name + ".tanh");
  return b_.Mul(b_.Mul(x, b_.ScalarF32(0.5f), name + ".half_x"),
                b_.Add(t, b_.ScalarF32(1.0f), name + ".one_plus"), name);
}

ValueId ArchBuilder::ApplyRotateHalfRope(ValueId x, ValueId cos, ValueId sin,
                                         int64_t half,
                                         const std::string& name) {
  ValueId axes = b_.ConstI64({-1});
  ValueId x1 = b_.Op("Slice", {x, b_.ConstI64({0}), b_.ConstI64({half}), axes},
                     {}, name + ".x1");
  ValueId x2 =
      b_.Op("Slice", {x, b_.ConstI64({half}), b_.ConstI64({2 * half}), axes},
            {}, name + ".x2");
  ValueId rot = b_.Op("Concat", {b_.Op("Neg", {x2}, {}, name + ".neg_x2"), x1},
                      {{"axis", Attribute::Int(-1)}}, name + ".rotate_half");
  return b_.Add(b_.Mul(x, cos, name + ".xcos"),
                b_.Mul(rot, sin, name + ".rsin"), name);
}

ValueId ArchBuilder::CausalMask() {
  if (causal_ != ir::kNoValue) return causal_;
  // masked[b, 0, i, j] = position[b, j] > position[b, i].
  ValueId q = b_.Unsqueeze(position_ids_, {1, 3}, "model.mask.query_pos");
  ValueId k = b_.Unsqueeze(position_ids_, {1, 2}, "model.mask.key_pos");
  causal_ = b_.Op("Greater", {k, q}, {}, ir::LmRoles::kCausalMask);
  return causal_;
}

ValueId ArchBuilder::SlidingWindowMask(int64_t w) {
  if (window_ != ir::kNoValue) {
    QEFF_CHECK(w == window_size_);
    return window_;
  }
  ValueId causal = CausalMask();
  window_size_ = w;
  ValueId wv = b_.Const(ir::LmRoles::kSlidingWindow, ir::Tensor::ScalarI64(w));
  ValueId q = b_.Unsqueeze(position_ids_, {1, 3}, "model.window.query_pos");
  ValueId k = b_.Unsqueeze(position_ids_, {1, 2}, "model.window.key_pos");
  ValueId lo = b_.Op("Sub", {q, wv}, {}, "model.window.lowest_masked");
  ValueId old = b_.Op("LessOrEqual", {k, lo}, {}, "model.window.too_old");
  window_ = b_.Op("Or", {causal, old}, {}, ir::LmRoles::kSlidingWindowMask);
  return window_;
}

ValueId ArchBuilder::ChunkedMask(int64_t c) {
  if (chunked_ != ir::kNoValue) {
    QEFF_CHECK(c == chunk_size_);
    return chunked_;
  }
  ValueId causal = CausalMask();
  chunk_size_ = c;
  ValueId cv = b_.Const(ir::LmRoles::kAttentionChunk, ir::Tensor::ScalarI64(c));
  ValueId q = b_.Unsqueeze(position_ids_, {1, 3}, "model.chunk.query_pos");
  ValueId k = b_.Unsqueeze(position_ids_, {1, 2}, "model.chunk.key_pos");
  // Positions are >= 0: integer division is the floor.
  ValueId start = b_.Mul(b_.Op("Div", {q, cv}, {}, "model.chunk.index"), cv,
                         "model.chunk.start");
  ValueId before = b_.Op("Less", {k, start}, {}, "model.chunk.before_start");
  chunked_ = b_.Op("Or", {causal, before}, {}, ir::LmRoles::kChunkedMask);
  return chunked_;
}

ValueId ArchBuilder::RepeatKv(ValueId x, int64_t nh, int64_t nkv, int64_t d,
                              const std::string& name) {
  int64_t rep = nh / nkv;
  if (rep == 1) return x;
  ValueId u = b_.Unsqueeze(x, {2}, name + ".unsq");
  ValueId e = b_.Op("Expand", {u, b_.ConstI64({1, 1, rep, 1, 1})}, {},
                    name + ".expand");
  return b_.Reshape(e, {0, nh, -1, d}, name);
}

ValueId ArchBuilder::Attention(ValueId q, ValueId k, ValueId v, ValueId mask,
                               int64_t nh, int64_t nkv, int64_t d, float scale,
                               const std::string& a, float softcap) {
  ValueId k_all = RepeatKv(k, nh, nkv, d, a + ".k_rep");
  ValueId v_all = RepeatKv(v, nh, nkv, d, a + ".v_rep");
  ValueId kt = b_.Transpose(k_all, {0, 1, 3, 2}, a + ".k_t");
  ValueId scores =
      b_.Mul(b_.MatMul(q, kt, a + ".qk"), b_.ScalarF32(scale), a + ".scores");
  if (softcap > 0) {
    ValueId t =
        b_.Op("Tanh",
              {b_.Mul(scores, b_.ScalarF32(1.0f / softcap), a + ".capped_in")},
              {}, a + ".capped_tanh");
    scores = b_.Mul(t, b_.ScalarF32(softcap), a + ".capped");
  }
  ValueId masked =
      b_.Op("Where", {mask, b_.ScalarF32(ir::kMaskedScore), scores}, {},
            a + ".masked_scores");
  ValueId probs =
      b_.Op("Softmax", {masked}, {{"axis", Attribute::Int(-1)}}, a + ".probs");
  ValueId ctx = b_.MatMul(probs, v_all, a + ".context");
  return b_.Reshape(b_.Transpose(ctx, {0, 2, 1, 3}, a + ".context_t"),
                    {0, 0, nh * d}, a + ".context_merged");
}

}  // namespace qeff::models
