#include "models/arch/llama.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/builder.h"
#include "models/arch/moe.h"

namespace qeff::models {

using ir::Attribute;
using ir::DType;
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
  if (num_experts < 0 ||
      (num_experts > 0 &&
       (num_experts_per_tok < 1 || num_experts_per_tok > num_experts))) {
    return absl::InvalidArgumentError(
        absl::StrCat("llama config: num_experts_per_tok ", num_experts_per_tok,
                     " must be in [1, num_experts ", num_experts, "]"));
  }
  if (moe_intermediate_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("llama config: moe_intermediate_size must be >= 0, got ",
                     moe_intermediate_size));
  }
  if (sliding_window < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama config: sliding_window must be >= 0, got ", sliding_window));
  }
  const RopeScaling& r = rope_scaling;
  if (r.type != RopeScaling::Type::kNone && !(r.factor > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama config: rope_scaling.factor must be positive, got ", r.factor));
  }
  if (r.type == RopeScaling::Type::kLongRope) {
    const size_t half = static_cast<size_t>(HeadDim() / 2);
    if (r.long_factor.size() != half || r.short_factor.size() != half ||
        r.original_max_position_embeddings <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "llama config: rope_scaling longrope needs long_factor and "
          "short_factor of head_dim / 2 = ",
          half, " values (got ", r.long_factor.size(), " and ",
          r.short_factor.size(), ") and original_max_position_embeddings > 0"));
    }
  }
  if (r.type == RopeScaling::Type::kLlama3) {
    if (r.original_max_position_embeddings <= 0 ||
        !(r.high_freq_factor > r.low_freq_factor) || !(r.low_freq_factor > 0)) {
      return absl::InvalidArgumentError(
          "llama config: rope_scaling llama3 needs "
          "original_max_position_embeddings > 0 and "
          "high_freq_factor > low_freq_factor > 0");
    }
  }
  return absl::OkStatus();
}

std::vector<float> RopeInverseFrequencies(const LlamaConfig& c) {
  return RopeInverseFrequencies(c.HeadDim(), c.rope_theta, c.rope_scaling);
}

std::vector<float> RopeInverseFrequencies(int64_t d, float theta,
                                          const RopeScaling& r) {
  std::vector<float> inv(d / 2);
  for (int64_t i = 0; i < d / 2; ++i) {
    float e = static_cast<float>(2 * i) / static_cast<float>(d);
    inv[i] = 1.0f / std::pow(theta, e);
  }
  if (r.type == RopeScaling::Type::kLinear) {
    for (float& f : inv) f /= r.factor;
  } else if (r.type == RopeScaling::Type::kLlama3) {
    // transformers _compute_llama3_parameters.
    const float old_ctx =
        static_cast<float>(r.original_max_position_embeddings);
    const float low_wavelen = old_ctx / r.low_freq_factor;
    const float high_wavelen = old_ctx / r.high_freq_factor;
    for (float& f : inv) {
      const float wavelen = 2.0f * static_cast<float>(M_PI) / f;
      if (wavelen > low_wavelen) {
        f = f / r.factor;
      } else if (wavelen >= high_wavelen) {
        const float smooth = (old_ctx / wavelen - r.low_freq_factor) /
                             (r.high_freq_factor - r.low_freq_factor);
        f = (1 - smooth) * f / r.factor + smooth * f;
      }
    }
  }
  return inv;
}

namespace {

class LlamaBuilder {
 public:
  LlamaBuilder(const LlamaConfig& c, const WeightMap& w, ir::Graph* g)
      : c_(c), w_(w), a_("llama", w, g), b_(a_.b()) {}

