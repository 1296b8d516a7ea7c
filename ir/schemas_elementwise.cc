// Elementwise ops: unary math, binary arithmetic with numpy broadcasting,
// comparisons, logic, Where, Max/Min, Clip, Cast.
#include <functional>
#include <optional>

#include "base/status_macros.h"
#include "ir/schemas_internal.h"

namespace qeff::ir::schemas {

namespace {

using DimFn = std::function<std::optional<Dim>(const Dim&, const Dim&)>;

// Elementwise value inference over two known small vectors, broadcasting a
// single element against many.
void BinaryValue(InferenceContext& ctx, const DimFn& fn) {
  const std::vector<Dim>* a = ctx.input_dims_value(0);
  const std::vector<Dim>* b = ctx.input_dims_value(1);
  if (a == nullptr || b == nullptr) return;
  size_t n = std::max(a->size(), b->size());
  if (a->size() != n && a->size() != 1) return;
  if (b->size() != n && b->size() != 1) return;
  std::vector<Dim> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::optional<Dim> r =
        fn((*a)[a->size() == 1 ? 0 : i], (*b)[b->size() == 1 ? 0 : i]);
    out.push_back(r ? *r : Dim::Unknown());
  }
  ctx.set_output_dims_value(0, std::move(out));
}

int64_t TruncDiv(int64_t a, int64_t b) { return a / b; }

absl::Status Unary(InferenceContext& ctx) { return SameAsInput0(ctx); }

absl::Status Identity(InferenceContext& ctx) {
  ctx.outputs[0] = ctx.input_type(0);
  if (const std::vector<Dim>* v = ctx.input_dims_value(0))
    ctx.set_output_dims_value(0, *v);
  return absl::OkStatus();
}

absl::Status Neg(InferenceContext& ctx) {
  ctx.outputs[0] = ctx.input_type(0);
  if (IsInteger(ctx.input_type(0).dtype)) {
    if (const std::vector<Dim>* v = ctx.input_dims_value(0)) {
      std::vector<Dim> out;
      for (const Dim& d : *v) out.push_back(Dim(0) - d);
      ctx.set_output_dims_value(0, std::move(out));
    }
  }
  return absl::OkStatus();
}

// Broadcast shape of all inputs (omitted optional inputs skipped).
absl::StatusOr<Shape> BroadcastInputs(const InferenceContext& ctx,
                                      int first = 0) {
  std::optional<Shape> s;
  for (int i = first; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const Shape& si = ctx.input_type(i).shape;
    if (!s) {
      s = si;
    } else {
      QEFF_ASSIGN_OR_RETURN(s, BroadcastShapes(*s, si));
    }
  }
  return s ? *s : Shape::Unranked();
}

absl::Status SameDTypes(const InferenceContext& ctx, int first, int last) {
  std::optional<DType> t;
  for (int i = first; i <= last && i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    DType ti = ctx.input_type(i).dtype;
    if (t && *t != ti) {
      return Error("input ", i, " has dtype ", DTypeName(ti), ", expected ",
                   DTypeName(*t), " like input ", first);
    }
    t = ti;
  }
  return absl::OkStatus();
}

absl::Status Arith(InferenceContext& ctx, char op) {
  QEFF_RETURN_IF_ERROR(SameDTypes(ctx, 0, 1));
  QEFF_ASSIGN_OR_RETURN(Shape s, BroadcastInputs(ctx));
  DType t = ctx.input_type(0).dtype;
  SetOutput(ctx, 0, t, std::move(s));
  if (!IsInteger(t)) return absl::OkStatus();
  BinaryValue(ctx, [op](const Dim& a, const Dim& b) -> std::optional<Dim> {
    switch (op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        if (a.is_static() && b.is_static()) {
          if (b.value() == 0) return std::nullopt;
          return Dim(TruncDiv(a.value(), b.value()));
        }
        // Dims are non-negative, where floor and truncation agree.
        return Dim::FloorDiv(a, b);
      case '%':
        if (a.is_static() && b.is_static() && b.value() != 0) {
          int64_t m = a.value() % b.value();  // fmod=0: sign of divisor
          if (m != 0 && ((m < 0) != (b.value() < 0))) m += b.value();
          return Dim(m);
        }
        return std::nullopt;
    }
    return std::nullopt;
  });
  return absl::OkStatus();
}

absl::Status Pow(InferenceContext& ctx) {
  QEFF_ASSIGN_OR_RETURN(Shape s, BroadcastInputs(ctx));
  SetOutput(ctx, 0, ctx.input_type(0).dtype, std::move(s));
  return absl::OkStatus();
}

absl::Status Compare(InferenceContext& ctx, bool equal_op) {
  QEFF_RETURN_IF_ERROR(SameDTypes(ctx, 0, 1));
  QEFF_ASSIGN_OR_RETURN(Shape s, BroadcastInputs(ctx));
  SetOutput(ctx, 0, DType::kBool, std::move(s));
  if (equal_op && IsInteger(ctx.input_type(0).dtype)) {
    BinaryValue(ctx, [](const Dim& a, const Dim& b) -> std::optional<Dim> {
      if (a.is_static() && b.is_static()) return Dim(a.value() == b.value());
      if (!a.is_unknown() && a == b) return Dim(1);
      // A symbolic dim is never negative.
      if (!a.is_unknown() && !a.is_static() && b.is_static() && b.value() < 0)
        return Dim(0);
      if (!b.is_unknown() && !b.is_static() && a.is_static() && a.value() < 0)
        return Dim(0);
      return std::nullopt;
    });
  }
  return absl::OkStatus();
}

absl::Status Logical(InferenceContext& ctx) {
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.input_type(i).dtype != DType::kBool)
      return Error("input ", i, " must be bool, got ",
                   ctx.input_type(i).ToString());
  }
  QEFF_ASSIGN_OR_RETURN(Shape s, BroadcastInputs(ctx));
  SetOutput(ctx, 0, DType::kBool, std::move(s));
  return absl::OkStatus();
}

