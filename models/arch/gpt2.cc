#include "models/arch/gpt2.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::models {

using ir::Attribute;
using ir::ValueId;

absl::Status Gpt2Config::Validate() const {
  auto positive = [](const char* name, int64_t v) -> absl::Status {
    if (v <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat("gpt2 config: ", name, " must be positive, got ", v));
    return absl::OkStatus();
  };
  QEFF_RETURN_IF_ERROR(positive("vocab_size", vocab_size));
  QEFF_RETURN_IF_ERROR(positive("n_positions", n_positions));
  QEFF_RETURN_IF_ERROR(positive("n_embd", n_embd));
  QEFF_RETURN_IF_ERROR(positive("n_layer", n_layer));
  QEFF_RETURN_IF_ERROR(positive("n_head", n_head));
  if (n_embd % n_head != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("gpt2 config: n_embd ", n_embd,
                     " is not a multiple of n_head ", n_head));
  }
  if (activation_function != "gelu_new" &&
      activation_function != "gelu_pytorch_tanh" &&
      activation_function != "gelu") {
    return absl::UnimplementedError(absl::StrCat(
        "gpt2 config: activation_function '", activation_function,
        "' is not supported (supported: gelu_new, gelu_pytorch_tanh, gelu)"));
  }
  return absl::OkStatus();
}

namespace {

class Gpt2Builder {
 public:
  Gpt2Builder(const Gpt2Config& c, const WeightMap& w, ir::Graph* g)
      : c_(c), a_("gpt2", w, g), b_(a_.b()) {}

