#include "models/arch/grok.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/builder.h"
#include "ir/lm_roles.h"
#include "models/arch/llama.h"
#include "models/arch/moe.h"

namespace qeff::models {

using ir::Attribute;
using ir::DType;
using ir::Tensor;
using ir::ValueId;

absl::Status GrokConfig::Validate() const {
  auto positive = [](const char* name, int64_t v) -> absl::Status {
    if (v <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat("grok config: ", name, " must be positive, got ", v));
    return absl::OkStatus();
  };
  QEFF_RETURN_IF_ERROR(positive("vocab_size", vocab_size));
  QEFF_RETURN_IF_ERROR(positive("hidden_size", hidden_size));
  QEFF_RETURN_IF_ERROR(positive("intermediate_size", intermediate_size));
  QEFF_RETURN_IF_ERROR(positive("num_hidden_layers", num_hidden_layers));
  QEFF_RETURN_IF_ERROR(positive("num_attention_heads", num_attention_heads));
  QEFF_RETURN_IF_ERROR(positive("num_key_value_heads", num_key_value_heads));
  QEFF_RETURN_IF_ERROR(positive("head_dim", head_dim));
  QEFF_RETURN_IF_ERROR(positive("num_experts", num_experts));
  if (num_attention_heads % num_key_value_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "grok config: num_attention_heads ", num_attention_heads,
        " is not a multiple of num_key_value_heads ", num_key_value_heads));
  }
  if (head_dim % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("grok config: head_dim ", head_dim, " must be even"));
  }
  if (num_experts_per_tok < 1 || num_experts_per_tok > num_experts) {
    return absl::InvalidArgumentError(
        absl::StrCat("grok config: num_experts_per_tok ", num_experts_per_tok,
                     " must be in [1, num_experts ", num_experts, "]"));
  }
  if (!(embedding_multiplier_scale > 0) || !(output_multiplier_scale > 0) ||
      !(attn_output_multiplier > 0) || !(max_attn_value >= 0) ||
      !(final_logit_softcapping >= 0) || !(rope_theta > 0) ||
      !(rms_norm_eps > 0)) {
    return absl::InvalidArgumentError(
        "grok config: embedding_multiplier_scale, output_multiplier_scale, "
        "attn_output_multiplier, rope_theta and rms_norm_eps must be "
        "positive, max_attn_value and final_logit_softcapping >= 0");
  }
  if (expert_activation != 1 && expert_activation != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("grok config: expert_activation ", expert_activation,
                     " (1 GELU, 2 GELU tanh)"));
  }
  return absl::OkStatus();
}

namespace {

class GrokBuilder {
 public:
  GrokBuilder(const GrokConfig& c, const WeightMap& w, ir::Graph* g)
      : c_(c), w_(w), a_("grok", w, g), b_(a_.b()) {}

  absl::Status Build() {
    a_.AddTokenInputs();
    QEFF_ASSIGN_OR_RETURN(ValueId embed,
                          a_.Weight("model.embed_tokens.weight",
                                    {c_.vocab_size, c_.hidden_size}));
    ValueId tok = b_.Op("Gather", {embed, a_.input_ids()},
                        {{"axis", Attribute::Int(0)}}, "model.embed_tokens");
    ValueId h = b_.Mul(tok, b_.ScalarF32(c_.embedding_multiplier_scale),
                       "model.embed_scaled");
    BuildRope();
    a_.CausalMask();
    for (int i = 0; i < c_.num_hidden_layers; ++i) {
      QEFF_ASSIGN_OR_RETURN(h, Layer(i, h));
    }
    QEFF_ASSIGN_OR_RETURN(ValueId normed,
                          Norm(h, "model.norm", ir::LmRoles::kFinalHidden));
    // Tied (Grok1Config's default): HF ties lm_head to the embeddings and
    // ignores a saved lm_head.weight.
    ValueId lm_head = embed;
    if (!c_.tie_word_embeddings) {
      if (!a_.Has("lm_head.weight")) {
        return absl::NotFoundError(
            "grok weights: 'lm_head.weight' is missing and "
            "tie_word_embeddings is false");
      }
      QEFF_ASSIGN_OR_RETURN(
          lm_head,
          a_.Weight("lm_head.weight", {c_.vocab_size, c_.hidden_size}));
    }
    ValueId raw = a_.Linear(normed, lm_head, ir::kNoValue, "lm_head");
    const float cap = c_.final_logit_softcapping;
    ValueId logits = b_.Mul(raw, b_.ScalarF32(c_.output_multiplier_scale),
                            cap > 0 ? "lm_head.scaled" : ir::LmRoles::kLogits);
    if (cap > 0) {
      ValueId t =
          b_.Op("Tanh",
                {b_.Mul(logits, b_.ScalarF32(1.0f / cap), "lm_head.capped_in")},
                {}, "lm_head.tanh");
      logits = b_.Mul(t, b_.ScalarF32(cap), ir::LmRoles::kLogits);
    }
    b_.graph().AddOutput(logits);
    return absl::OkStatus();
  }

