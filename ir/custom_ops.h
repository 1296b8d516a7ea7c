// qeff's custom ops: the one specification that the reference evaluator
// (ir/kernels/custom_ops.cc), the cpu driver and the exported ONNX function
// bodies all implement (DESIGN.md "Custom ops"). All index inputs are int64.
//
// CustomRMSNorm (domain com.qti.aisw.onnx, version 1)
//   inputs:  x [..., D] (float type T), weight [D] (T)
//   attr:    epsilon (float, default 1e-6)
//   output:  y [..., D] (T) = x / sqrt(mean(x^2 over the last axis) + eps)
//            * weight; computed in double, rounded once to T.
//
// CtxScatter (domain com.qualcomm.cloud, version 1)
//   inputs:  cache [B, H, C, D] (T), position_ids [B, S] (int64; a batch of
//            1 broadcasts over B), updates [B, H, S, D] (T)
//   output:  the new cache [B, H, C, D]: a copy of `cache` where for every
//            p = position_ids[b, s] >= 0, cache[b, :, p, :] = updates[b, :, s,
//            :]. A negative position writes nothing (padding; an idle
//            continuous-batching row has all -1). p >= C is an error.
//            Duplicate non-negative positions in a row: the later s wins.
//
// CtxGather (domain com.qualcomm.cloud, version 1)
//   inputs:  cache [B, H, C, D] (T), ctx_indices [B, C'] or [1, C'] or [C']
//            (int64; the leading 1 / missing dim broadcasts over B)
//   output:  [B, H, C', D]: out[b, h, i, :] = cache[b, h, ctx_indices[b, i], :]
//            (a gather along axis 2). An index outside [0, C) is an error.
//
// CtxScatterCB (domain com.qualcomm.cloud, version 1)
//   inputs:  cache [FB, H, C, D] (T), batch_index [B, 1] (int64),
//            position_ids [B, S] (int64), updates [B, H, S, D] (T)
//   output:  the new cache [FB, H, C, D]: for every p = position_ids[b, s]
//            >= 0, cache[batch_index[b, 0], :, p, :] = updates[b, :, s, :].
//            batch_index outside [0, FB) is an error for a row that writes.
//
// CtxGatherCB (domain com.qualcomm.cloud, version 1)
//   inputs:  cache [FB, H, C, D] (T), batch_index [B, 1] (int64),
//            ctx_indices [B, C'] or [1, C'] or [C'] (int64)
//   output:  [B, H, C', D]: out[b, h, i, :] =
//            cache[batch_index[b, 0], h, ctx_indices[b, i], :].
//
// MoE (domain com.qualcomm.cloud, version 1) — routed experts
//   inputs:  x [..., H] (f32), router_logits [..., E] (f32, the same leading
//            dims), gate [E, F, H], up [E, F, H], down [E, H, F] (f32 or a
//            quantized constant: expert weights in Linear [out, in] layout)
//   attrs:   top_k (int, 1 <= k <= E), scoring (int: 0 softmax over the E
//            logits, 1 sigmoid of each logit; default 0), norm_topk_prob
//            (int 0/1: divide the k selected scores by their sum; default 0),
//            score_on_input (int 0/1: scale the expert's input instead of its
//            output; default 0), activation (int, default 0: 0 SiLU
//            u * sigmoid(u); 1 GELU, exact: 0.5 u (1 + erf(u / sqrt 2)); 2
//            GELU, tanh form: 0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3))))
//   output:  y [..., H]. For each row t (all leading dims flattened):
//            sel = the k largest router_logits[t] (a larger logit first;
//            among equal logits the lower expert index first — ONNX TopK's
//            order); s_e = softmax(router_logits[t])_e or sigmoid(logit_e);
//            w_j = s_{sel_j}, / sum_j s_{sel_j} when norm_topk_prob;
//            FFN_e(u) = down_e (act(gate_e u) * (up_e u)) (matrix-vector with
//            the [out, in] weights); y[t] = sum_j w_j FFN_{sel_j}(x[t]), or
//            with score_on_input y[t] = sum_j FFN_{sel_j}(w_j x[t]); the sum
//            runs over j = 0..k-1 in that order. Experts not selected for a
//            row contribute nothing (an implementation may skip them).
//            Mixtral: softmax, norm 1; Qwen3-MoE: softmax, norm =
//            norm_topk_prob; Llama 4: sigmoid, norm 0, score_on_input 1;
//            Grok-1: softmax, norm 0, GELU exact (HF); llama.cpp's grok
//            renormalises (norm 1) and uses the tanh GELU (activation 2).
//            Shared experts, router biases and their gates are ordinary
//            graph ops around this one.
//
// Errors are absl::InvalidArgument naming the op (and node).
#ifndef QEFF_IR_CUSTOM_OPS_H_
#define QEFF_IR_CUSTOM_OPS_H_

#include "absl/strings/string_view.h"

namespace qeff::ir {

inline constexpr absl::string_view kCustomRMSNormOp = "CustomRMSNorm";
inline constexpr absl::string_view kCtxScatterOp = "CtxScatter";
inline constexpr absl::string_view kCtxGatherOp = "CtxGather";
inline constexpr absl::string_view kCtxScatterCBOp = "CtxScatterCB";
inline constexpr absl::string_view kCtxGatherCBOp = "CtxGatherCB";
inline constexpr absl::string_view kMoEOp = "MoE";
inline constexpr float kCustomRMSNormDefaultEpsilon = 1e-6f;

}  // namespace qeff::ir

#endif  // QEFF_IR_CUSTOM_OPS_H_
