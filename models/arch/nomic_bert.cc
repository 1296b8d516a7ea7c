#include "models/arch/nomic_bert.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/arch/bert.h"

namespace qeff::models {

using ir::Attribute;
using ir::ValueId;

absl::Status NomicBertConfig::Validate() const {
  auto positive = [](const char* name, int64_t v) -> absl::Status {
    if (v <= 0)
      return absl::InvalidArgumentError(absl::StrCat(
          "nomic-bert config: ", name, " must be positive, got ", v));
    return absl::OkStatus();
  };
  QEFF_RETURN_IF_ERROR(positive("vocab_size", vocab_size));
  QEFF_RETURN_IF_ERROR(positive("n_embd", hidden_size));
  QEFF_RETURN_IF_ERROR(positive("n_layer", num_hidden_layers));
  QEFF_RETURN_IF_ERROR(positive("n_head", num_attention_heads));
  QEFF_RETURN_IF_ERROR(positive("n_inner", intermediate_size));
  QEFF_RETURN_IF_ERROR(positive("n_positions", max_position_embeddings));
  QEFF_RETURN_IF_ERROR(positive("type_vocab_size", type_vocab_size));
  if (hidden_size % num_attention_heads != 0 || HeadDim() % 2 != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("nomic-bert config: n_embd ", hidden_size, " / n_head ",
                     num_attention_heads, " must be an even head dim"));
  if (!(rope_theta > 0))
    return absl::InvalidArgumentError(absl::StrCat(
        "nomic-bert config: rotary_emb_base must be positive, got ",
        rope_theta));
  return absl::OkStatus();
}

namespace {

class NomicBertBuilder {
 public:
  NomicBertBuilder(const NomicBertConfig& c, const WeightMap& w, ir::Graph* g)
      : c_(c), a_("nomic-bert", w, g), b_(a_.b()) {}

  absl::Status Build() {
    const int64_t h = c_.hidden_size;
    a_.AddEncoderInputs();
    QEFF_ASSIGN_OR_RETURN(
        ValueId wte,
        a_.Weight("embeddings.word_embeddings.weight", {c_.vocab_size, h}));
    QEFF_ASSIGN_OR_RETURN(ValueId wtt,
                          a_.Weight("embeddings.token_type_embeddings.weight",
                                    {c_.type_vocab_size, h}));
    ValueId tok = b_.Op("Gather", {wte, a_.input_ids()},
                        {{"axis", Attribute::Int(0)}}, "model.embed_tokens");
    ValueId type0 = b_.Op("Gather", {wtt, b_.ScalarI64(0)},
                          {{"axis", Attribute::Int(0)}}, "model.token_type_0");
    ValueId x = b_.Add(tok, type0, "model.embeddings");
    QEFF_ASSIGN_OR_RETURN(x, a_.LayerNorm(x, "emb_ln", h, c_.layer_norm_eps,
                                          "model.embeddings_norm"));
    BuildRope();
    for (int i = 0; i < c_.num_hidden_layers; ++i) {
      QEFF_ASSIGN_OR_RETURN(x, Layer(i, x));
    }
    b_.graph().AddOutput(b_.Op("Identity", {x}, {}, kLastHiddenState));
    return absl::OkStatus();
  }

 private:
  // cos/sin [S, D] for positions 0..S-1 (HF: inv_freq = base^(-2i/D) in
  // f32, freqs = t * inv_freq, emb = cat(freqs, freqs)).
  void BuildRope() {
    const int64_t d = c_.HeadDim();
    std::vector<float> inv(d / 2), pos(c_.max_position_embeddings);
    for (int64_t i = 0; i < d / 2; ++i)
      inv[i] = 1.0f / std::pow(c_.rope_theta, static_cast<float>(2 * i) /
                                                  static_cast<float>(d));
    for (int64_t p = 0; p < c_.max_position_embeddings; ++p)
      pos[p] = static_cast<float>(p);
    ValueId table =
        b_.Const("model.rotary_emb.positions_table",
                 ir::Tensor::F32({c_.max_position_embeddings, 1}, pos));
    ValueId t = a_.FirstRows(table, "model.rotary_emb.positions");
    ValueId freqs = b_.Mul(
        t, b_.Const("model.rotary_emb.inv_freq", ir::Tensor::F32({d / 2}, inv)),
        "model.rotary_emb.freqs");
    ValueId emb = b_.Op("Concat", {freqs, freqs},
                        {{"axis", Attribute::Int(-1)}}, "model.rotary_emb.emb");
    cos_ = b_.Op("Cos", {emb}, {}, "model.rotary_emb.cos");
    sin_ = b_.Op("Sin", {emb}, {}, "model.rotary_emb.sin");
  }

