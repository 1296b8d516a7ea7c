// The routed-experts block of the Llama-family builders (Mixtral,
// Qwen3-MoE): router Linear → the MoE custom op (ir/custom_ops.h) over the
// layer's expert weights stacked [E, out, in]. Expert weights come either
// stacked (a GGUF `ffn_{gate,up,down}_exps`, loaded under
// `<prefix>.experts.<role>.weight`) or per expert as Hugging Face stores
// them (`<prefix>.experts.<e>.<role>.weight`, stacked here: one copy); f16 /
// bf16 stacks get one Cast to f32, quantized stacks stay quantized. Shared
// experts and router biases are not part of this block (Part 2 families add
// them around it).
#ifndef QEFF_MODELS_ARCH_MOE_H_
#define QEFF_MODELS_ARCH_MOE_H_

#include <string>

#include "absl/status/statusor.h"
#include "models/arch/builder_util.h"

namespace qeff::models {

struct MoEBlockSpec {
  std::string prefix;          // "model.layers.3.block_sparse_moe", "...mlp"
  std::string router;          // router weight under prefix: "gate"
  std::string gate, up, down;  // expert roles: "w1","w3","w2" / "gate_proj"...
  int64_t num_experts = 0;
  int64_t top_k = 0;
  int64_t hidden = 0;
  int64_t ffn = 0;  // per expert
  int scoring = 0;  // 0 softmax, 1 sigmoid
  bool norm_topk_prob = false;
  bool score_on_input = false;
  int activation = 0;  // 0 SiLU, 1 GELU (erf), 2 GELU (tanh): ir/custom_ops.h
};

// y = MoE(x, x @ router^T, gate, up, down) for x [..., hidden]; values are
// named under spec.prefix.
absl::StatusOr<ir::ValueId> BuildMoEBlock(ArchBuilder& a, const WeightMap& w,
                                          const MoEBlockSpec& spec,
                                          ir::ValueId x);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_MOE_H_
