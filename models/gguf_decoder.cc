#include "models/gguf_decoder.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::models {

absl::StatusOr<GgufDecoderHparams> ReadGgufDecoderHparams(
    const GgufFile& f, const std::string& path, const std::string& arch) {
  auto key = [&](absl::string_view k) { return absl::StrCat(arch, ".", k); };
  GgufDecoderHparams h;
  QEFF_ASSIGN_OR_RETURN(h.hidden_size, f.GetInt(key("embedding_length")));
  QEFF_ASSIGN_OR_RETURN(h.feed_forward_length,
                        f.GetInt(key("feed_forward_length")));
  QEFF_ASSIGN_OR_RETURN(h.block_count, f.GetInt(key("block_count")));
  QEFF_ASSIGN_OR_RETURN(h.head_count, f.GetInt(key("attention.head_count")));
  h.head_count_kv = h.head_count;
  if (f.Has(key("attention.head_count_kv"))) {
    QEFF_ASSIGN_OR_RETURN(h.head_count_kv,
                          f.GetInt(key("attention.head_count_kv")));
  }
  if (h.head_count <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", key("attention.head_count"), " must be > 0"));
  }
  h.head_dim = h.hidden_size / h.head_count;
  if (f.Has(key("attention.key_length"))) {
    QEFF_ASSIGN_OR_RETURN(h.head_dim, f.GetInt(key("attention.key_length")));
  }
  if (f.Has(key("attention.value_length"))) {
    QEFF_ASSIGN_OR_RETURN(int64_t v, f.GetInt(key("attention.value_length")));
    if (v != h.head_dim)
      return absl::UnimplementedError(
          absl::StrCat(path, ": ", key("attention.value_length"), " ", v,
                       " differs from the key length ", h.head_dim));
  }
  if (f.Has(key("rope.dimension_count"))) {
    QEFF_ASSIGN_OR_RETURN(int64_t rot, f.GetInt(key("rope.dimension_count")));
    if (rot != h.head_dim)
      return absl::UnimplementedError(absl::StrCat(
          path, ": ", key("rope.dimension_count"), " ", rot,
          " differs from the head dim (partial rotary is not supported)"));
  }
  QEFF_ASSIGN_OR_RETURN(h.rms_norm_eps,
                        f.GetF32(key("attention.layer_norm_rms_epsilon")));
  if (f.Has(key("rope.freq_base"))) {
    QEFF_ASSIGN_OR_RETURN(h.rope_theta, f.GetF32(key("rope.freq_base")));
  }
  if (f.Has(key("context_length"))) {
    QEFF_ASSIGN_OR_RETURN(h.context_length, f.GetInt(key("context_length")));
  }
  if (f.Has(key("rope.scaling.type"))) {
    QEFF_ASSIGN_OR_RETURN(std::string type,
                          f.GetString(key("rope.scaling.type")));
    if (type == "linear") {
      h.rope_scaling.type = RopeScaling::Type::kLinear;
      QEFF_ASSIGN_OR_RETURN(h.rope_scaling.factor,
                            f.GetF32(key("rope.scaling.factor")));
      if (!(h.rope_scaling.factor > 0))
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": ", key("rope.scaling.factor"), " must be > 0"));
    } else if (type != "none") {
      return absl::UnimplementedError(
          absl::StrCat(path, ": ", key("rope.scaling.type"), " '", type,
                       "' is not supported (supported: none, linear)"));
    }
  }
  return h;
}

std::string GgufDecoderHfName(absl::string_view g,
                              absl::Span<const GgufRoleName> layer_map) {
  static const GgufRoleName kTop[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.weight"},
      {"output.weight", "lm_head.weight"},
  };
  for (const auto& [from, to] : kTop)
    if (g == from) return to;
  absl::string_view layer, role;
  if (!SplitGgufBlockName(g, &layer, &role)) return "";
  for (const auto& [from, to] : layer_map)
    if (role == from) return absl::StrCat("model.layers.", layer, ".", to);
  return "";
}

}  // namespace qeff::models
