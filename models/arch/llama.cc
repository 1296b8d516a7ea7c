#include "models/arch/llama.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/builder.h"
#include "ir/status_macros.h"

namespace qeff::models {

using ir::Attribute;
using ir::DType;
using ir::Dim;
using ir::GraphBuilder;
using ir::Shape;
using ir::Tensor;
using ir::ValueId;

absl::Status LlamaConfig::Validate() const {
  auto positive = [](const char* name, int64_t v) -> absl::Status {
    if (v <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat("llama config: ", name, " must be positive, got ", v));
    return absl::OkStatus();
  };
  QEFF_RETURN_IF_ERROR(positive("hidden_size", hidden_size));
  QEFF_RETURN_IF_ERROR(positive("intermediate_size", intermediate_size));
  QEFF_RETURN_IF_ERROR(positive("num_hidden_layers", num_hidden_layers));
  QEFF_RETURN_IF_ERROR(positive("num_attention_heads", num_attention_heads));
  QEFF_RETURN_IF_ERROR(positive("num_key_value_heads", num_key_value_heads));
  QEFF_RETURN_IF_ERROR(positive("vocab_size", vocab_size));
  if (num_attention_heads % num_key_value_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama config: num_attention_heads ", num_attention_heads,
        " is not a multiple of num_key_value_heads ", num_key_value_heads));
  }
  if (head_dim == 0 && hidden_size % num_attention_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama config: hidden_size ", hidden_size,
        " is not a multiple of num_attention_heads ", num_attention_heads));
  }
  if (HeadDim() % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("llama config: head_dim ", HeadDim(), " must be even"));
  }
  return absl::OkStatus();
}

std::string LlamaRoles::KeyRot(int layer) {
  return absl::StrCat("model.layers.", layer, ".self_attn.k_rot");
}
std::string LlamaRoles::Value(int layer) {
  return absl::StrCat("model.layers.", layer, ".self_attn.v");
}

namespace {

class LlamaBuilder {
 public:
  LlamaBuilder(const LlamaConfig& c, const WeightMap& w, ir::Graph* g)
      : c_(c), w_(w), b_(g) {}

