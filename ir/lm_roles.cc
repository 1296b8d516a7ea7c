#include "ir/lm_roles.h"

#include "absl/strings/str_cat.h"

namespace qeff::ir {

std::string LmRoles::KeyRot(int layer) {
  return absl::StrCat("model.layers.", layer, ".self_attn.k_rot");
}
std::string LmRoles::Value(int layer) {
  return absl::StrCat("model.layers.", layer, ".self_attn.v");
}
std::string LmRoles::MaskedScores(int layer) {
  return absl::StrCat("model.layers.", layer, ".self_attn.masked_scores");
}

}  // namespace qeff::ir
