#include "models/arch/llama4.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/builder.h"
#include "ir/lm_roles.h"
#include "ir/shape.h"
#include "models/arch/moe.h"
#include "models/rope_layout.h"

namespace qeff::models {

using ir::Attribute;
using ir::DType;
using ir::Tensor;
using ir::ValueId;

absl::Status Llama4Config::Validate() const {
  QEFF_RETURN_IF_ERROR(
      CheckDecoderConfig("llama4",
                         {{"vocab_size", vocab_size},
                          {"hidden_size", hidden_size},
                          {"intermediate_size", intermediate_size},
                          {"intermediate_size_mlp", intermediate_size_mlp},
                          {"num_hidden_layers", num_hidden_layers},
                          {"num_attention_heads", num_attention_heads},
                          {"num_key_value_heads", num_key_value_heads},
                          {"head_dim", head_dim}},
                         num_attention_heads, num_key_value_heads, head_dim));
  const size_t n = static_cast<size_t>(num_hidden_layers);
  if (rope_layers.size() != n || chunked_layers.size() != n ||
      moe_layers.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama4 config: per-layer lists (no_rope_layers ", rope_layers.size(),
        ", layer_types ", chunked_layers.size(), ", moe_layers ",
        moe_layers.size(), ") must have ", num_hidden_layers, " entries"));
  }
  if (attention_chunk_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("llama4 config: attention_chunk_size must be >= 0, got ",
                     attention_chunk_size));
  }
  if (attn_temperature_tuning && floor_scale <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama4 config: floor_scale must be positive, got ", floor_scale));
  }
  bool any_moe = false;
  for (bool m : moe_layers) any_moe |= m;
  if (any_moe && (num_local_experts <= 0 || num_experts_per_tok <= 0 ||
                  num_experts_per_tok > num_local_experts)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama4 config: num_experts_per_tok ", num_experts_per_tok,
        " must be in [1, num_local_experts ", num_local_experts, "]"));
  }
  if (!rope_freq_factors.empty() &&
      static_cast<int64_t>(rope_freq_factors.size()) != head_dim / 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("llama4 config: ", rope_freq_factors.size(),
                     " rope frequency factors for head_dim ", head_dim));
  }
  if (!(rope_theta > 0) || !(attention_scale >= 0) || !(rms_norm_eps >= 0)) {
    return absl::InvalidArgumentError(
        "llama4 config: rope_theta must be positive, attention_scale and "
        "rms_norm_eps >= 0");
  }
  if (rope_scaling.type == RopeScaling::Type::kDynamic ||
      rope_scaling.type == RopeScaling::Type::kLongRope) {
    return absl::UnimplementedError(
        "llama4 config: rope_scaling 'dynamic' / 'longrope' is not supported "
        "(supported: linear, llama3)");
  }
  return absl::OkStatus();
}

std::vector<bool> Llama4RopeLayersFromInterval(int64_t num_layers,
                                               int64_t interval) {
  std::vector<bool> r(num_layers > 0 ? num_layers : 0, true);
  for (int64_t i = 0; i < num_layers; ++i)
    r[i] = interval <= 0 || (i + 1) % interval != 0;
  return r;
}

std::vector<bool> Llama4MoELayersFromStep(int64_t num_layers, int64_t step) {
  std::vector<bool> r(num_layers > 0 ? num_layers : 0, false);
  for (int64_t i = 0; i < num_layers; ++i)
    r[i] = step > 0 && (i + 1) % step == 0;
  return r;
}

namespace {

// Copies columns [c0, c0 + n) of the [rows, cols] matrix at `src` into
// `dst` transposed ([n, rows]); T is the element's storage (2 or 4 bytes),
// 64 x 64 tiles keep both sides in cache.
template <typename T>
void TransposeColumns(const T* src, int64_t rows, int64_t cols, int64_t c0,
                      int64_t n, T* dst) {
  constexpr int64_t kTile = 64;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t j0 = 0; j0 < n; j0 += kTile)
      for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r)
        for (int64_t j = j0; j < std::min(n, j0 + kTile); ++j)
          dst[j * rows + r] = src[r * cols + c0 + j];
}