 private:
  // cos/sin [B, 1, S, D] from position_ids (HF RotaryEmbedding).
  void BuildRope() {
    const int64_t d = c_.head_dim;
    RopeScaling none;
    ValueId inv = b_.Const(
        "model.rotary_emb.inv_freq",
        Tensor::F32({d / 2}, RopeInverseFrequencies(d, c_.rope_theta, none)));
    ValueId pos = b_.Op("Cast", {a_.position_ids()},
                        {{"to", Attribute::Int(ir::DTypeToOnnx(DType::kF32))}},
                        "model.rotary_emb.positions");
    ValueId freqs =
        b_.Mul(b_.Unsqueeze(pos, {-1}), inv, "model.rotary_emb.freqs");
    ValueId emb = b_.Op("Concat", {freqs, freqs},
                        {{"axis", Attribute::Int(-1)}}, "model.rotary_emb.emb");
    cos_ = b_.Unsqueeze(b_.Op("Cos", {emb}, {}, "model.rotary_emb.cos_s"), {1},
                        "model.rotary_emb.cos");
    sin_ = b_.Unsqueeze(b_.Op("Sin", {emb}, {}, "model.rotary_emb.sin_s"), {1},
                        "model.rotary_emb.sin");
  }

  // Grok's RMSNorm: x * rsqrt(mean(x^2) + eps) * scale.
  absl::StatusOr<ValueId> Norm(ValueId x, const std::string& prefix,
                               const std::string& name) {
    QEFF_ASSIGN_OR_RETURN(ValueId w,
                          a_.Weight(prefix + ".scale", {c_.hidden_size}));
    return a_.RmsNorm(x, w, c_.rms_norm_eps, name);
  }

