#include "models/arch/gemma3.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/builder.h"
#include "ir/lm_roles.h"

namespace qeff::models {

using ir::Attribute;
using ir::DType;
using ir::Tensor;
using ir::ValueId;

absl::Status Gemma3Config::Validate() const {
  QEFF_RETURN_IF_ERROR(
      CheckDecoderConfig("gemma3",
                         {{"vocab_size", vocab_size},
                          {"hidden_size", hidden_size},
                          {"intermediate_size", intermediate_size},
                          {"num_hidden_layers", num_hidden_layers},
                          {"num_attention_heads", num_attention_heads},
                          {"num_key_value_heads", num_key_value_heads},
                          {"head_dim", head_dim}},
                         num_attention_heads, num_key_value_heads, head_dim));
  if (sliding_window < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "gemma3 config: sliding_window must be >= 0, got ", sliding_window));
  }
  if (sliding_window > 0 &&
      static_cast<int64_t>(sliding_layers.size()) != num_hidden_layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("gemma3 config: ", sliding_layers.size(),
                     " layer types for ", num_hidden_layers, " layers"));
  }
  if (!(attention_scale > 0) || !(embed_scale > 0) ||
      !(final_logit_softcapping >= 0) || !(rope_theta > 0) ||
      !(rope_local_base_freq > 0)) {
    return absl::InvalidArgumentError(
        "gemma3 config: attention_scale, embed_scale, rope_theta and "
        "rope_local_base_freq must be positive, final_logit_softcapping >= 0");
  }
  if (rope_scaling.type == RopeScaling::Type::kDynamic) {
    return absl::UnimplementedError(
        "gemma3 config: rope_scaling 'dynamic' is not supported (supported: "
        "linear, llama3)");
  }
  return absl::OkStatus();
}

std::vector<bool> Gemma3SlidingLayersFromPattern(int64_t num_layers,
                                                 int64_t pattern) {
  std::vector<bool> sliding(num_layers > 0 ? num_layers : 0, false);
  for (int64_t i = 0; i < num_layers; ++i)
    sliding[i] = pattern > 0 && (i + 1) % pattern != 0;
  return sliding;
}

namespace {

class Gemma3Builder {
 public:
  Gemma3Builder(const Gemma3Config& c, const WeightMap& w, ir::Graph* g)
      : c_(c), a_("gemma3", w, g), b_(a_.b()) {}

  absl::Status Build() {
    a_.AddTokenInputs();
    QEFF_ASSIGN_OR_RETURN(ValueId embed,
                          a_.Weight("model.embed_tokens.weight",
                                    {c_.vocab_size, c_.hidden_size}));
    ValueId tok = b_.Op("Gather", {embed, a_.input_ids()},
                        {{"axis", Attribute::Int(0)}}, "model.embed_tokens");
    ValueId h = b_.Mul(tok, b_.ScalarF32(c_.embed_scale), "model.embed_scaled");
    RopeScaling none;
    global_ = CosSin(
        RopeInverseFrequencies(c_.head_dim, c_.rope_theta, c_.rope_scaling),
        "model.rotary_emb");
    local_ = CosSin(
        RopeInverseFrequencies(c_.head_dim, c_.rope_local_base_freq, none),
        "model.rotary_emb_local");
    a_.CausalMask();
    for (int i = 0; i < c_.num_hidden_layers; ++i) {
      QEFF_ASSIGN_OR_RETURN(h, Layer(i, h));
    }
    QEFF_ASSIGN_OR_RETURN(ValueId normed, Norm(h, "model.norm", c_.hidden_size,
                                               ir::LmRoles::kFinalHidden));
    ValueId lm_head = embed;
    if (!c_.tie_word_embeddings) {
      QEFF_ASSIGN_OR_RETURN(
          lm_head,
          a_.Weight("lm_head.weight", {c_.vocab_size, c_.hidden_size}));
    }
    ValueId logits;
    if (c_.final_logit_softcapping > 0) {
      const float cap = c_.final_logit_softcapping;
      ValueId raw = a_.Linear(normed, lm_head, ir::kNoValue, "lm_head");
      ValueId t = b_.Op(
          "Tanh", {b_.Mul(raw, b_.ScalarF32(1.0f / cap), "lm_head.capped")}, {},
          "lm_head.tanh");
      logits = b_.Mul(t, b_.ScalarF32(cap), ir::LmRoles::kLogits);
    } else {
      logits = a_.Linear(normed, lm_head, ir::kNoValue, ir::LmRoles::kLogits);
    }
    b_.graph().AddOutput(logits);
    return absl::OkStatus();
  }

 private:
  struct Rotary {
    ValueId cos = ir::kNoValue, sin = ir::kNoValue;
  };

  // cos/sin [B, 1, S, D] for the given inverse frequencies.
  Rotary CosSin(const std::vector<float>& inv_freq, const std::string& p) {
    const int64_t half = c_.head_dim / 2;
    ValueId inv = b_.Const(p + ".inv_freq", Tensor::F32({half}, inv_freq));
    ValueId pos = b_.Op("Cast", {a_.position_ids()},
                        {{"to", Attribute::Int(ir::DTypeToOnnx(DType::kF32))}},
                        p + ".positions");
    ValueId freqs = b_.Mul(b_.Unsqueeze(pos, {-1}), inv, p + ".freqs");
    ValueId emb = b_.Op("Concat", {freqs, freqs},
                        {{"axis", Attribute::Int(-1)}}, p + ".emb");
    Rotary r;
    r.cos =
        b_.Unsqueeze(b_.Op("Cos", {emb}, {}, p + ".cos_s"), {1}, p + ".cos");
    r.sin =
        b_.Unsqueeze(b_.Op("Sin", {emb}, {}, p + ".sin_s"), {1}, p + ".sin");
    return r;
  }

