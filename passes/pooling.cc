#include "passes/pooling.h"

#include "absl/strings/str_cat.h"
#include "ir/builder.h"

namespace qeff::passes {

using ir::Attribute;
using ir::ValueId;

absl::StatusOr<Pooling> ParsePooling(absl::string_view name) {
  if (name == "mean") return Pooling::kMean;
  if (name == "avg") return Pooling::kAvg;
  if (name == "cls") return Pooling::kCls;
  if (name == "max") return Pooling::kMax;
  if (name == "last") return Pooling::kLast;
  return absl::InvalidArgumentError(
      absl::StrCat("pooling '", name,
                   "' is not supported (supported: mean, avg, cls, max, "
                   "last; token vectors without pooling are not exported)"));
}

absl::string_view PoolingName(Pooling p) {
  switch (p) {
    case Pooling::kMean:
      return "mean";
    case Pooling::kAvg:
      return "avg";
    case Pooling::kCls:
      return "cls";
    case Pooling::kMax:
      return "max";
    case Pooling::kLast:
      return "last";
  }
  return "?";
}

absl::StatusOr<bool> PoolingTransform::Run(ir::Graph& g) {
  const auto mask_in = g.FindInput("attention_mask");
  const auto hidden_out = g.FindOutput("last_hidden_state");
  if (!mask_in || !hidden_out)
    return absl::InvalidArgumentError(
        "pooling: the graph needs the input 'attention_mask' and the output "
        "'last_hidden_state' (an encoder)");
  ir::GraphBuilder b(&g);
  const ValueId h = *hidden_out, am = *mask_in;
  auto reduce = [&](const char* op, ValueId x, const std::string& name) {
    return b.Op(
        op, {x},
        {{"axes", Attribute::Ints({1})}, {"keepdims", Attribute::Int(0)}},
        name);
  };
  // real[b, s, 1]: 1 for tokens, 0 for padding.
  ValueId is_real = b.Op("Greater", {am, b.ScalarI64(0)}, {}, "pool.is_real");
  ValueId real = b.Unsqueeze(
      b.Op("Cast", {is_real},
           {{"to", Attribute::Int(ir::DTypeToOnnx(ir::DType::kF32))}},
           "pool.real_f32"),
      {2}, "pool.real");
  ValueId pooled = ir::kNoValue;
  switch (options_.pooling) {
    case Pooling::kMean:
    case Pooling::kAvg: {
      ValueId sum =
          b.Op("ReduceSum", {b.Mul(h, real, "pool.masked"), b.ConstI64({1})},
               {{"keepdims", Attribute::Int(0)}}, "pool.sum");
      ValueId count = b.Op("ReduceSum", {real, b.ConstI64({1})},
                           {{"keepdims", Attribute::Int(0)}}, "pool.count");
      ValueId safe =
          b.Op("Max", {count, b.ScalarF32(1e-9f)}, {}, "pool.count_clamped");
      pooled = b.Op("Div", {sum, safe}, {}, "pool.mean");
      break;
    }
    case Pooling::kCls:
      pooled = b.Op("Gather", {h, b.ScalarI64(0)},
                    {{"axis", Attribute::Int(1)}}, "pool.cls");
      break;
    case Pooling::kMax: {
      ValueId pad = b.Unsqueeze(b.Op("Not", {is_real}, {}, "pool.is_pad"), {2},
                                "pool.pad");
      ValueId filled =
          b.Op("Where", {pad, b.ScalarF32(-1e9f), h}, {}, "pool.pad_filled");
      pooled = reduce("ReduceMax", filled, "pool.max");
      break;
    }
    case Pooling::kLast: {
      // The last index holding the row's largest mask value (1).
      ValueId real_i64 =
          b.Op("Cast", {is_real},
               {{"to", Attribute::Int(ir::DTypeToOnnx(ir::DType::kI64))}},
               "pool.real_i64");
      ValueId idx = b.Op("ArgMax", {real_i64},
                         {{"axis", Attribute::Int(1)},
                          {"keepdims", Attribute::Int(1)},
                          {"select_last_index", Attribute::Int(1)}},
                         "pool.last_index");
      pooled = b.Op("GatherND", {h, idx}, {{"batch_dims", Attribute::Int(1)}},
                    "pool.last");
      break;
    }
  }
  if (options_.l2_normalize) {
    ValueId sq =
        b.Op("ReduceSum", {b.Mul(pooled, pooled, "pool.sq"), b.ConstI64({-1})},
             {{"keepdims", Attribute::Int(1)}}, "pool.sq_sum");
    ValueId norm =
        b.Op("Max", {b.Op("Sqrt", {sq}, {}, "pool.norm"), b.ScalarF32(1e-12f)},
             {}, "pool.norm_clamped");
    pooled = b.Op("Div", {pooled, norm}, {}, "pool.normalized");
  }
  g.SetOutputs({b.Op("Identity", {pooled}, {}, "output")});
  return true;
}

}  // namespace qeff::passes