  absl::StatusOr<ValueId> Layer(int i, ValueId h) {
    const std::string p = absl::StrCat("model.layers.", i);
    const std::string a = p + ".attn";
    const int64_t hs = c_.hidden_size, d = c_.head_dim;
    const int64_t nh = c_.num_attention_heads, nkv = c_.num_key_value_heads;
    // A GGUF may hold one fused attn_qkv (llama.cpp's create_tensor_qkv):
    // q rows, then k, then v.
    const bool fused = a_.Has(a + ".qkv_proj.weight");
    ValueId wq = ir::kNoValue, wk = ir::kNoValue, wv = ir::kNoValue;
    if (fused) {
      QEFF_ASSIGN_OR_RETURN(
          wq, a_.Weight(a + ".qkv_proj.weight", {(nh + 2 * nkv) * d, hs}));
    } else {
      QEFF_ASSIGN_OR_RETURN(wq, a_.Weight(a + ".q_proj.weight", {nh * d, hs}));
      QEFF_ASSIGN_OR_RETURN(wk, a_.Weight(a + ".k_proj.weight", {nkv * d, hs}));
      QEFF_ASSIGN_OR_RETURN(wv, a_.Weight(a + ".v_proj.weight", {nkv * d, hs}));
    }
    QEFF_ASSIGN_OR_RETURN(ValueId wo,
                          a_.Weight(a + ".o_proj.weight", {hs, nh * d}));
    QEFF_ASSIGN_OR_RETURN(ValueId x,
                          Norm(h, p + ".pre_attn_norm", p + ".pre_attn_norm"));
    // Values are named under self_attn (the role names of ir/lm_roles.h);
    // the weights keep the HF module's `attn` names.
    const std::string sa = p + ".self_attn";
    std::vector<ValueId> projs;
    if (fused) {
      ValueId qkv = a_.Linear(x, wq, ir::kNoValue, sa + ".qkv_proj");
      projs = b_.OpN("Split", {qkv, b_.ConstI64({nh * d, nkv * d, nkv * d})}, 3,
                     {{"axis", Attribute::Int(-1)}}, sa + ".qkv_split");
    } else {
      projs = {a_.Linear(x, wq, ir::kNoValue, sa + ".q_proj"),
               a_.Linear(x, wk, ir::kNoValue, sa + ".k_proj"),
               a_.Linear(x, wv, ir::kNoValue, sa + ".v_proj")};
    }
    auto heads = [&](ValueId proj, int64_t n, const std::string& role) {
      ValueId r = b_.Reshape(proj, {0, 0, n, d}, sa + "." + role + "_heads");
      return b_.Transpose(r, {0, 2, 1, 3}, sa + "." + role);
    };
    ValueId q = a_.ApplyRotateHalfRope(heads(projs[0], nh, "q"), cos_, sin_,
                                       d / 2, sa + ".q_rot");
    ValueId k = a_.ApplyRotateHalfRope(heads(projs[1], nkv, "k"), cos_, sin_,
                                       d / 2, ir::LmRoles::KeyRot(i));
    ValueId v = heads(projs[2], nkv, "v");
    QEFF_CHECK(b_.graph().value(v).name == ir::LmRoles::Value(i));
    ValueId merged =
        a_.Attention(q, k, v, a_.CausalMask(), nh, nkv, d,
                     c_.attn_output_multiplier, sa, c_.max_attn_value);
    ValueId attn = a_.Linear(merged, wo, ir::kNoValue, sa + ".o_proj");
    QEFF_ASSIGN_OR_RETURN(ValueId attn_n, Norm(attn, p + ".post_attn_norm",
                                               p + ".post_attn_norm"));
    ValueId h1 = b_.Add(h, attn_n, p + ".attn_residual");

    QEFF_ASSIGN_OR_RETURN(ValueId y,
                          Norm(h1, p + ".pre_moe_norm", p + ".pre_moe_norm"));
    MoEBlockSpec s;
    s.prefix = p + ".moe_block";
    s.router = "gate";
    s.gate = "linear";
    s.up = "linear_v";
    s.down = "linear_1";
    s.num_experts = c_.num_experts;
    s.top_k = c_.num_experts_per_tok;
    s.hidden = hs;
    s.ffn = c_.intermediate_size;
    s.norm_topk_prob = c_.norm_topk_prob;
    s.activation = c_.expert_activation;
    QEFF_ASSIGN_OR_RETURN(ValueId moe, BuildMoEBlock(a_, w_, s, y));
    QEFF_ASSIGN_OR_RETURN(
        ValueId moe_n, Norm(moe, p + ".post_moe_norm", p + ".post_moe_norm"));
    return b_.Add(h1, moe_n, p + ".mlp_residual");
  }

  const GrokConfig& c_;
  const WeightMap& w_;
  ArchBuilder a_;
  ir::GraphBuilder& b_;
  ValueId cos_ = ir::kNoValue, sin_ = ir::kNoValue;
};

}  // namespace

absl::StatusOr<ir::Graph> BuildGrokEager(const GrokConfig& config,
                                         const WeightMap& weights) {
  QEFF_RETURN_IF_ERROR(config.Validate());
  ir::Graph g;
  g.name = "Grok1ModelForCausalLM";
  GrokBuilder builder(config, weights, &g);
  QEFF_RETURN_IF_ERROR(builder.Build());
  return g;
}

}  // namespace qeff::models
