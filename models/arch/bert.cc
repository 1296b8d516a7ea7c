#include "models/arch/bert.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::models {

using ir::Attribute;
using ir::ValueId;

absl::Status BertConfig::Validate() const {
  auto positive = [](const char* name, int64_t v) -> absl::Status {
    if (v <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat("bert config: ", name, " must be positive, got ", v));
    return absl::OkStatus();
  };
  QEFF_RETURN_IF_ERROR(positive("vocab_size", vocab_size));
  QEFF_RETURN_IF_ERROR(positive("hidden_size", hidden_size));
  QEFF_RETURN_IF_ERROR(positive("num_hidden_layers", num_hidden_layers));
  QEFF_RETURN_IF_ERROR(positive("num_attention_heads", num_attention_heads));
  QEFF_RETURN_IF_ERROR(positive("intermediate_size", intermediate_size));
  QEFF_RETURN_IF_ERROR(
      positive("max_position_embeddings", max_position_embeddings));
  QEFF_RETURN_IF_ERROR(positive("type_vocab_size", type_vocab_size));
  if (hidden_size % num_attention_heads != 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "bert config: hidden_size ", hidden_size,
        " is not a multiple of num_attention_heads ", num_attention_heads));
  if (hidden_act != "gelu" && hidden_act != "gelu_new" &&
      hidden_act != "gelu_pytorch_tanh")
    return absl::UnimplementedError(
        absl::StrCat("bert config: hidden_act '", hidden_act,
                     "' is not supported (supported: gelu, gelu_new, "
                     "gelu_pytorch_tanh)"));
  return absl::OkStatus();
}

namespace {

class BertBuilder {
 public:
  BertBuilder(const BertConfig& c, const WeightMap& w, ir::Graph* g)
      : c_(c), a_("bert", w, g), b_(a_.b()) {}

  absl::Status Build() {
    const int64_t h = c_.hidden_size;
    a_.AddEncoderInputs();
    QEFF_ASSIGN_OR_RETURN(
        ValueId wte,
        a_.Weight("embeddings.word_embeddings.weight", {c_.vocab_size, h}));
    QEFF_ASSIGN_OR_RETURN(ValueId wpe,
                          a_.Weight("embeddings.position_embeddings.weight",
                                    {c_.max_position_embeddings, h}));
    QEFF_ASSIGN_OR_RETURN(ValueId wtt,
                          a_.Weight("embeddings.token_type_embeddings.weight",
                                    {c_.type_vocab_size, h}));
    ValueId tok = b_.Op("Gather", {wte, a_.input_ids()},
                        {{"axis", Attribute::Int(0)}}, "model.embed_tokens");
    ValueId pos = a_.FirstRows(wpe, "model.embed_positions");
    ValueId type0 = b_.Op("Gather", {wtt, b_.ScalarI64(0)},
                          {{"axis", Attribute::Int(0)}}, "model.token_type_0");
    ValueId x = b_.Add(b_.Add(tok, pos, "model.embed_tok_pos"), type0,
                       "model.embeddings");
    QEFF_ASSIGN_OR_RETURN(
        x, a_.LayerNorm(x, "embeddings.LayerNorm", h, c_.layer_norm_eps,
                        "model.embeddings_norm"));
    for (int i = 0; i < c_.num_hidden_layers; ++i) {
      QEFF_ASSIGN_OR_RETURN(x, Layer(i, x));
    }
    b_.graph().AddOutput(b_.Op("Identity", {x}, {}, kLastHiddenState));
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<ValueId> Dense(ValueId x, const std::string& w, int64_t out,
                                int64_t in, const std::string& name) {
    QEFF_ASSIGN_OR_RETURN(ValueId wt, a_.Weight(w + ".weight", {out, in}));
    QEFF_ASSIGN_OR_RETURN(ValueId bias, a_.Weight(w + ".bias", {out}));
    return a_.Linear(x, wt, bias, name);
  }

  absl::StatusOr<ValueId> Layer(int i, ValueId x) {
    const int64_t h = c_.hidden_size, nh = c_.num_attention_heads,
                  d = c_.HeadDim(), ff = c_.intermediate_size;
    const std::string w = absl::StrCat("encoder.layer.", i);
    const std::string p = absl::StrCat("model.layers.", i);
    const std::string a = p + ".self_attn";
    auto heads = [&](ValueId t, const std::string& name) {
      ValueId r = b_.Reshape(t, {0, 0, nh, d}, name + "_heads");
      return b_.Transpose(r, {0, 2, 1, 3}, name);
    };
    QEFF_ASSIGN_OR_RETURN(
        ValueId q, Dense(x, w + ".attention.self.query", h, h, a + ".q_proj"));
    QEFF_ASSIGN_OR_RETURN(
        ValueId k, Dense(x, w + ".attention.self.key", h, h, a + ".k_proj"));
    QEFF_ASSIGN_OR_RETURN(
        ValueId v, Dense(x, w + ".attention.self.value", h, h, a + ".v_proj"));
    const float scale =
        static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
    ValueId ctx =
        a_.Attention(heads(q, a + ".q"), heads(k, a + ".k"), heads(v, a + ".v"),
                     a_.PaddingMask(), nh, nh, d, scale, a);
    QEFF_ASSIGN_OR_RETURN(ValueId o, Dense(ctx, w + ".attention.output.dense",
                                           h, h, a + ".o_proj"));
    QEFF_ASSIGN_OR_RETURN(ValueId x1,
                          a_.LayerNorm(b_.Add(o, x, p + ".attn_residual"),
                                       w + ".attention.output.LayerNorm", h,
                                       c_.layer_norm_eps, p + ".attn_norm"));
    QEFF_ASSIGN_OR_RETURN(ValueId up, Dense(x1, w + ".intermediate.dense", ff,
                                            h, p + ".mlp.up_proj"));
    ValueId act = a_.Gelu(up, c_.hidden_act != "gelu", p + ".mlp.act");
    QEFF_ASSIGN_OR_RETURN(
        ValueId down, Dense(act, w + ".output.dense", h, ff, p + ".mlp.down"));
    return a_.LayerNorm(b_.Add(down, x1, p + ".mlp_residual"),
                        w + ".output.LayerNorm", h, c_.layer_norm_eps,
                        p + ".out_norm");
  }

  const BertConfig& c_;
  ArchBuilder a_;
  ir::GraphBuilder& b_;
};

}  // namespace

absl::StatusOr<ir::Graph> BuildBertEager(const BertConfig& config,
                                         const WeightMap& weights) {
  QEFF_RETURN_IF_ERROR(config.Validate());
  ir::Graph g;
  g.name = "BertModel";
  BertBuilder builder(config, weights, &g);
  QEFF_RETURN_IF_ERROR(builder.Build());
  return g;
}

}  // namespace qeff::models
