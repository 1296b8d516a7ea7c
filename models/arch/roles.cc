#include "models/arch/roles.h"

#include "absl/strings/str_cat.h"

namespace qeff::models {

std::string LlamaRoles::KeyRot(int layer) {
  return absl::StrCat("model.layers.", layer, ".self_attn.k_rot");
}
std::string LlamaRoles::Value(int layer) {
  return absl::StrCat("model.layers.", layer, ".self_attn.v");
}
std::string LlamaRoles::MaskedScores(int layer) {
  return absl::StrCat("model.layers.", layer, ".self_attn.masked_scores");
}

}  // namespace qeff::models