  absl::StatusOr<ValueId> Proj(ValueId x, const std::string& w, int64_t out,
                               int64_t in, const std::string& name) {
    QEFF_ASSIGN_OR_RETURN(ValueId wt, a_.Weight(w + ".weight", {out, in}));
    return a_.Linear(x, wt, ir::kNoValue, name);
  }

  absl::StatusOr<ValueId> Layer(int i, ValueId x) {
    const int64_t h = c_.hidden_size, nh = c_.num_attention_heads,
                  d = c_.HeadDim(), ff = c_.intermediate_size;
    const std::string w = absl::StrCat("encoder.layers.", i);
    const std::string p = absl::StrCat("model.layers.", i);
    const std::string a = p + ".self_attn";
    QEFF_ASSIGN_OR_RETURN(ValueId qkv,
                          Proj(x, w + ".attn.Wqkv", 3 * h, h, a + ".qkv"));
    std::vector<ValueId> parts =
        b_.OpN("Split", {qkv, b_.ConstI64({h, h, h})}, 3,
               {{"axis", Attribute::Int(-1)}}, a + ".qkv_split");
    auto heads = [&](ValueId t, const std::string& name) {
      ValueId r = b_.Reshape(t, {0, 0, nh, d}, name + "_heads");
      return b_.Transpose(r, {0, 2, 1, 3}, name);
    };
    ValueId q = a_.ApplyRotateHalfRope(heads(parts[0], a + ".q"), cos_, sin_,
                                       d / 2, a + ".q_rot");
    ValueId k = a_.ApplyRotateHalfRope(heads(parts[1], a + ".k"), cos_, sin_,
                                       d / 2, a + ".k_rot");
    const float scale =
        static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
    ValueId ctx = a_.Attention(q, k, heads(parts[2], a + ".v"),
                               a_.PaddingMask(), nh, nh, d, scale, a);
    QEFF_ASSIGN_OR_RETURN(ValueId o,
                          Proj(ctx, w + ".attn.out_proj", h, h, a + ".o_proj"));
    QEFF_ASSIGN_OR_RETURN(
        ValueId x1,
        a_.LayerNorm(b_.Add(o, x, p + ".attn_residual"), w + ".norm1", h,
                     c_.layer_norm_eps, p + ".attn_norm"));
    QEFF_ASSIGN_OR_RETURN(ValueId up,
                          Proj(x1, w + ".mlp.fc11", ff, h, p + ".mlp.up_proj"));
    QEFF_ASSIGN_OR_RETURN(
        ValueId gate, Proj(x1, w + ".mlp.fc12", ff, h, p + ".mlp.gate_proj"));
    ValueId silu =
        b_.Mul(gate, b_.Op("Sigmoid", {gate}, {}, p + ".mlp.gate_sigmoid"),
               p + ".mlp.gate_silu");
    ValueId act = b_.Mul(silu, up, p + ".mlp.act");
    QEFF_ASSIGN_OR_RETURN(ValueId down,
                          Proj(act, w + ".mlp.fc2", h, ff, p + ".mlp.down"));
    return a_.LayerNorm(b_.Add(down, x1, p + ".mlp_residual"), w + ".norm2", h,
                        c_.layer_norm_eps, p + ".out_norm");
  }

  const NomicBertConfig& c_;
  ArchBuilder a_;
  ir::GraphBuilder& b_;
  ValueId cos_ = ir::kNoValue, sin_ = ir::kNoValue;
};

}  // namespace

absl::StatusOr<ir::Graph> BuildNomicBertEager(const NomicBertConfig& config,
                                              const WeightMap& weights) {
  QEFF_RETURN_IF_ERROR(config.Validate());
  ir::Graph g;
  g.name = "NomicBertModel";
  NomicBertBuilder builder(config, weights, &g);
  QEFF_RETURN_IF_ERROR(builder.Build());
  return g;
}

}  // namespace qeff::models