void TransposeColumns(const uint8_t* src, int64_t rows, int64_t cols,
                      int64_t c0, int64_t n, size_t es, uint8_t* dst) {
  if (es == 2) {
    TransposeColumns(reinterpret_cast<const uint16_t*>(src), rows, cols, c0, n,
                     reinterpret_cast<uint16_t*>(dst));
  } else {
    TransposeColumns(reinterpret_cast<const uint32_t*>(src), rows, cols, c0, n,
                     reinterpret_cast<uint32_t*>(dst));
  }
}

class Llama4Builder {
 public:
  Llama4Builder(const Llama4Config& c, const WeightMap& w, ir::Graph* g)
      : c_(c),
        w_(w),
        a_("llama4", w, g),
        p_("llama4", prepared_, g),
        b_(a_.b()) {}

  absl::Status Build() {
    QEFF_RETURN_IF_ERROR(Prepare());
    a_.AddTokenInputs();
    QEFF_ASSIGN_OR_RETURN(ValueId embed,
                          a_.Weight("model.embed_tokens.weight",
                                    {c_.vocab_size, c_.hidden_size}));
    ValueId h = b_.Op("Gather", {embed, a_.input_ids()},
                      {{"axis", Attribute::Int(0)}}, "model.embed_tokens");
    RotaryTables();
    a_.CausalMask();
    for (int i = 0; i < c_.num_hidden_layers; ++i) {
      QEFF_ASSIGN_OR_RETURN(h, Layer(i, h));
    }
    QEFF_ASSIGN_OR_RETURN(ValueId norm_w,
                          a_.Weight("model.norm.weight", {c_.hidden_size}));
    ValueId normed =
        a_.RmsNorm(h, norm_w, c_.rms_norm_eps, ir::LmRoles::kFinalHidden);
    ValueId lm_head = embed;
    if (!c_.tie_word_embeddings || a_.Has("lm_head.weight")) {
      QEFF_ASSIGN_OR_RETURN(
          lm_head,
          a_.Weight("lm_head.weight", {c_.vocab_size, c_.hidden_size}));
    }
    b_.graph().AddOutput(
        a_.Linear(normed, lm_head, ir::kNoValue, ir::LmRoles::kLogits));
    return absl::OkStatus();
  }

