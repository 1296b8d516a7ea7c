#include "models/arch/wav2vec2.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "ir/lm_roles.h"
#include "ir/shape.h"

namespace qeff::models {

using ir::Attribute;
using ir::ValueId;

int64_t Wav2Vec2Config::FramesOf(int64_t samples) const {
  int64_t n = samples;
  for (size_t i = 0; i < conv_kernel.size(); ++i) {
    if (n < conv_kernel[i]) return 0;
    n = (n - conv_kernel[i]) / conv_stride[i] + 1;
  }
  return n;
}

absl::Status Wav2Vec2Config::Validate() const {
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(model_type, " config: ", what));
  };
  for (auto [name, v] :
       {std::pair<const char*, int64_t>{"hidden_size", hidden_size},
        {"num_hidden_layers", num_hidden_layers},
        {"num_attention_heads", num_attention_heads},
        {"intermediate_size", intermediate_size},
        {"num_conv_pos_embeddings", num_conv_pos_embeddings},
        {"num_conv_pos_embedding_groups", num_conv_pos_embedding_groups}}) {
    if (v <= 0) return bad(absl::StrCat(name, " must be positive, got ", v));
  }
  if (hidden_size % num_attention_heads != 0)
    return bad(absl::StrCat("hidden_size ", hidden_size,
                            " is not a multiple of num_attention_heads ",
                            num_attention_heads));
  if (hidden_size % num_conv_pos_embedding_groups != 0)
    return bad(absl::StrCat("hidden_size ", hidden_size,
                            " is not a multiple of "
                            "num_conv_pos_embedding_groups ",
                            num_conv_pos_embedding_groups));
  if (conv_dim.empty() || conv_dim.size() != conv_stride.size() ||
      conv_dim.size() != conv_kernel.size())
    return bad(
        absl::StrCat("conv_dim, conv_stride and conv_kernel must be "
                     "non-empty and of one length (got ",
                     conv_dim.size(), ", ", conv_stride.size(), ", ",
                     conv_kernel.size(), ")"));
  for (size_t i = 0; i < conv_dim.size(); ++i) {
    if (conv_dim[i] <= 0 || conv_stride[i] <= 0 || conv_kernel[i] <= 0)
      return bad(absl::StrCat("conv layer ", i,
                              " has a non-positive dim, "
                              "stride or kernel"));
  }
  if (feat_extract_norm != "group" && feat_extract_norm != "layer")
    return bad(absl::StrCat("feat_extract_norm '", feat_extract_norm,
                            "' is not 'group' or 'layer'"));
  for (const std::string* act : {&hidden_act, &feat_extract_activation}) {
    if (*act != "gelu" && *act != "relu")
      return absl::UnimplementedError(
          absl::StrCat(model_type, " config: activation '", *act,
                       "' is not supported (supported: gelu, relu)"));
  }
  if (ctc && vocab_size <= 0)
    return bad(absl::StrCat("vocab_size must be positive, got ", vocab_size));
  if (!ctc && (num_labels <= 0 || classifier_proj_size <= 0))
    return bad(absl::StrCat("num_labels (", num_labels,
                            ") and classifier_proj_size (",
                            classifier_proj_size, ") must be positive"));
  return absl::OkStatus();
}