  absl::Status Build() {
    const Shape tokens_shape({Dim::Symbol("batch_size"), Dim::Symbol("seq_len")});
    ValueId input_ids = b_.Input("input_ids", DType::kI64, tokens_shape);
    ValueId position_ids = b_.Input("position_ids", DType::kI64, tokens_shape);

    QEFF_ASSIGN_OR_RETURN(ValueId embed, Weight("model.embed_tokens.weight",
                                                {c_.vocab_size, c_.hidden_size}));
    ValueId h = b_.Op("Gather", {embed, input_ids}, {{"axis", Attribute::Int(0)}},
                      "model.embed_tokens");
    BuildRope(position_ids);
    BuildCausalMask(position_ids);
    for (int i = 0; i < c_.num_hidden_layers; ++i) {
      QEFF_ASSIGN_OR_RETURN(h, Layer(i, h));
    }
    QEFF_ASSIGN_OR_RETURN(ValueId norm_w,
                          Weight("model.norm.weight", {c_.hidden_size}));
    ValueId normed = RmsNorm(h, norm_w, LlamaRoles::kFinalHidden);
    ValueId lm_head;
    if (c_.tie_word_embeddings || !w_.contains("lm_head.weight")) {
      if (!c_.tie_word_embeddings) {
        return absl::NotFoundError(
            "llama weights: 'lm_head.weight' is missing and "
            "tie_word_embeddings is false");
      }
      lm_head = embed;
    } else {
      QEFF_ASSIGN_OR_RETURN(lm_head, Weight("lm_head.weight",
                                            {c_.vocab_size, c_.hidden_size}));
    }
    ValueId logits = Linear(normed, lm_head, LlamaRoles::kLogits);
    b_.graph().AddOutput(logits);
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<ValueId> Weight(const std::string& name,
                                 std::vector<int64_t> dims) {
    auto it = w_.find(name);
    if (it == w_.end())
      return absl::NotFoundError(absl::StrCat("llama weights: '", name, "' is missing"));
    if (it->second.dims() != dims) {
      return absl::InvalidArgumentError(absl::StrCat(
          "llama weights: '", name, "' has shape ",
          Shape::Of(it->second.dims()).ToString(), ", expected ",
          Shape::Of(dims).ToString()));
    }
    return b_.Const(name, it->second);
  }

  // x @ W^T for an HF Linear weight [out, in].
  ValueId Linear(ValueId x, ValueId w, const std::string& name) {
    ValueId wt = b_.Transpose(w, {1, 0}, name + ".weight_t");
    return b_.MatMul(x, wt, name);
  }

  // HF LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * weight.
  ValueId RmsNorm(ValueId x, ValueId w, const std::string& name) {
    ValueId sq = b_.Op("Pow", {x, b_.ScalarF32(2.0f)}, {}, name + ".sq");
    ValueId var = b_.Op("ReduceMean", {sq},
                        {{"axes", Attribute::Ints({-1})},
                         {"keepdims", Attribute::Int(1)}},
                        name + ".variance");
    ValueId eps = b_.Add(var, b_.ScalarF32(c_.rms_norm_eps), name + ".var_eps");
    ValueId rstd = b_.Op("Reciprocal", {b_.Op("Sqrt", {eps}, {}, name + ".std")},
                         {}, name + ".rstd");
    ValueId normed = b_.Mul(x, rstd, name + ".normed");
    return b_.Mul(w, normed, name);
  }

  // cos/sin [B, 1, S, D] from position_ids, HF rotate-half layout.
  void BuildRope(ValueId position_ids) {
    int64_t d = c_.HeadDim();
    std::vector<float> inv_freq(d / 2);
    for (int64_t i = 0; i < d / 2; ++i) {
      inv_freq[i] = static_cast<float>(
          1.0 / std::pow(static_cast<double>(c_.rope_theta),
                         static_cast<double>(2 * i) / static_cast<double>(d)));
    }
    ValueId inv = b_.Const("model.rotary_emb.inv_freq",
                           Tensor::F32({d / 2}, inv_freq));
    ValueId pos = b_.Op("Cast", {position_ids},
                        {{"to", Attribute::Int(ir::DTypeToOnnx(DType::kF32))}},
                        "model.rotary_emb.positions");
    ValueId freqs = b_.Mul(b_.Unsqueeze(pos, {-1}), inv, "model.rotary_emb.freqs");
    ValueId emb = b_.Op("Concat", {freqs, freqs}, {{"axis", Attribute::Int(-1)}},
                        "model.rotary_emb.emb");
    cos_ = b_.Unsqueeze(b_.Op("Cos", {emb}, {}, "model.rotary_emb.cos_s"), {1},
                        "model.rotary_emb.cos");
    sin_ = b_.Unsqueeze(b_.Op("Sin", {emb}, {}, "model.rotary_emb.sin_s"), {1},
                        "model.rotary_emb.sin");
  }

  // masked[b, 0, i, j] = position[b, j] > position[b, i].
  void BuildCausalMask(ValueId position_ids) {
    ValueId q = b_.Unsqueeze(position_ids, {1, 3}, "model.mask.query_pos");
    ValueId k = b_.Unsqueeze(position_ids, {1, 2}, "model.mask.key_pos");
    mask_ = b_.Op("Greater", {k, q}, {}, LlamaRoles::kCausalMask);
  }

  // x * cos + rotate_half(x) * sin for x [B, H, S, D].
  ValueId ApplyRope(ValueId x, const std::string& name) {
    int64_t half = c_.HeadDim() / 2;
    ValueId axes = b_.ConstI64({-1});
    ValueId x1 = b_.Op("Slice", {x, b_.ConstI64({0}), b_.ConstI64({half}), axes},
                       {}, name + ".x1");
    ValueId x2 = b_.Op("Slice",
                       {x, b_.ConstI64({half}), b_.ConstI64({2 * half}), axes},
                       {}, name + ".x2");
    ValueId rot = b_.Op("Concat", {b_.Op("Neg", {x2}, {}, name + ".neg_x2"), x1},
                        {{"axis", Attribute::Int(-1)}}, name + ".rotate_half");
    return b_.Add(b_.Mul(x, cos_, name + ".xcos"),
                  b_.Mul(rot, sin_, name + ".rsin"), name);
  }

  // [B, n_kv, S, D] -> [B, n_kv * rep, S, D] (HF repeat_kv).
  ValueId RepeatKv(ValueId x, const std::string& name) {
    int64_t rep = c_.num_attention_heads / c_.num_key_value_heads;
    if (rep == 1) return x;
    ValueId u = b_.Unsqueeze(x, {2}, name + ".unsq");
    ValueId e = b_.Op("Expand", {u, b_.ConstI64({1, 1, rep, 1, 1})}, {},
                      name + ".expand");
    return b_.Reshape(e, {0, c_.num_attention_heads, -1, c_.HeadDim()}, name);
  }

  absl::StatusOr<ValueId> Layer(int i, ValueId h) {
    const std::string p = absl::StrCat("model.layers.", i);
    const int64_t hs = c_.hidden_size, d = c_.HeadDim();
    const int64_t nh = c_.num_attention_heads, nkv = c_.num_key_value_heads;
    QEFF_ASSIGN_OR_RETURN(ValueId ln1, Weight(p + ".input_layernorm.weight", {hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wq, Weight(p + ".self_attn.q_proj.weight", {nh * d, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wk, Weight(p + ".self_attn.k_proj.weight", {nkv * d, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wv, Weight(p + ".self_attn.v_proj.weight", {nkv * d, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wo, Weight(p + ".self_attn.o_proj.weight", {hs, nh * d}));
    QEFF_ASSIGN_OR_RETURN(ValueId ln2, Weight(p + ".post_attention_layernorm.weight", {hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wg, Weight(p + ".mlp.gate_proj.weight", {c_.intermediate_size, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wu, Weight(p + ".mlp.up_proj.weight", {c_.intermediate_size, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wd, Weight(p + ".mlp.down_proj.weight", {hs, c_.intermediate_size}));

    const std::string a = p + ".self_attn";
    ValueId x = RmsNorm(h, ln1, p + ".input_layernorm");
    auto heads = [&](ValueId w, int64_t n, const std::string& role) {
      ValueId proj = Linear(x, w, a + "." + role + "_proj");
      ValueId r = b_.Reshape(proj, {0, 0, n, d}, a + "." + role + "_heads");
      return b_.Transpose(r, {0, 2, 1, 3}, a + "." + role);
    };
    ValueId q = ApplyRope(heads(wq, nh, "q"), a + ".q_rot");
    ValueId k = ApplyRope(heads(wk, nkv, "k"), LlamaRoles::KeyRot(i));
    ValueId v = heads(wv, nkv, "v");
    QEFF_CHECK(b_.graph().value(v).name == LlamaRoles::Value(i));
    ValueId k_all = RepeatKv(k, a + ".k_rep");
    ValueId v_all = RepeatKv(v, a + ".v_rep");
    ValueId kt = b_.Transpose(k_all, {0, 1, 3, 2}, a + ".k_t");
    ValueId scores = b_.Mul(b_.MatMul(q, kt, a + ".qk"),
                            b_.ScalarF32(static_cast<float>(1.0 / std::sqrt(double(d)))),
                            a + ".scores");
    ValueId masked = b_.Op("Where", {mask_, b_.ScalarF32(kMaskedScore), scores}, {},
                           a + ".masked_scores");
    ValueId probs = b_.Op("Softmax", {masked}, {{"axis", Attribute::Int(-1)}},
                          a + ".probs");
    ValueId ctx = b_.MatMul(probs, v_all, a + ".context");
    ValueId merged = b_.Reshape(b_.Transpose(ctx, {0, 2, 1, 3}, a + ".context_t"),
                                {0, 0, nh * d}, a + ".context_merged");
    ValueId attn_out = Linear(merged, wo, a + ".o_proj");
    ValueId h1 = b_.Add(h, attn_out, p + ".attn_residual");

    const std::string m = p + ".mlp";
    ValueId y = RmsNorm(h1, ln2, p + ".post_attention_layernorm");
    ValueId gate = Linear(y, wg, m + ".gate_proj");
    ValueId silu = b_.Mul(gate, b_.Op("Sigmoid", {gate}, {}, m + ".gate_sigmoid"),
                          m + ".act");
    ValueId up = Linear(y, wu, m + ".up_proj");
    ValueId down = Linear(b_.Mul(silu, up, m + ".act_up"), wd, m + ".down_proj");
    return b_.Add(h1, down, p + ".mlp_residual");
  }

  const LlamaConfig& c_;
  const WeightMap& w_;
  GraphBuilder b_;
  ValueId cos_ = ir::kNoValue, sin_ = ir::kNoValue, mask_ = ir::kNoValue;
};

}  // namespace

absl::StatusOr<ir::Graph> BuildLlamaEager(const LlamaConfig& config,
                                          const WeightMap& weights) {
  QEFF_RETURN_IF_ERROR(config.Validate());
  ir::Graph g;
  g.name = "LlamaForCausalLM";
  LlamaBuilder builder(config, weights, &g);
  QEFF_RETURN_IF_ERROR(builder.Build());
  return g;
}

}  // namespace qeff::models