  absl::Status Build() {
    a_.AddTokenInputs();
    QEFF_ASSIGN_OR_RETURN(ValueId embed,
                          a_.Weight("model.embed_tokens.weight",
                                    {c_.vocab_size, c_.hidden_size}));
    ValueId h = b_.Op("Gather", {embed, a_.input_ids()},
                      {{"axis", Attribute::Int(0)}}, "model.embed_tokens");
    BuildRope(a_.position_ids());
    a_.CausalMask();
    for (int i = 0; i < c_.num_hidden_layers; ++i) {
      QEFF_ASSIGN_OR_RETURN(h, Layer(i, h));
    }
    QEFF_ASSIGN_OR_RETURN(ValueId norm_w,
                          a_.Weight("model.norm.weight", {c_.hidden_size}));
    ValueId normed = RmsNorm(h, norm_w, ir::LmRoles::kFinalHidden);
    ValueId lm_head;
    if (c_.tie_word_embeddings) {
      lm_head = embed;
    } else {
      if (!a_.Has("lm_head.weight")) {
        return absl::NotFoundError(
            "llama weights: 'lm_head.weight' is missing and "
            "tie_word_embeddings is false");
      }
      QEFF_ASSIGN_OR_RETURN(
          lm_head,
          a_.Weight("lm_head.weight", {c_.vocab_size, c_.hidden_size}));
    }
    ValueId logits =
        a_.Linear(normed, lm_head, ir::kNoValue, ir::LmRoles::kLogits);
    b_.graph().AddOutput(logits);
    return absl::OkStatus();
  }

 private:
  // HF LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * weight.
  ValueId RmsNorm(ValueId x, ValueId w, const std::string& name) {
    return a_.RmsNorm(x, w, c_.rms_norm_eps, name);
  }

  // cos/sin [B, 1, S, D] from position_ids, HF rotate-half layout.
  void BuildRope(ValueId position_ids) {
    const int64_t d = c_.HeadDim();
    std::vector<float> inv_freq = RopeInverseFrequencies(c_);
    ValueId inv =
        b_.Const("model.rotary_emb.inv_freq", Tensor::F32({d / 2}, inv_freq));
    ValueId pos = b_.Op("Cast", {position_ids},
                        {{"to", Attribute::Int(ir::DTypeToOnnx(DType::kF32))}},
                        "model.rotary_emb.positions");
    if (c_.rope_scaling.type == RopeScaling::Type::kDynamic) {
      inv = DynamicInvFreq(pos);
    } else if (c_.rope_scaling.type == RopeScaling::Type::kLongRope) {
      inv = LongRopeInvFreq(pos);
    }
    ValueId freqs =
        b_.Mul(b_.Unsqueeze(pos, {-1}), inv, "model.rotary_emb.freqs");
    ValueId emb = b_.Op("Concat", {freqs, freqs},
                        {{"axis", Attribute::Int(-1)}}, "model.rotary_emb.emb");
    ValueId cos = b_.Op("Cos", {emb}, {}, "model.rotary_emb.cos_s");
    ValueId sin = b_.Op("Sin", {emb}, {}, "model.rotary_emb.sin_s");
    if (c_.rope_scaling.type == RopeScaling::Type::kLongRope &&
        c_.rope_scaling.attention_factor != 1.0f) {
      ValueId f = b_.ScalarF32(c_.rope_scaling.attention_factor);
      cos = b_.Mul(cos, f, "model.rotary_emb.cos_scaled");
      sin = b_.Mul(sin, f, "model.rotary_emb.sin_scaled");
    }
    cos_ = b_.Unsqueeze(cos, {1}, "model.rotary_emb.cos");
    sin_ = b_.Unsqueeze(sin, {1}, "model.rotary_emb.sin");
  }

  // Dynamic NTK (transformers _compute_dynamic_ntk_parameters with
  // seq_len = max(position_ids) + 1): base' = base * max(1, factor * L /
  // max_pos - (factor - 1)) ^ (d / (d - 2)); inv_freq_i = base'^(-2i/d).
  ValueId DynamicInvFreq(ValueId pos) {
    const int64_t d = c_.HeadDim();
    const float f = c_.rope_scaling.factor;
    const float max_pos = static_cast<float>(c_.max_position_embeddings);
    ValueId maxp = b_.Op("ReduceMax", {pos}, {{"keepdims", Attribute::Int(0)}},
                         "model.rotary_emb.max_position");
    ValueId len = b_.Add(maxp, b_.ScalarF32(1.0f), "model.rotary_emb.seq_len");
    ValueId ratio = b_.Op(
        "Sub", {b_.Mul(len, b_.ScalarF32(f / max_pos)), b_.ScalarF32(f - 1.0f)},
        {}, "model.rotary_emb.ntk_ratio");
    ValueId clamped = b_.Op("Max", {ratio, b_.ScalarF32(1.0f)}, {},
                            "model.rotary_emb.ntk_ratio_clamped");
    ValueId base = b_.Mul(
        b_.Op("Pow",
              {clamped,
               b_.ScalarF32(static_cast<float>(d) / static_cast<float>(d - 2))},
              {}, "model.rotary_emb.ntk_scale"),
        b_.ScalarF32(c_.rope_theta), "model.rotary_emb.base");
    std::vector<float> neg_exp(d / 2);
    for (int64_t i = 0; i < d / 2; ++i)
      neg_exp[i] = -static_cast<float>(2 * i) / static_cast<float>(d);
    return b_.Op("Pow",
                 {base, b_.Const("model.rotary_emb.neg_exponents",
                                 Tensor::F32({d / 2}, neg_exp))},
                 {}, "model.rotary_emb.dynamic_inv_freq");
  }