absl::StatusOr<Wav2Vec2Config> ParseWav2Vec2Config(const base::JsonValue& j,
                                                   const std::string& source,
                                                   const std::string& arch) {
  Wav2Vec2Config c;
  auto err = [&](absl::string_view field, absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": field '", field, "' ", what));
  };
  auto get = [&](const char* f) -> const base::JsonValue* {
    const base::JsonValue* v = j.Find(f);
    return v && !v->is_null() ? v : nullptr;
  };
  auto num = [&](const char* f, int64_t* out, bool required) -> absl::Status {
    const base::JsonValue* v = get(f);
    if (!v) return required ? err(f, "is missing") : absl::OkStatus();
    auto i = v->is_number() ? v->AsInt64()
                            : absl::StatusOr<int64_t>(
                                  absl::InvalidArgumentError("not a number"));
    if (!i.ok()) return err(f, "is not an integer");
    *out = *i;
    return absl::OkStatus();
  };
  auto flag = [&](const char* f, bool* out) -> absl::Status {
    const base::JsonValue* v = get(f);
    if (!v) return absl::OkStatus();
    if (!v->is_bool()) return err(f, "is not a boolean");
    *out = v->bool_value();
    return absl::OkStatus();
  };
  auto text = [&](const char* f, std::string* out) -> absl::Status {
    const base::JsonValue* v = get(f);
    if (!v) return absl::OkStatus();
    if (!v->is_string()) return err(f, "is not a string");
    *out = v->string_value();
    return absl::OkStatus();
  };
  auto ints = [&](const char* f, std::vector<int64_t>* out) -> absl::Status {
    const base::JsonValue* v = get(f);
    if (!v) return absl::OkStatus();  // HF's defaults stay
    if (!v->is_array()) return err(f, "is not an array");
    out->clear();
    for (const base::JsonValue& e : v->array()) {
      auto i = e.is_number()
                   ? e.AsInt64()
                   : absl::StatusOr<int64_t>(absl::InvalidArgumentError(""));
      if (!i.ok()) return err(f, "holds a non-integer");
      out->push_back(*i);
    }
    return absl::OkStatus();
  };
  QEFF_RETURN_IF_ERROR(text("model_type", &c.model_type));
  c.ctc = absl::EndsWith(arch, "ForCTC");
  // HF's defaults (Wav2Vec2Config / HubertConfig).
  c.conv_dim = {512, 512, 512, 512, 512, 512, 512};
  c.conv_stride = {5, 2, 2, 2, 2, 2, 2};
  c.conv_kernel = {10, 3, 3, 3, 3, 2, 2};
  QEFF_RETURN_IF_ERROR(num("hidden_size", &c.hidden_size, true));
  QEFF_RETURN_IF_ERROR(num("num_hidden_layers", &c.num_hidden_layers, true));
  QEFF_RETURN_IF_ERROR(
      num("num_attention_heads", &c.num_attention_heads, true));
  QEFF_RETURN_IF_ERROR(num("intermediate_size", &c.intermediate_size, true));
  QEFF_RETURN_IF_ERROR(text("hidden_act", &c.hidden_act));
  const base::JsonValue* eps = get("layer_norm_eps");
  if (eps) {
    if (!eps->is_number()) return err("layer_norm_eps", "is not a number");
    c.layer_norm_eps = static_cast<float>(eps->number());
  }
  QEFF_RETURN_IF_ERROR(text("feat_extract_norm", &c.feat_extract_norm));
  QEFF_RETURN_IF_ERROR(
      text("feat_extract_activation", &c.feat_extract_activation));
  QEFF_RETURN_IF_ERROR(ints("conv_dim", &c.conv_dim));
  QEFF_RETURN_IF_ERROR(ints("conv_stride", &c.conv_stride));
  QEFF_RETURN_IF_ERROR(ints("conv_kernel", &c.conv_kernel));
  QEFF_RETURN_IF_ERROR(flag("conv_bias", &c.conv_bias));
  QEFF_RETURN_IF_ERROR(
      num("num_conv_pos_embeddings", &c.num_conv_pos_embeddings, false));
  QEFF_RETURN_IF_ERROR(num("num_conv_pos_embedding_groups",
                           &c.num_conv_pos_embedding_groups, false));
  QEFF_RETURN_IF_ERROR(flag("do_stable_layer_norm", &c.do_stable_layer_norm));
  if (c.model_type == "hubert") {
    QEFF_RETURN_IF_ERROR(flag("feat_proj_layer_norm", &c.feat_proj_layer_norm));
    bool bn = false;
    QEFF_RETURN_IF_ERROR(flag("conv_pos_batch_norm", &bn));
    if (bn)
      return absl::UnimplementedError(absl::StrCat(
          source, ": conv_pos_batch_norm = true is not supported"));
  }
  bool adapter = false;
  QEFF_RETURN_IF_ERROR(flag("add_adapter", &adapter));
  if (adapter)
    return absl::UnimplementedError(
        absl::StrCat(source, ": add_adapter = true is not supported"));
  QEFF_RETURN_IF_ERROR(num("vocab_size", &c.vocab_size, c.ctc));
  QEFF_RETURN_IF_ERROR(
      flag("use_weighted_layer_sum", &c.use_weighted_layer_sum));
  QEFF_RETURN_IF_ERROR(
      num("classifier_proj_size", &c.classifier_proj_size, false));
  if (const base::JsonValue* labels = get("id2label")) {
    if (!labels->is_object()) return err("id2label", "is not an object");
    for (const auto& [k, v] : labels->object()) {
      int64_t id;
      if (!absl::SimpleAtoi(k, &id) || id < 0 || !v.is_string())
        return err("id2label", absl::StrCat("has a bad entry '", k, "'"));
      c.id2label[id] = v.string_value();
    }
  }
  c.num_labels = c.id2label.empty()
                     ? 2
                     : static_cast<int64_t>(c.id2label.rbegin()->first + 1);
  QEFF_RETURN_IF_ERROR(num("num_labels", &c.num_labels, false));
  if (!c.id2label.empty() &&
      static_cast<int64_t>(c.id2label.size()) != c.num_labels)
    return err("id2label",
               absl::StrCat("has ", c.id2label.size(), " labels, not ",
                            c.num_labels, " (ids 0..num_labels-1)"));
  auto st = c.Validate();
  if (!st.ok())
    return absl::Status(st.code(), absl::StrCat(source, ": ", st.message()));
  return c;
}