 private:
  // q/k rows to the rotate-half layout; fused HF expert tensors split into
  // [E, out, in] stacks. Everything the MoE block reads goes to prepared_.
  absl::Status Prepare() {
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      const std::string a = absl::StrCat("model.layers.", i, ".self_attn.");
      for (const auto& [role, heads] :
           {std::pair{"q_proj", c_.num_attention_heads},
            std::pair{"k_proj", c_.num_key_value_heads}}) {
        const std::string n = a + role + ".weight";
        auto it = w_.find(n);
        if (it == w_.end())
          return absl::NotFoundError(
              absl::StrCat("llama4 weights: '", n, "' is missing"));
        auto un = UnpermuteQK(it->second, static_cast<int>(heads));
        if (!un.ok())
          return absl::InvalidArgumentError(absl::StrCat(
              "llama4 weights: '", n, "': ", un.status().message()));
        prepared_[n] = *std::move(un);
      }
      if (!c_.LayerIsMoE(i)) continue;
      const std::string f = absl::StrCat("model.layers.", i, ".feed_forward.");
      const std::string router = f + "router.weight";
      if (auto it = w_.find(router); it != w_.end())
        prepared_[router] = it->second;
      const std::string fused = f + "experts.gate_up_proj";
      if (!w_.contains(fused)) {
        for (const char* r : {"gate_proj", "up_proj", "down_proj"}) {
          const std::string n = absl::StrCat(f, "experts.", r, ".weight");
          if (auto it = w_.find(n); it != w_.end()) prepared_[n] = it->second;
        }
        continue;
      }
      QEFF_RETURN_IF_ERROR(SplitFusedExperts(f));
    }
    return absl::OkStatus();
  }

  absl::Status SplitFusedExperts(const std::string& f) {
    const int64_t e = c_.num_local_experts, h = c_.hidden_size,
                  ff = c_.intermediate_size;
    const std::string gu_name = f + "experts.gate_up_proj",
                      dn_name = f + "experts.down_proj";
    auto check =
        [&](const std::string& n,
            std::vector<int64_t> dims) -> absl::StatusOr<const Tensor*> {
      auto it = w_.find(n);
      if (it == w_.end())
        return absl::NotFoundError(
            absl::StrCat("llama4 weights: '", n, "' is missing"));
      const Tensor& t = it->second;
      if (t.dims() != dims)
        return absl::InvalidArgumentError(
            absl::StrCat("llama4 weights: '", n, "' has shape ",
                         ir::Shape::Of(t.dims()).ToString(), ", expected ",
                         ir::Shape::Of(dims).ToString()));
      if (t.is_quantized() ||
          (t.dtype() != DType::kF32 && t.dtype() != DType::kF16 &&
           t.dtype() != DType::kBF16))
        return absl::InvalidArgumentError(
            absl::StrCat("llama4 weights: '", n, "' has type ", t.TypeString(),
                         "; expected f32, f16 or bf16"));
      return &t;
    };
    QEFF_ASSIGN_OR_RETURN(const Tensor* gu, check(gu_name, {e, h, 2 * ff}));
    QEFF_ASSIGN_OR_RETURN(const Tensor* dn, check(dn_name, {e, ff, h}));
    const size_t es = ir::DTypeSize(gu->dtype());
    Tensor gate = Tensor::Zeros(gu->dtype(), {e, ff, h});
    Tensor up = Tensor::Zeros(gu->dtype(), {e, ff, h});
    Tensor down = Tensor::Zeros(dn->dtype(), {e, h, ff});
    const size_t ds = ir::DTypeSize(dn->dtype());
    for (int64_t x = 0; x < e; ++x) {
      const uint8_t* src = gu->raw() + x * h * 2 * ff * es;
      TransposeColumns(src, h, 2 * ff, 0, ff, es,
                       gate.mutable_raw() + x * ff * h * es);
      TransposeColumns(src, h, 2 * ff, ff, ff, es,
                       up.mutable_raw() + x * ff * h * es);
      TransposeColumns(dn->raw() + x * ff * h * ds, ff, h, 0, h, ds,
                       down.mutable_raw() + x * h * ff * ds);
    }
    prepared_[f + "experts.gate_proj.weight"] = std::move(gate);
    prepared_[f + "experts.up_proj.weight"] = std::move(up);
    prepared_[f + "experts.down_proj.weight"] = std::move(down);
    return absl::OkStatus();
  }

  // cos/sin [B, 1, S, D] of the RoPE layers; the NoPE layers' temperature
  // [B, 1, S, 1].
  void RotaryTables() {
    const int64_t half = c_.head_dim / 2;
    std::vector<float> inv =
        RopeInverseFrequencies(c_.head_dim, c_.rope_theta, c_.rope_scaling);
    for (size_t i = 0; i < c_.rope_freq_factors.size(); ++i)
      inv[i] /= c_.rope_freq_factors[i];
    const std::string p = "model.rotary_emb";
    ValueId iv = b_.Const(p + ".inv_freq", Tensor::F32({half}, inv));
    ValueId pos = b_.Op("Cast", {a_.position_ids()},
                        {{"to", Attribute::Int(ir::DTypeToOnnx(DType::kF32))}},
                        p + ".positions");
    ValueId freqs = b_.Mul(b_.Unsqueeze(pos, {-1}), iv, p + ".freqs");
    ValueId emb = b_.Op("Concat", {freqs, freqs},
                        {{"axis", Attribute::Int(-1)}}, p + ".emb");
    cos_ = b_.Unsqueeze(b_.Op("Cos", {emb}, {}, p + ".cos_s"), {1}, p + ".cos");
    sin_ = b_.Unsqueeze(b_.Op("Sin", {emb}, {}, p + ".sin_s"), {1}, p + ".sin");
    bool any_nope = false;
    for (bool r : c_.rope_layers) any_nope |= !r;
    if (c_.attn_temperature_tuning && any_nope) {
      // log(floor((p + 1) / floor_scale) + 1) * attn_scale + 1; p >= 0, so
      // the floor is the int64 Div.
      const std::string t = "model.attn_temperature";
      ValueId next = b_.Add(a_.position_ids(), b_.ScalarI64(1), t + ".next");
      ValueId fl =
          b_.Op("Div", {next, b_.ScalarI64(c_.floor_scale)}, {}, t + ".floor");
      ValueId ff = b_.Op("Cast", {fl},
                         {{"to", Attribute::Int(ir::DTypeToOnnx(DType::kF32))}},
                         t + ".floor_f32");
      ValueId lg = b_.Op("Log", {b_.Add(ff, b_.ScalarF32(1.0f), t + ".plus1")},
                         {}, t + ".log");
      ValueId sc = b_.Add(b_.Mul(lg, b_.ScalarF32(c_.attn_scale), t + ".mul"),
                          b_.ScalarF32(1.0f), t + ".scale");
      temperature_ = b_.Unsqueeze(sc, {1, 3}, t);
    }
  }

  ValueId SwiGlu(ValueId x, ValueId wg, ValueId wu, ValueId wd,
                 const std::string& m) {
    ValueId gate = a_.Linear(x, wg, ir::kNoValue, m + ".gate_proj");
    ValueId silu = b_.Mul(
        gate, b_.Op("Sigmoid", {gate}, {}, m + ".gate_sigmoid"), m + ".act");
    ValueId up = a_.Linear(x, wu, ir::kNoValue, m + ".up_proj");
    return a_.Linear(b_.Mul(silu, up, m + ".act_up"), wd, ir::kNoValue,
                     m + ".down_proj");
  }

  absl::StatusOr<ValueId> Mlp(ValueId x, const std::string& m, int64_t ff) {
    const int64_t hs = c_.hidden_size;
    QEFF_ASSIGN_OR_RETURN(ValueId wg,
                          a_.Weight(m + ".gate_proj.weight", {ff, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wu,
                          a_.Weight(m + ".up_proj.weight", {ff, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wd,
                          a_.Weight(m + ".down_proj.weight", {hs, ff}));
    return SwiGlu(x, wg, wu, wd, m);
  }

  // Llama4TextL2Norm: x / sqrt(mean(x^2) + eps), no weight.
  ValueId L2Norm(ValueId x, const std::string& name) {
    if (ones_ == ir::kNoValue) {
      ones_ = b_.Const(
          "model.qk_norm_ones",
          Tensor::F32({c_.head_dim}, std::vector<float>(c_.head_dim, 1.0f)));
    }
    return a_.RmsNorm(x, ones_, c_.rms_norm_eps, name);
  }

  absl::StatusOr<ValueId> Layer(int i, ValueId h) {
    const std::string p = absl::StrCat("model.layers.", i);
    const std::string a = p + ".self_attn", f = p + ".feed_forward";
    const int64_t hs = c_.hidden_size, d = c_.head_dim;
    const int64_t nh = c_.num_attention_heads, nkv = c_.num_key_value_heads;
    QEFF_ASSIGN_OR_RETURN(ValueId wq,
                          p_.Weight(a + ".q_proj.weight", {nh * d, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wk,
                          p_.Weight(a + ".k_proj.weight", {nkv * d, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wv,
                          a_.Weight(a + ".v_proj.weight", {nkv * d, hs}));
    QEFF_ASSIGN_OR_RETURN(ValueId wo,
                          a_.Weight(a + ".o_proj.weight", {hs, nh * d}));
    for (const char* bias : {"q_proj", "k_proj", "v_proj", "o_proj"}) {
      if (a_.Has(absl::StrCat(a, ".", bias, ".bias")))
        return absl::UnimplementedError(absl::StrCat(
            "llama4 weights: '", a, ".", bias,
            ".bias': attention biases (attention_bias) are not supported"));
    }
    QEFF_ASSIGN_OR_RETURN(ValueId in_w,
                          a_.Weight(p + ".input_layernorm.weight", {hs}));
    ValueId x = a_.RmsNorm(h, in_w, c_.rms_norm_eps, p + ".input_layernorm");
    auto heads = [&](ValueId w, int64_t n, const std::string& role,
                     const std::string& name) {
      ValueId proj = a_.Linear(x, w, ir::kNoValue, a + "." + role + "_proj");
      ValueId r = b_.Reshape(proj, {0, 0, n, d}, a + "." + role + "_heads");
      return b_.Transpose(r, {0, 2, 1, 3}, name);
    };
    const std::string k_name = ir::LmRoles::KeyRot(i);
    ValueId q, k;
    if (c_.LayerUsesRope(i)) {
      const bool norm = c_.use_qk_norm;
      q = heads(wq, nh, "q", a + ".q");
      k = heads(wk, nkv, "k", a + ".k");
      q = a_.ApplyRotateHalfRope(q, cos_, sin_, d / 2, a + ".q_rot");
      k = a_.ApplyRotateHalfRope(k, cos_, sin_, d / 2,
                                 norm ? a + ".k_rope" : k_name);
      if (norm) {
        q = L2Norm(q, a + ".q_norm");
        k = L2Norm(k, k_name);
      }
    } else {
      q = heads(wq, nh, "q", a + ".q");
      k = heads(wk, nkv, "k", k_name);
      if (temperature_ != ir::kNoValue)
        q = b_.Mul(q, temperature_, a + ".q_tempered");
    }
    ValueId v = heads(wv, nkv, "v", a + ".v");
    QEFF_CHECK(b_.graph().value(v).name == ir::LmRoles::Value(i));
    ValueId mask = c_.LayerIsChunked(i)
                       ? a_.ChunkedMask(c_.attention_chunk_size)
                       : a_.CausalMask();
    const float scale = c_.attention_scale > 0
                            ? c_.attention_scale
                            : 1.0f / std::sqrt(static_cast<float>(d));
    ValueId merged = a_.Attention(q, k, v, mask, nh, nkv, d, scale, a);
    ValueId attn = a_.Linear(merged, wo, ir::kNoValue, a + ".o_proj");
    ValueId h1 = b_.Add(h, attn, p + ".attn_residual");

    QEFF_ASSIGN_OR_RETURN(
        ValueId post_w,
        a_.Weight(p + ".post_attention_layernorm.weight", {hs}));
    ValueId y = a_.RmsNorm(h1, post_w, c_.rms_norm_eps,
                           p + ".post_attention_layernorm");
    ValueId out;
    if (c_.LayerIsMoE(i)) {
      MoEBlockSpec s;
      s.prefix = f;
      s.router = "router";
      s.gate = "gate_proj";
      s.up = "up_proj";
      s.down = "down_proj";
      s.num_experts = c_.num_local_experts;
      s.top_k = c_.num_experts_per_tok;
      s.hidden = hs;
      s.ffn = c_.intermediate_size;
      s.scoring = 1;  // sigmoid
      s.norm_topk_prob = false;
      s.score_on_input = true;
      QEFF_ASSIGN_OR_RETURN(ValueId routed, BuildMoEBlock(p_, prepared_, s, y));
      QEFF_ASSIGN_OR_RETURN(ValueId shared,
                            Mlp(y, f + ".shared_expert", c_.intermediate_size));
      out = b_.Add(routed, shared, f + ".moe_out");
    } else {
      QEFF_ASSIGN_OR_RETURN(out, Mlp(y, f, c_.intermediate_size_mlp));
    }
    return b_.Add(h1, out, p + ".mlp_residual");
  }

  const Llama4Config& c_;
  const WeightMap& w_;
  WeightMap prepared_;  // declared before p_, which holds a reference
  ArchBuilder a_, p_;
  ir::GraphBuilder& b_;
  ValueId cos_ = ir::kNoValue, sin_ = ir::kNoValue;
  ValueId temperature_ = ir::kNoValue, ones_ = ir::kNoValue;
};

}  // namespace

absl::StatusOr<ir::Graph> BuildLlama4Eager(const Llama4Config& config,
                                           const WeightMap& weights) {
  QEFF_RETURN_IF_ERROR(config.Validate());
  ir::Graph g;
  g.name = "Llama4ForCausalLM";
  Llama4Builder builder(config, weights, &g);
  QEFF_RETURN_IF_ERROR(builder.Build());
  return g;
}

}  // namespace qeff::models
