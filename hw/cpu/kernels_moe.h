// The cpu driver's MoE kernel (the routed-experts op of ir/custom_ops.h):
// a gathered-expert kernel. Per call it routes every row (top_k of the
// router logits, softmax/sigmoid scores, optional renormalisation), groups
// the rows by selected expert and runs only those experts' three Linear
// products (gate, up, down) on their rows, with the Linear kernel's
// computation (linear::RunLinear) on the expert's slice of the stacked
// weights — so a decode step reads only the selected experts' weights,
// f32/f16/bf16 or quantized blocks alike. A row's outputs are summed in
// top-k order, so a row's result depends neither on the other rows nor on
// the batch (batch-invariant).
//
// Step parameters: ints = {top_k, scoring, norm_topk_prob, score_on_input,
// activation}; inputs x, router_logits, gate, up, down (constants).
#ifndef QEFF_HW_CPU_KERNELS_MOE_H_
#define QEFF_HW_CPU_KERNELS_MOE_H_

#include <cstdint>

namespace qeff::hw::cpu {

void RegisterMoEKernels();

// Process-wide count of expert FFN evaluations the MoE kernel has run: one
// per (call, expert) that had rows routed to it (each is that expert's
// gate, up and down Linear over its rows). A decode step of one token adds
// top_k per MoE layer.
int64_t MoEExpertCalls();

// Benchmark switch: when on, every call also evaluates every expert on
// every row (the dense all-experts form, as the exported ONNX body does)
// and discards the unselected results; outputs are unchanged. Off by
// default; for measuring what gathering saves, not for serving.
void SetMoEAllExpertsForBenchmark(bool on);

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_KERNELS_MOE_H_