namespace {

class Wav2Vec2Builder {
 public:
  Wav2Vec2Builder(const Wav2Vec2Config& c, const WeightMap& w, ir::Graph* g)
      : c_(c), w_(w), a_(c.model_type, w, g), b_(a_.b()) {
    p_ = c.model_type + ".";
  }

  absl::Status Build() {
    ValueId in = b_.Input(
        "input_values", ir::DType::kF32,
        ir::Shape({ir::Dim::Symbol("batch_size"), ir::Dim::Symbol("seq_len")}));
    if (c_.attention_mask) {
      attention_mask_ = b_.Input("attention_mask", ir::DType::kI64,
                                 ir::Shape({ir::Dim::Symbol("batch_size"),
                                            ir::Dim::Symbol("seq_len")}));
    }
    ValueId x = b_.Unsqueeze(in, {1}, "feature_extractor.input");
    for (size_t i = 0; i < c_.conv_dim.size(); ++i) {
      QEFF_ASSIGN_OR_RETURN(x, ConvLayer(static_cast<int>(i), x));
    }
    const int64_t cd = c_.conv_dim.back(), h = c_.hidden_size;
    ValueId feats = b_.Transpose(x, {0, 2, 1}, "extract_features");
    if (c_.model_type == "wav2vec2" || c_.feat_proj_layer_norm) {
      QEFF_ASSIGN_OR_RETURN(
          feats, LayerNorm(feats, p_ + "feature_projection.layer_norm", cd,
                           c_.layer_norm_eps));
    }
    QEFF_ASSIGN_OR_RETURN(
        x, Dense(feats, p_ + "feature_projection.projection", cd, h));
    if (c_.attention_mask) {
      FrameMask(x);
      // Wav2Vec2Encoder: hidden_states[~mask] = 0 before the positions.
      x = b_.Op("Where",
                {b_.Unsqueeze(frame_mask_, {2}, "frame_mask_3d"), x,
                 b_.ScalarF32(0.0f)},
                {}, "encoder.masked_input");
    }
    QEFF_ASSIGN_OR_RETURN(ValueId pos, PositionalConv(x));
    x = b_.Add(x, pos, "encoder.with_positions");
    std::vector<ValueId> hidden;
    const std::string e = p_ + "encoder.";
    if (!c_.do_stable_layer_norm) {
      QEFF_ASSIGN_OR_RETURN(
          x, LayerNorm(x, e + "layer_norm", h, c_.layer_norm_eps));
    }
    for (int i = 0; i < c_.num_hidden_layers; ++i) {
      hidden.push_back(x);
      QEFF_ASSIGN_OR_RETURN(x, Layer(i, x));
    }
    if (c_.do_stable_layer_norm) {
      QEFF_ASSIGN_OR_RETURN(
          x, LayerNorm(x, e + "layer_norm", h, c_.layer_norm_eps));
    }
    hidden.push_back(x);
    ValueId logits;
    if (c_.ctc) {
      QEFF_ASSIGN_OR_RETURN(logits, Dense(x, "lm_head", h, c_.vocab_size));
    } else {
      QEFF_ASSIGN_OR_RETURN(logits, Classify(hidden));
    }
    b_.graph().AddOutput(b_.Op("Identity", {logits}, {}, "logits"));
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<ValueId> LayerNorm(ValueId x, const std::string& w,
                                    int64_t dim, float eps) {
    QEFF_ASSIGN_OR_RETURN(ValueId s, a_.Weight(w + ".weight", {dim}));
    QEFF_ASSIGN_OR_RETURN(ValueId bias, a_.Weight(w + ".bias", {dim}));
    return b_.Op(
        "LayerNormalization", {x, s, bias},
        {{"axis", Attribute::Int(-1)}, {"epsilon", Attribute::Float(eps)}}, w);
  }

  absl::StatusOr<ValueId> Dense(ValueId x, const std::string& w, int64_t in,
                                int64_t out) {
    QEFF_ASSIGN_OR_RETURN(ValueId wt, a_.Weight(w + ".weight", {out, in}));
    QEFF_ASSIGN_OR_RETURN(ValueId bias, a_.Weight(w + ".bias", {out}));
    return a_.Linear(x, wt, bias, w);
  }

  // gelu (exact, erf) or relu, in the form the cpu driver fuses.
  ValueId Act(ValueId x, const std::string& act, const std::string& name) {
    if (act == "relu") return b_.Op("Relu", {x}, {}, name);
    return a_.Gelu(x, /*tanh_approx=*/false, name);
  }

  ValueId Conv(ValueId x, ValueId w, ValueId bias, int64_t stride, int64_t pad,
               int64_t groups, const std::string& name) {
    std::vector<ValueId> ins = {x, w};
    if (bias != ir::kNoValue) ins.push_back(bias);
    return b_.Op("Conv", ins,
                 {{"strides", Attribute::Ints({stride})},
                  {"pads", Attribute::Ints({pad, pad})},
                  {"group", Attribute::Int(groups)}},
                 name);
  }

  absl::StatusOr<ValueId> ConvLayer(int i, ValueId x) {
    const std::string w = absl::StrCat(p_, "feature_extractor.conv_layers.", i);
    const int64_t out = c_.conv_dim[i], in = i == 0 ? 1 : c_.conv_dim[i - 1];
    QEFF_ASSIGN_OR_RETURN(ValueId wt, a_.Weight(w + ".conv.weight",
                                                {out, in, c_.conv_kernel[i]}));
    ValueId bias = ir::kNoValue;
    if (c_.conv_bias) {
      QEFF_ASSIGN_OR_RETURN(bias, a_.Weight(w + ".conv.bias", {out}));
    }
    ValueId y = Conv(x, wt, bias, c_.conv_stride[i], 0, 1, w + ".conv");
    if (c_.feat_extract_norm == "layer") {
      ValueId t = b_.Transpose(y, {0, 2, 1}, w + ".to_channels_last");
      QEFF_ASSIGN_OR_RETURN(t, LayerNorm(t, w + ".layer_norm", out, 1e-5f));
      y = b_.Transpose(t, {0, 2, 1}, w + ".to_channels_first");
    } else if (i == 0) {
      QEFF_ASSIGN_OR_RETURN(y, GroupNormPerChannel(y, w + ".layer_norm", out));
    }
    return Act(y, c_.feat_extract_activation, w + ".activation");
  }

  // nn.GroupNorm(num_groups = num_channels = C) on [B, C, T]: each channel
  // normalized over time (biased variance, eps 1e-5), then affine.
  absl::StatusOr<ValueId> GroupNormPerChannel(ValueId x, const std::string& w,
                                              int64_t ch) {
    QEFF_ASSIGN_OR_RETURN(ValueId s, a_.Weight(w + ".weight", {ch}));
    QEFF_ASSIGN_OR_RETURN(ValueId bias, a_.Weight(w + ".bias", {ch}));
    ValueId normed = a_.NormalizeLastAxis(x, 1e-5f, w);
    ValueId s2 = b_.Reshape(s, {ch, 1}, w + ".weight_c1");
    ValueId b2 = b_.Reshape(bias, {ch, 1}, w + ".bias_c1");
    return b_.Add(b_.Mul(normed, s2, w + ".scaled"), b2, w);
  }

  // The weight-normed positional conv weight folded: w = g * v / |v|, the
  // norm over all axes but the kernel's (torch weight_norm(dim=2)), from
  // weight_g/weight_v or parametrizations.weight.original0/original1; a
  // plain `weight` is used as is.
  absl::StatusOr<ValueId> FoldedPosWeight(const std::string& conv) {
    const int64_t h = c_.hidden_size, k = c_.num_conv_pos_embeddings,
                  cg = h / c_.num_conv_pos_embedding_groups;
    if (a_.Has(conv + ".weight"))
      return a_.Weight(conv + ".weight", {h, cg, k});
    std::string gn = conv + ".weight_g", vn = conv + ".weight_v";
    if (!a_.Has(gn)) {
      gn = conv + ".parametrizations.weight.original0";
      vn = conv + ".parametrizations.weight.original1";
    }
    auto g = w_.find(gn), v = w_.find(vn);
    if (g == w_.end() || v == w_.end())
      return absl::NotFoundError(absl::StrCat(
          c_.model_type, " weights: '", conv, ".weight_g'/'weight_v' (or ",
          "parametrizations.weight.original0/1) are missing"));
    const std::vector<int64_t> want_g = {1, 1, k}, want_v = {h, cg, k};
    if (g->second.dims() != want_g || v->second.dims() != want_v)
      return absl::InvalidArgumentError(absl::StrCat(
          c_.model_type, " weights: '", gn, "' / '", vn, "' have shapes ",
          ir::Shape::Of(g->second.dims()).ToString(), " / ",
          ir::Shape::Of(v->second.dims()).ToString(), ", expected ",
          ir::Shape::Of(want_g).ToString(), " / ",
          ir::Shape::Of(want_v).ToString()));
    std::vector<double> norm(k, 0.0);
    for (int64_t i = 0; i < h * cg; ++i)
      for (int64_t t = 0; t < k; ++t) {
        const double e = v->second.GetDouble(i * k + t);
        norm[t] += e * e;
      }
    std::vector<float> out(h * cg * k);
    for (int64_t i = 0; i < h * cg; ++i)
      for (int64_t t = 0; t < k; ++t)
        out[i * k + t] = static_cast<float>(g->second.GetDouble(t) *
                                            v->second.GetDouble(i * k + t) /
                                            std::sqrt(norm[t]));
    return b_.Const(conv + ".weight", ir::Tensor::F32(want_v, out));
  }

  absl::StatusOr<ValueId> PositionalConv(ValueId x) {
    const std::string conv = p_ + "encoder.pos_conv_embed.conv";
    const int64_t k = c_.num_conv_pos_embeddings;
    QEFF_ASSIGN_OR_RETURN(ValueId w, FoldedPosWeight(conv));
    QEFF_ASSIGN_OR_RETURN(ValueId bias,
                          a_.Weight(conv + ".bias", {c_.hidden_size}));
    ValueId t = b_.Transpose(x, {0, 2, 1}, conv + ".input");
    ValueId y =
        Conv(t, w, bias, 1, k / 2, c_.num_conv_pos_embedding_groups, conv);
    if (k % 2 == 0) {  // Wav2Vec2SamePadLayer drops the last frame
      y = b_.Op("Slice",
                {y, b_.ConstI64({0}), b_.ConstI64({-1}), b_.ConstI64({2})}, {},
                conv + ".same_pad");
    }
    ValueId act = Act(y, c_.feat_extract_activation, conv + ".activation");
    return b_.Transpose(act, {0, 2, 1}, conv + ".output");
  }

  // From attention_mask [B, seq_len] (1: a real sample): frame j of the
  // feature encoder is real iff the last sample it sees, j * S + C (S the
  // product of the strides, C the receptive field's end), is before the
  // sample count — the same frames as HF's _get_feat_extract_output_lengths
  // (floor((L - k) / s) + 1 per layer). Sets frame_mask_ [B, T] (bool) and
  // key_masked_ [B, 1, 1, T] (true: padding).
  void FrameMask(ValueId h) {
    int64_t stride = 1, end = 0;
    for (size_t i = 0; i < c_.conv_kernel.size(); ++i) {
      end += (c_.conv_kernel[i] - 1) * stride;
      stride *= c_.conv_stride[i];
    }
    const auto f32 = Attribute::Int(ir::DTypeToOnnx(ir::DType::kF32));
    ValueId samples = b_.Op(
        "ReduceSum",
        {b_.Op("Cast", {attention_mask_}, {{"to", f32}}, "attention_mask_f32"),
         b_.ConstI64({1})},
        {{"keepdims", Attribute::Int(1)}}, "sample_count");
    ValueId frames = b_.Op(
        "Gather", {b_.Op("Shape", {h}, {}, "frames_shape"), b_.ScalarI64(1)},
        {{"axis", Attribute::Int(0)}}, "frames");
    ValueId idx = b_.Op("Range", {b_.ScalarI64(0), frames, b_.ScalarI64(1)}, {},
                        "frame_index");
    ValueId last =
        b_.Add(b_.Mul(b_.Op("Cast", {idx}, {{"to", f32}}, "frame_index_f32"),
                      b_.ScalarF32(static_cast<float>(stride)), "frame_start"),
               b_.ScalarF32(static_cast<float>(end)), "frame_last_sample");
    frame_mask_ = b_.Op("Less", {last, samples}, {}, "frame_mask");
    key_masked_ = b_.Unsqueeze(b_.Op("Not", {frame_mask_}, {}, "frame_padding"),
                               {1, 2}, "key_padding");
  }

  absl::StatusOr<ValueId> Attention(int i, ValueId x) {
    const std::string w = absl::StrCat(p_, "encoder.layers.", i, ".attention");
    const int64_t h = c_.hidden_size, nh = c_.num_attention_heads,
                  d = c_.HeadDim();
    auto heads = [&](const char* proj) -> absl::StatusOr<ValueId> {
      QEFF_ASSIGN_OR_RETURN(ValueId p, Dense(x, w + "." + proj, h, h));
      return b_.Transpose(b_.Reshape(p, {0, 0, nh, d}, w + "." + proj + "_h"),
                          {0, 2, 1, 3}, w + "." + proj + "_t");
    };
    QEFF_ASSIGN_OR_RETURN(ValueId q, heads("q_proj"));
    QEFF_ASSIGN_OR_RETURN(ValueId k, heads("k_proj"));
    QEFF_ASSIGN_OR_RETURN(ValueId v, heads("v_proj"));
    ValueId kt = b_.Transpose(k, {0, 1, 3, 2}, w + ".k_t");
    const float scale = static_cast<float>(1.0 / std::sqrt(double(d)));
    ValueId scores =
        b_.Mul(b_.MatMul(q, kt, w + ".qk"), b_.ScalarF32(scale), w + ".scores");
    if (c_.attention_mask) {  // padded keys masked (HF adds finfo.min)
      scores =
          b_.Op("Where", {key_masked_, b_.ScalarF32(ir::kMaskedScore), scores},
                {}, w + ".masked_scores");
    }
    ValueId probs = b_.Op("Softmax", {scores}, {{"axis", Attribute::Int(-1)}},
                          w + ".probs");
    ValueId ctx = b_.MatMul(probs, v, w + ".context");
    ValueId merged =
        b_.Reshape(b_.Transpose(ctx, {0, 2, 1, 3}, w + ".context_t"), {0, 0, h},
                   w + ".context_merged");
    return Dense(merged, w + ".out_proj", h, h);
  }

  absl::StatusOr<ValueId> FeedForward(int i, ValueId x) {
    const std::string w =
        absl::StrCat(p_, "encoder.layers.", i, ".feed_forward");
    QEFF_ASSIGN_OR_RETURN(ValueId up,
                          Dense(x, w + ".intermediate_dense", c_.hidden_size,
                                c_.intermediate_size));
    ValueId act = Act(up, c_.hidden_act, w + ".act");
    return Dense(act, w + ".output_dense", c_.intermediate_size,
                 c_.hidden_size);
  }

  absl::StatusOr<ValueId> Layer(int i, ValueId x) {
    const std::string w = absl::StrCat(p_, "encoder.layers.", i);
    const int64_t h = c_.hidden_size;
    const float eps = c_.layer_norm_eps;
    if (c_.do_stable_layer_norm) {
      QEFF_ASSIGN_OR_RETURN(ValueId n1,
                            LayerNorm(x, w + ".layer_norm", h, eps));
      QEFF_ASSIGN_OR_RETURN(ValueId att, Attention(i, n1));
      ValueId x1 = b_.Add(x, att, w + ".attn_residual");
      QEFF_ASSIGN_OR_RETURN(ValueId n2,
                            LayerNorm(x1, w + ".final_layer_norm", h, eps));
      QEFF_ASSIGN_OR_RETURN(ValueId ff, FeedForward(i, n2));
      return b_.Add(x1, ff, w + ".output");
    }
    QEFF_ASSIGN_OR_RETURN(ValueId att, Attention(i, x));
    QEFF_ASSIGN_OR_RETURN(ValueId x1,
                          LayerNorm(b_.Add(x, att, w + ".attn_residual"),
                                    w + ".layer_norm", h, eps));
    QEFF_ASSIGN_OR_RETURN(ValueId ff, FeedForward(i, x1));
    return LayerNorm(b_.Add(x1, ff, w + ".ff_residual"),
                     w + ".final_layer_norm", h, eps);
  }

  absl::StatusOr<ValueId> Classify(const std::vector<ValueId>& hidden) {
    const int64_t h = c_.hidden_size;
    ValueId x = hidden.back();
    if (c_.use_weighted_layer_sum) {
      const int64_t n = static_cast<int64_t>(hidden.size());
      QEFF_ASSIGN_OR_RETURN(ValueId lw, a_.Weight("layer_weights", {n}));
      std::vector<ValueId> st;
      for (ValueId v : hidden) st.push_back(b_.Unsqueeze(v, {0}));
      ValueId stacked = b_.Op("Concat", st, {{"axis", Attribute::Int(0)}},
                              "hidden_states_stacked");
      ValueId norm = b_.Op("Softmax", {lw}, {{"axis", Attribute::Int(-1)}},
                           "layer_weights_softmax");
      ValueId weighted =
          b_.Mul(stacked, b_.Reshape(norm, {n, 1, 1, 1}, "layer_weights_b"),
                 "hidden_states_weighted");
      x = b_.Op("ReduceSum", {weighted, b_.ConstI64({0})},
                {{"keepdims", Attribute::Int(0)}}, "hidden_states_sum");
    }
    QEFF_ASSIGN_OR_RETURN(ValueId proj,
                          Dense(x, "projector", h, c_.classifier_proj_size));
    ValueId pooled;
    if (c_.attention_mask) {
      // Mean over the real frames only.
      ValueId m =
          b_.Op("Cast", {frame_mask_},
                {{"to", Attribute::Int(ir::DTypeToOnnx(ir::DType::kF32))}},
                "frame_mask_f32");
      ValueId sum =
          b_.Op("ReduceSum",
                {b_.Mul(proj, b_.Unsqueeze(m, {2}, "frame_mask_f32_3d"),
                        "projected_masked"),
                 b_.ConstI64({1})},
                {{"keepdims", Attribute::Int(0)}}, "pooled_sum");
      ValueId count = b_.Op("ReduceSum", {m, b_.ConstI64({1})},
                            {{"keepdims", Attribute::Int(1)}}, "frame_count");
      pooled = b_.Op("Div", {sum, count}, {}, "pooled_output");
    } else {
      pooled = b_.Op(
          "ReduceMean", {proj},
          {{"axes", Attribute::Ints({1})}, {"keepdims", Attribute::Int(0)}},
          "pooled_output");
    }
    return Dense(pooled, "classifier", c_.classifier_proj_size, c_.num_labels);
  }

  const Wav2Vec2Config& c_;
  const WeightMap& w_;
  ArchBuilder a_;
  ir::GraphBuilder& b_;
  std::string p_;
  ValueId attention_mask_ = ir::kNoValue, frame_mask_ = ir::kNoValue,
          key_masked_ = ir::kNoValue;
};

}  // namespace

absl::StatusOr<ir::Graph> BuildWav2Vec2Eager(const Wav2Vec2Config& config,
                                             const WeightMap& weights) {
  QEFF_RETURN_IF_ERROR(config.Validate());
  ir::Graph g;
  g.name = config.model_type;
  Wav2Vec2Builder builder(config, weights, &g);
  QEFF_RETURN_IF_ERROR(builder.Build());
  return g;
}

}  // namespace qeff::models