  // longrope (transformers _compute_longrope_parameters with
  // longrope_frequency_update): inv_freq_i = 1 / (f_i * base^(2i/d)), f the
  // long factors when max(position_ids) + 1 > original_max_position_
  // embeddings, else the short ones.
  ValueId LongRopeInvFreq(ValueId pos) {
    const RopeScaling& r = c_.rope_scaling;
    const int64_t d = c_.HeadDim();
    std::vector<float> lo(d / 2), sh(d / 2);
    for (int64_t i = 0; i < d / 2; ++i) {
      const float base = std::pow(
          c_.rope_theta, static_cast<float>(2 * i) / static_cast<float>(d));
      lo[i] = 1.0f / (r.long_factor[i] * base);
      sh[i] = 1.0f / (r.short_factor[i] * base);
    }
    ValueId maxp = b_.Op("ReduceMax", {pos}, {{"keepdims", Attribute::Int(0)}},
                         "model.rotary_emb.max_position");
    ValueId is_long = b_.Op(
        "Greater",
        {maxp, b_.ScalarF32(
                   static_cast<float>(r.original_max_position_embeddings - 1))},
        {}, "model.rotary_emb.is_long");
    return b_.Op(
        "Where",
        {is_long,
         b_.Const("model.rotary_emb.long_inv_freq", Tensor::F32({d / 2}, lo)),
         b_.Const("model.rotary_emb.short_inv_freq", Tensor::F32({d / 2}, sh))},
        {}, "model.rotary_emb.longrope_inv_freq");
  }

  // x * cos + rotate_half(x) * sin for x [B, H, S, D].
  ValueId ApplyRope(ValueId x, const std::string& name) {
    return a_.ApplyRotateHalfRope(x, cos_, sin_, c_.HeadDim() / 2, name);
  }

  absl::StatusOr<ValueId> Bias(bool present, const std::string& name,
                               int64_t n) {
    if (!present) {
      if (a_.Has(name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("llama weights: '", name,
                         "' is present but the config has no such bias"));
      }
      return ir::kNoValue;
    }
    return a_.Weight(name, {n});
  }