  // Gemma RMSNorm: normalise, then multiply by (offset + weight).
  absl::StatusOr<ValueId> Norm(ValueId x, const std::string& weight_prefix,
                               int64_t n, const std::string& name) {
    QEFF_ASSIGN_OR_RETURN(ValueId w, a_.Weight(weight_prefix + ".weight", {n}));
    if (c_.norm_weight_offset != 0) {
      w = b_.Add(w, b_.ScalarF32(c_.norm_weight_offset),
                 weight_prefix + ".weight_plus_one");
    }
    return a_.RmsNorm(x, w, c_.rms_norm_eps, name);
  }

  absl::StatusOr<ValueId> Layer(int i, ValueId h) {
    const std::string p = absl::StrCat("model.layers.", i);
    const std::string a = p + ".self_attn", m = p + ".mlp";
    const int64_t hs = c_.hidden_size, d = c_.head_dim;
    const int64_t nh = c_.num_attention_heads, nkv = c_.num_key_value_heads;
    const int64_t ff = c_.intermediate_size;
    QEFF_ASSIGN_OR_RETURN(ValueId wq,
                          a_.Weight(a + ".q_proj.weight", {nh * d, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wk,
                          a_.Weight(a + ".k_proj.weight", {nkv * d, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wv,
                          a_.Weight(a + ".v_proj.weight", {nkv * d, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wo,
                          a_.Weight(a + ".o_proj.weight", {hs, nh * d}));
    QEFF_ASSIGN_OR_RETURN(ValueId wg,
                          a_.Weight(m + ".gate_proj.weight", {ff, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wu,
                          a_.Weight(m + ".up_proj.weight", {ff, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wd,
                          a_.Weight(m + ".down_proj.weight", {hs, ff}));

    QEFF_ASSIGN_OR_RETURN(
        ValueId x, Norm(h, p + ".input_layernorm", hs, p + ".input_layernorm"));
    const bool sliding = c_.LayerIsSliding(i);
    const Rotary& rope = sliding ? local_ : global_;
    auto heads = [&](ValueId w, int64_t n, const std::string& role) {
      ValueId proj = a_.Linear(x, w, ir::kNoValue, a + "." + role + "_proj");
      ValueId r = b_.Reshape(proj, {0, 0, n, d}, a + "." + role + "_heads");
      return b_.Transpose(r, {0, 2, 1, 3}, a + "." + role);
    };
    QEFF_ASSIGN_OR_RETURN(
        ValueId q, Norm(heads(wq, nh, "q"), a + ".q_norm", d, a + ".q_norm"));
    QEFF_ASSIGN_OR_RETURN(
        ValueId k, Norm(heads(wk, nkv, "k"), a + ".k_norm", d, a + ".k_norm"));
    q = a_.ApplyRotateHalfRope(q, rope.cos, rope.sin, d / 2, a + ".q_rot");
    k = a_.ApplyRotateHalfRope(k, rope.cos, rope.sin, d / 2,
                               ir::LmRoles::KeyRot(i));
    ValueId v = heads(wv, nkv, "v");
    QEFF_CHECK(b_.graph().value(v).name == ir::LmRoles::Value(i));
    ValueId mask =
        sliding ? a_.SlidingWindowMask(c_.sliding_window) : a_.CausalMask();
    ValueId merged =
        a_.Attention(q, k, v, mask, nh, nkv, d, c_.attention_scale, a);
    ValueId attn = a_.Linear(merged, wo, ir::kNoValue, a + ".o_proj");
    QEFF_ASSIGN_OR_RETURN(ValueId attn_n,
                          Norm(attn, p + ".post_attention_layernorm", hs,
                               p + ".post_attention_layernorm"));
    ValueId h1 = b_.Add(h, attn_n, p + ".attn_residual");

    QEFF_ASSIGN_OR_RETURN(ValueId y,
                          Norm(h1, p + ".pre_feedforward_layernorm", hs,
                               p + ".pre_feedforward_layernorm"));
    ValueId gate = a_.Gelu(a_.Linear(y, wg, ir::kNoValue, m + ".gate_proj"),
                           /*tanh_approx=*/true, m + ".act");
    ValueId up = a_.Linear(y, wu, ir::kNoValue, m + ".up_proj");
    ValueId down = a_.Linear(b_.Mul(gate, up, m + ".act_up"), wd, ir::kNoValue,
                             m + ".down_proj");
    QEFF_ASSIGN_OR_RETURN(ValueId down_n,
                          Norm(down, p + ".post_feedforward_layernorm", hs,
                               p + ".post_feedforward_layernorm"));
    return b_.Add(h1, down_n, p + ".mlp_residual");
  }

  const Gemma3Config& c_;
  ArchBuilder a_;
  ir::GraphBuilder& b_;
  Rotary global_, local_;
};

}  // namespace

absl::StatusOr<ir::Graph> BuildGemma3Eager(const Gemma3Config& config,
                                           const WeightMap& weights) {
  QEFF_RETURN_IF_ERROR(config.Validate());
  ir::Graph g;
  g.name = "Gemma3ForCausalLM";
  Gemma3Builder builder(config, weights, &g);
  QEFF_RETURN_IF_ERROR(builder.Build());
  return g;
}

}  // namespace qeff::models
