// ONNX Conv (opset 11+): X [N, C, D1..Dk], W [M, C/group, K1..Kk], optional
// B [M] → Y [N, M, O1..Ok] with Oi = floor((Di + pad_begin + pad_end -
// dilation * (Ki - 1) - 1) / stride) + 1 (symbolic when Di is). auto_pad
// NOTSET and VALID are inferred; SAME_UPPER/SAME_LOWER are too (Oi =
// ceil(Di / stride)). Used by the wav2vec2/HuBERT feature encoder and the
// grouped positional convolution.
#include "base/status_macros.h"
#include "ir/schemas_internal.h"

namespace qeff::ir::schemas {
namespace {

absl::Status Conv(InferenceContext& ctx) {
  const TensorType& x = ctx.input_type(0);
  const TensorType& w = ctx.input_type(1);
  if (x.dtype != w.dtype)
    return Error("X ", x.ToString(), " and W ", w.ToString(),
                 " differ in dtype");
  if (ctx.has_input(2) && ctx.input_type(2).dtype != x.dtype)
    return Error("B differs in dtype from X");
  if (!IsFloat(x.dtype)) return Error("X must be a float tensor");
  if (!x.shape.ranked() || !w.shape.ranked()) {
    SetOutput(
        ctx, 0, x.dtype,
        x.shape.ranked() ? UnknownDims(x.shape.rank()) : Shape::Unranked());
    return absl::OkStatus();
  }
  const int rank = x.shape.rank();
  if (rank < 3) return Error("X must have rank >= 3, got ", rank);
  if (w.shape.rank() != rank)
    return Error("W rank ", w.shape.rank(), " differs from X rank ", rank);
  const int k = rank - 2;
  const Node& n = ctx.node();
  const int64_t group = n.GetInt("group", 1);
  if (group < 1) return Error("group must be >= 1, got ", group);
  auto list = [&](const char* name, int64_t def,
                  size_t len) -> absl::StatusOr<std::vector<int64_t>> {
    std::vector<int64_t> v = n.GetInts(name);
    if (v.empty()) v.assign(len, def);
    if (v.size() != len)
      return Error(name, " has ", v.size(), " values, expected ", len);
    return v;
  };
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> strides, list("strides", 1, k));
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> dil, list("dilations", 1, k));
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> pads, list("pads", 0, 2 * k));
  for (int i = 0; i < k; ++i) {
    if (strides[i] < 1 || dil[i] < 1)
      return Error("strides and dilations must be >= 1");
    if (pads[i] < 0 || pads[k + i] < 0) return Error("pads must be >= 0");
  }
  const std::string auto_pad = n.GetString("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" &&
      auto_pad != "SAME_LOWER")
    return Error("auto_pad '", auto_pad, "' is not a Conv auto_pad value");
  const std::vector<Dim>& xd = x.shape.dims();
  const std::vector<Dim>& wd = w.shape.dims();
  if (xd[1].is_static() && wd[1].is_static() &&
      xd[1].value() != wd[1].value() * group)
    return Error("X has ", xd[1].value(), " channels; W takes ", wd[1].value(),
                 " per group x ", group, " groups");
  if (wd[0].is_static() && wd[0].value() % group != 0)
    return Error("W's ", wd[0].value(), " output channels are not a multiple ",
                 "of group ", group);
  std::vector<int64_t> kernel = n.GetInts("kernel_shape");
  std::vector<Dim> out = {xd[0], wd[0]};
  for (int i = 0; i < k; ++i) {
    const Dim& ki = wd[2 + i];
    if (!kernel.empty() && ki.is_static() && kernel.size() == size_t(k) &&
        kernel[i] != ki.value())
      return Error("kernel_shape differs from W's shape");
    const Dim& di = xd[2 + i];
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out.push_back(Dim::FloorDiv(di + Dim(strides[i] - 1), Dim(strides[i])));
      continue;
    }
    if (!ki.is_static()) {
      out.push_back(Dim::Unknown());
      continue;
    }
    const int64_t pad = auto_pad == "VALID" ? 0 : pads[i] + pads[k + i];
    const int64_t span = dil[i] * (ki.value() - 1) + 1;
    if (di.is_static() && di.value() + pad < span)
      return Error("input length ", di.value(), " (+ padding ", pad,
                   ") is shorter than the kernel span ", span, " on axis ",
                   2 + i);
    out.push_back(Dim::FloorDiv(di + Dim(pad - span), Dim(strides[i])) +
                  Dim(1));
  }
  SetOutput(ctx, 0, x.dtype, Shape(out));
  return absl::OkStatus();
}

}  // namespace

void RegisterConvOps(Registry* r) {
  OpSchema s;
  s.op_type = "Conv";
  s.min_inputs = 2;
  s.max_inputs = 3;
  s.infer = Conv;
  s.attrs = {Attr("auto_pad", kString), Attr("dilations", kInts),
             Attr("group", kInt),       Attr("kernel_shape", kInts),
             Attr("pads", kInts),       Attr("strides", kInts)};
  r->push_back(std::move(s));
}

}  // namespace qeff::ir::schemas