  // The attention half of layer i: h + o_proj(attention(norm(h))).
  absl::StatusOr<ValueId> Attention(int i, ValueId h, ValueId ln1, ValueId wq,
                                    ValueId wk, ValueId wv, ValueId wo,
                                    ValueId bq, ValueId bk, ValueId bv,
                                    ValueId bo) {
    const std::string p = absl::StrCat("model.layers.", i);
    const std::string a = p + ".self_attn";
    const int64_t d = c_.HeadDim();
    const int64_t nh = c_.num_attention_heads, nkv = c_.num_key_value_heads;
    ValueId x = RmsNorm(h, ln1, p + ".input_layernorm");
    ValueId pq = ir::kNoValue, pk = ir::kNoValue, pv = ir::kNoValue;
    if (c_.fused_qkv) {
      // wq / bq hold the fused qkv_proj weight and bias (wk, wv unused).
      ValueId qkv = a_.Linear(x, wq, bq, a + ".qkv_proj");
      std::vector<ValueId> parts =
          b_.OpN("Split", {qkv, b_.ConstI64({nh * d, nkv * d, nkv * d})}, 3,
                 {{"axis", Attribute::Int(-1)}}, a + ".qkv_split");
      pq = parts[0];
      pk = parts[1];
      pv = parts[2];
    }
    auto heads = [&](ValueId w, ValueId bias, int64_t n,
                     const std::string& role, ValueId proj) {
      if (proj == ir::kNoValue)
        proj = a_.Linear(x, w, bias, a + "." + role + "_proj");
      ValueId r = b_.Reshape(proj, {0, 0, n, d}, a + "." + role + "_heads");
      return b_.Transpose(r, {0, 2, 1, 3}, a + "." + role);
    };
    ValueId qh = heads(wq, bq, nh, "q", pq), kh = heads(wk, bk, nkv, "k", pk);
    if (c_.qk_norm) {
      QEFF_ASSIGN_OR_RETURN(ValueId qn, a_.Weight(a + ".q_norm.weight", {d}));
      QEFF_ASSIGN_OR_RETURN(ValueId kn, a_.Weight(a + ".k_norm.weight", {d}));
      qh = RmsNorm(qh, qn, a + ".q_norm");
      kh = RmsNorm(kh, kn, a + ".k_norm");
    } else if (a_.Has(a + ".q_norm.weight")) {
      return absl::InvalidArgumentError(
          absl::StrCat("llama weights: '", a,
                       ".q_norm.weight' is present but the config "
                       "has no q/k norm"));
    }
    ValueId q = ApplyRope(qh, a + ".q_rot");
    ValueId k = ApplyRope(kh, ir::LmRoles::KeyRot(i));
    ValueId v = heads(wv, bv, nkv, "v", pv);
    QEFF_CHECK(b_.graph().value(v).name == ir::LmRoles::Value(i));
    ValueId mask = c_.LayerIsWindowed(i)
                       ? a_.SlidingWindowMask(c_.sliding_window)
                       : a_.CausalMask();
    ValueId merged = a_.Attention(
        q, k, v, mask, nh, nkv, d,
        static_cast<float>(1.0 / std::sqrt(static_cast<double>(d))), a);
    ValueId attn_out = a_.Linear(merged, wo, bo, a + ".o_proj");
    ValueId h1 = b_.Add(h, attn_out, p + ".attn_residual");
    return h1;
  }