absl::Status Where(InferenceContext& ctx) {
  if (ctx.input_type(0).dtype != DType::kBool)
    return Error("condition must be bool, got ", ctx.input_type(0).ToString());
  QEFF_RETURN_IF_ERROR(SameDTypes(ctx, 1, 2));
  QEFF_ASSIGN_OR_RETURN(Shape s, BroadcastInputs(ctx));
  SetOutput(ctx, 0, ctx.input_type(1).dtype, std::move(s));
  // Value inference: a known static condition picks elements.
  const std::vector<Dim>* c = ctx.input_dims_value(0);
  const std::vector<Dim>* x = ctx.input_dims_value(1);
  const std::vector<Dim>* y = ctx.input_dims_value(2);
  if (c && x && y && IsInteger(ctx.input_type(1).dtype)) {
    size_t n = std::max({c->size(), x->size(), y->size()});
    auto at = [n](const std::vector<Dim>& v, size_t i) -> const Dim* {
      if (v.size() == n) return &v[i];
      if (v.size() == 1) return &v[0];
      return nullptr;
    };
    std::vector<Dim> out;
    for (size_t i = 0; i < n; ++i) {
      const Dim *ci = at(*c, i), *xi = at(*x, i), *yi = at(*y, i);
      if (!ci || !xi || !yi) return absl::OkStatus();
      if (!ci->is_static())
        out.push_back(Dim::Unknown());
      else
        out.push_back(ci->value() ? *xi : *yi);
    }
    ctx.set_output_dims_value(0, std::move(out));
  }
  return absl::OkStatus();
}

absl::Status Variadic(InferenceContext& ctx) {
  QEFF_RETURN_IF_ERROR(SameDTypes(ctx, 0, ctx.num_inputs() - 1));
  QEFF_ASSIGN_OR_RETURN(Shape s, BroadcastInputs(ctx));
  SetOutput(ctx, 0, ctx.input_type(0).dtype, std::move(s));
  return absl::OkStatus();
}

absl::Status Clip(InferenceContext& ctx) {
  QEFF_RETURN_IF_ERROR(SameDTypes(ctx, 0, 2));
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const Shape& s = ctx.input_type(i).shape;
    if (s.ranked() && s.rank() != 0 && !(s.rank() == 1 && s[0] == Dim(1)))
      return Error("input ", i, " (min/max) must be a scalar, got ",
                   s.ToString());
  }
  return SameAsInput0(ctx);
}

absl::Status Cast(InferenceContext& ctx) {
  QEFF_ASSIGN_OR_RETURN(
      DType t, DTypeFromOnnx(static_cast<int>(ctx.node().GetInt("to", 0))));
  SetOutput(ctx, 0, t, ctx.input_type(0).shape);
  if (IsInteger(t) && IsInteger(ctx.input_type(0).dtype)) {
    if (const std::vector<Dim>* v = ctx.input_dims_value(0))
      ctx.set_output_dims_value(0, *v);
  }
  return absl::OkStatus();
}

OpSchema Make(std::string op, int min_in, int max_in,
              std::function<absl::Status(InferenceContext&)> f,
              std::vector<AttrSpec> attrs = {}) {
  OpSchema s;
  s.op_type = std::move(op);
  s.min_inputs = min_in;
  s.max_inputs = max_in;
  s.infer = std::move(f);
  s.attrs = std::move(attrs);
  return s;
}

}  // namespace

void RegisterElementwise(Registry* r) {
  for (const char* op :
       {"Sqrt", "Reciprocal", "Exp", "Log", "Tanh", "Erf", "Sigmoid", "Relu",
        "Abs", "Floor", "Ceil", "Sign", "Sin", "Cos", "Softplus"}) {
    r->push_back(Make(op, 1, 1, Unary));
  }
  r->push_back(Make("Identity", 1, 1, Identity));
  r->push_back(Make("Neg", 1, 1, Neg));
  r->push_back(Make("Add", 2, 2, [](auto& c) { return Arith(c, '+'); }));
  r->push_back(Make("Sub", 2, 2, [](auto& c) { return Arith(c, '-'); }));
  r->push_back(Make("Mul", 2, 2, [](auto& c) { return Arith(c, '*'); }));
  r->push_back(Make("Div", 2, 2, [](auto& c) { return Arith(c, '/'); }));
  r->push_back(Make("Mod", 2, 2,
                    [](InferenceContext& c) {
                      return Arith(c, c.node().GetInt("fmod", 0) ? 'f' : '%');
                    },
                    {Attr("fmod", kInt)}));
  r->push_back(Make("Pow", 2, 2, Pow));
  r->push_back(Make("Equal", 2, 2, [](auto& c) { return Compare(c, true); }));
  for (const char* op : {"Less", "Greater", "LessOrEqual", "GreaterOrEqual"})
    r->push_back(Make(op, 2, 2, [](auto& c) { return Compare(c, false); }));
  for (const char* op : {"And", "Or", "Xor"})
    r->push_back(Make(op, 2, 2, Logical));
  r->push_back(Make("Not", 1, 1, Logical));
  r->push_back(Make("Where", 3, 3, Where));
  r->push_back(Make("Max", 1, kVariadic, Variadic));
  r->push_back(Make("Min", 1, kVariadic, Variadic));
  r->push_back(Make("Clip", 1, 3, Clip));
  r->push_back(Make("Cast", 1, 1, Cast, {Attr("to", kInt, true)}));
}

}  // namespace qeff::ir::schemas