  absl::Status Build() {
    const int64_t h = c_.n_embd;
    a_.AddTokenInputs();
    QEFF_ASSIGN_OR_RETURN(ValueId wte,
                          a_.Weight("wte.weight", {c_.vocab_size, h}));
    QEFF_ASSIGN_OR_RETURN(ValueId wpe,
                          a_.Weight("wpe.weight", {c_.n_positions, h}));
    ValueId tok = b_.Op("Gather", {wte, a_.input_ids()},
                        {{"axis", Attribute::Int(0)}}, "model.embed_tokens");
    ValueId pos = b_.Op("Gather", {wpe, a_.position_ids()},
                        {{"axis", Attribute::Int(0)}}, "model.embed_positions");
    ValueId x = b_.Add(tok, pos, "model.embeddings");
    a_.CausalMask();
    for (int i = 0; i < c_.n_layer; ++i) {
      QEFF_ASSIGN_OR_RETURN(x, Block(i, x));
    }
    QEFF_ASSIGN_OR_RETURN(ValueId normed,
                          LayerNorm(x, "ln_f", ir::LmRoles::kFinalHidden));
    // GPT2LMHeadModel ties lm_head to wte; a GGUF may carry its own
    // `output.weight` (loaded as lm_head.weight).
    ValueId head = wte;
    if (a_.Has("lm_head.weight")) {
      QEFF_ASSIGN_OR_RETURN(head,
                            a_.Weight("lm_head.weight", {c_.vocab_size, h}));
    }
    ValueId logits =
        a_.Linear(normed, head, ir::kNoValue, ir::LmRoles::kLogits);
    b_.graph().AddOutput(logits);
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<ValueId> LayerNorm(ValueId x, const std::string& weights,
                                    const std::string& name) {
    return a_.LayerNorm(x, weights, c_.n_embd, c_.layer_norm_epsilon, name);
  }

  ValueId Gelu(ValueId x, const std::string& name) {
    return a_.Gelu(x, c_.activation_function != "gelu", name);
  }

  // A projection weight: HF Conv1D [in, out], or with linear_weights
  // (GGUF) a Linear [out, in].
  absl::StatusOr<ValueId> Proj(const std::string& name, int64_t in,
                               int64_t out) {
    if (c_.linear_weights) return a_.Weight(name, {out, in});
    return a_.Weight(name, {in, out});
  }
  ValueId Apply(ValueId x, ValueId w, ValueId bias, const std::string& name) {
    return c_.linear_weights ? a_.Linear(x, w, bias, name)
                             : a_.Conv1D(x, w, bias, name);
  }

  absl::StatusOr<ValueId> Block(int i, ValueId x) {
    const int64_t h = c_.n_embd, nh = c_.n_head, d = c_.HeadDim(),
                  ff = c_.Inner();
    const std::string w = absl::StrCat("h.", i);
    const std::string p = absl::StrCat("model.layers.", i);
    const std::string a = p + ".self_attn", m = p + ".mlp";
    QEFF_ASSIGN_OR_RETURN(ValueId w_attn,
                          Proj(w + ".attn.c_attn.weight", h, 3 * h));
    QEFF_ASSIGN_OR_RETURN(ValueId b_attn,
                          a_.Weight(w + ".attn.c_attn.bias", {3 * h}));
    QEFF_ASSIGN_OR_RETURN(ValueId w_proj,
                          Proj(w + ".attn.c_proj.weight", h, h));
    QEFF_ASSIGN_OR_RETURN(ValueId b_proj,
                          a_.Weight(w + ".attn.c_proj.bias", {h}));
    QEFF_ASSIGN_OR_RETURN(ValueId w_fc, Proj(w + ".mlp.c_fc.weight", h, ff));
    QEFF_ASSIGN_OR_RETURN(ValueId b_fc, a_.Weight(w + ".mlp.c_fc.bias", {ff}));
    QEFF_ASSIGN_OR_RETURN(ValueId w_mp, Proj(w + ".mlp.c_proj.weight", ff, h));
    QEFF_ASSIGN_OR_RETURN(ValueId b_mp, a_.Weight(w + ".mlp.c_proj.bias", {h}));

    QEFF_ASSIGN_OR_RETURN(ValueId ln1,
                          LayerNorm(x, w + ".ln_1", p + ".input_layernorm"));
    ValueId qkv = Apply(ln1, w_attn, b_attn, a + ".c_attn");
    std::vector<ValueId> parts =
        b_.OpN("Split", {qkv, b_.ConstI64({h, h, h})}, 3,
               {{"axis", Attribute::Int(-1)}}, a + ".qkv_split");
    auto heads = [&](ValueId t, const std::string& name) {
      ValueId r = b_.Reshape(t, {0, 0, nh, d}, name + "_heads");
      return b_.Transpose(r, {0, 2, 1, 3}, name);
    };
    ValueId q = heads(parts[0], a + ".q");
    ValueId k = heads(parts[1], ir::LmRoles::KeyRot(i));
    ValueId v = heads(parts[2], ir::LmRoles::Value(i));
    const float scale =
        c_.scale_attn_weights
            ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)))
            : 1.0f;
    ValueId merged =
        a_.Attention(q, k, v, a_.CausalMask(), nh, nh, d, scale, a);
    ValueId attn_out = Apply(merged, w_proj, b_proj, a + ".o_proj");
    ValueId x1 = b_.Add(x, attn_out, p + ".attn_residual");

    QEFF_ASSIGN_OR_RETURN(
        ValueId ln2,
        LayerNorm(x1, w + ".ln_2", p + ".post_attention_layernorm"));
    ValueId fc = Apply(ln2, w_fc, b_fc, m + ".c_fc");
    ValueId act = Gelu(fc, m + ".act");
    ValueId down = Apply(act, w_mp, b_mp, m + ".c_proj");
    return b_.Add(x1, down, p + ".mlp_residual");
  }

  const Gpt2Config& c_;
  ArchBuilder a_;
  ir::GraphBuilder& b_;
};

}  // namespace

absl::StatusOr<ir::Graph> BuildGpt2Eager(const Gpt2Config& config,
                                         const WeightMap& weights) {
  QEFF_RETURN_IF_ERROR(config.Validate());
  ir::Graph g;
  g.name = "GPT2LMHeadModel";
  Gpt2Builder builder(config, weights, &g);
  QEFF_RETURN_IF_ERROR(builder.Build());
  return g;
}

}  // namespace qeff::models