  absl::StatusOr<ValueId> Layer(int i, ValueId h) {
    const std::string p = absl::StrCat("model.layers.", i);
    const int64_t hs = c_.hidden_size, d = c_.HeadDim();
    const int64_t nh = c_.num_attention_heads, nkv = c_.num_key_value_heads;
    const int64_t ff = c_.intermediate_size;
    const std::string a = p + ".self_attn", m = p + ".mlp";
    QEFF_ASSIGN_OR_RETURN(ValueId ln1,
                          a_.Weight(p + ".input_layernorm.weight", {hs}));
    ValueId wq = ir::kNoValue, wk = ir::kNoValue, wv = ir::kNoValue;
    ValueId fused_bias = ir::kNoValue;
    if (c_.fused_qkv) {
      QEFF_ASSIGN_OR_RETURN(
          wq, a_.Weight(a + ".qkv_proj.weight", {(nh + 2 * nkv) * d, hs}));
      if (a_.Has(a + ".qkv_proj.bias")) {
        QEFF_ASSIGN_OR_RETURN(
            fused_bias, a_.Weight(a + ".qkv_proj.bias", {(nh + 2 * nkv) * d}));
      }
    } else {
      QEFF_ASSIGN_OR_RETURN(wq, a_.Weight(a + ".q_proj.weight", {nh * d, hs}));
      QEFF_ASSIGN_OR_RETURN(wk, a_.Weight(a + ".k_proj.weight", {nkv * d, hs}));
      QEFF_ASSIGN_OR_RETURN(wv, a_.Weight(a + ".v_proj.weight", {nkv * d, hs}));
    }
    QEFF_ASSIGN_OR_RETURN(ValueId wo,
                          a_.Weight(a + ".o_proj.weight", {hs, nh * d}));
    QEFF_ASSIGN_OR_RETURN(ValueId bq,
                          Bias(c_.qkv_bias, a + ".q_proj.bias", nh * d));
    if (c_.fused_qkv) bq = fused_bias;  // Attention reads it as the qkv bias
    QEFF_ASSIGN_OR_RETURN(ValueId bk,
                          Bias(c_.qkv_bias, a + ".k_proj.bias", nkv * d));
    QEFF_ASSIGN_OR_RETURN(ValueId bv,
                          Bias(c_.qkv_bias, a + ".v_proj.bias", nkv * d));
    QEFF_ASSIGN_OR_RETURN(ValueId bo, Bias(c_.o_bias, a + ".o_proj.bias", hs));
    QEFF_ASSIGN_OR_RETURN(
        ValueId ln2, a_.Weight(p + ".post_attention_layernorm.weight", {hs}));
    if (c_.LayerIsMoE(i)) {
      QEFF_ASSIGN_OR_RETURN(
          ValueId h1, Attention(i, h, ln1, wq, wk, wv, wo, bq, bk, bv, bo));
      ValueId y = RmsNorm(h1, ln2, p + ".post_attention_layernorm");
      const bool mixtral = c_.moe_style == "mixtral";
      MoEBlockSpec s;
      s.prefix = p + (mixtral ? ".block_sparse_moe" : ".mlp");
      s.router = "gate";
      s.gate = mixtral ? "w1" : "gate_proj";
      s.up = mixtral ? "w3" : "up_proj";
      s.down = mixtral ? "w2" : "down_proj";
      s.num_experts = c_.num_experts;
      s.top_k = c_.num_experts_per_tok;
      s.hidden = hs;
      s.ffn = c_.moe_intermediate_size ? c_.moe_intermediate_size : ff;
      s.norm_topk_prob = c_.norm_topk_prob;
      QEFF_ASSIGN_OR_RETURN(ValueId moe, BuildMoEBlock(a_, w_, s, y));
      return b_.Add(h1, moe, p + ".mlp_residual");
    }
    ValueId wg = ir::kNoValue, wu = ir::kNoValue;
    if (c_.fused_gate_up) {
      QEFF_ASSIGN_OR_RETURN(
          wg, a_.Weight(m + ".gate_up_proj.weight", {2 * ff, hs}));
    } else {
      QEFF_ASSIGN_OR_RETURN(wg, a_.Weight(m + ".gate_proj.weight", {ff, hs}));
      QEFF_ASSIGN_OR_RETURN(wu, a_.Weight(m + ".up_proj.weight", {ff, hs}));
    }
    QEFF_ASSIGN_OR_RETURN(ValueId wd,
                          a_.Weight(m + ".down_proj.weight", {hs, ff}));
    QEFF_ASSIGN_OR_RETURN(ValueId bg,
                          Bias(c_.mlp_bias, m + ".gate_proj.bias", ff));
    QEFF_ASSIGN_OR_RETURN(ValueId bu,
                          Bias(c_.mlp_bias, m + ".up_proj.bias", ff));
    QEFF_ASSIGN_OR_RETURN(ValueId bd,
                          Bias(c_.mlp_bias, m + ".down_proj.bias", hs));

    QEFF_ASSIGN_OR_RETURN(ValueId h1,
                          Attention(i, h, ln1, wq, wk, wv, wo, bq, bk, bv, bo));

    ValueId y = RmsNorm(h1, ln2, p + ".post_attention_layernorm");
    ValueId gate, up;
    if (c_.fused_gate_up) {
      ValueId gu = a_.Linear(y, wg, ir::kNoValue, m + ".gate_up_proj");
      std::vector<ValueId> parts =
          b_.OpN("Split", {gu, b_.ConstI64({ff, ff})}, 2,
                 {{"axis", Attribute::Int(-1)}}, m + ".gate_up_split");
      gate = parts[0];
      up = parts[1];
    } else {
      gate = a_.Linear(y, wg, bg, m + ".gate_proj");
      up = a_.Linear(y, wu, bu, m + ".up_proj");
    }
    ValueId silu = b_.Mul(
        gate, b_.Op("Sigmoid", {gate}, {}, m + ".gate_sigmoid"), m + ".act");
    ValueId down =
        a_.Linear(b_.Mul(silu, up, m + ".act_up"), wd, bd, m + ".down_proj");
    return b_.Add(h1, down, p + ".mlp_residual");
  }

  const LlamaConfig& c_;
  const WeightMap& w_;
  ArchBuilder a_;
  ir::GraphBuilder& b_;
  ValueId cos_ = ir::kNoValue, sin_ = ir::kNoValue;
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
