// Dimensions and shapes. A dimension is static (a number), symbolic (a named
// symbol such as `seq_len`), derived (an expression of symbols and numbers:
// `+ - * floordiv`, e.g. `ctx_len - 1`), or unknown (`?`, data-dependent).
// A shape is a list of dimensions, or unranked.
#ifndef QEFF_IR_SHAPE_H_
#define QEFF_IR_SHAPE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qeff::ir {

using SymbolBindings = absl::flat_hash_map<std::string, int64_t>;

class Dim {
 public:
  enum class Kind : uint8_t { kStatic, kSymbol, kDerived, kUnknown };

  Dim() : Dim(int64_t{0}) {}
  Dim(int64_t v);  // NOLINT: implicit, so shapes read like {2, 3}
  static Dim Symbol(absl::string_view name);
  static Dim Unknown();

  Kind kind() const { return kind_; }
  bool is_static() const { return kind_ == Kind::kStatic; }
  bool is_unknown() const { return kind_ == Kind::kUnknown; }
  int64_t value() const { return value_; }  // static dims only
  // The symbol's name (kSymbol only).
  const std::string& symbol() const;

  // Arithmetic folds static operands; otherwise makes a derived dim.
  friend Dim operator+(const Dim& a, const Dim& b);
  friend Dim operator-(const Dim& a, const Dim& b);
  friend Dim operator*(const Dim& a, const Dim& b);
  static Dim FloorDiv(const Dim& a, const Dim& b);
  // An unsimplified expression node (the parser's; prefer the operators).
  static Dim Derived(char op, const Dim& a, const Dim& b);

  // Structural equality (same expression text).
  bool operator==(const Dim& o) const;
  bool operator!=(const Dim& o) const { return !(*this == o); }

  // Binds symbols; a dim whose symbols are all bound becomes static.
  // Unbound symbols stay symbolic.
  Dim Bind(const SymbolBindings& b) const;
  // Evaluates to a number, or an error naming the unbound symbol.
  absl::StatusOr<int64_t> Evaluate(const SymbolBindings& b) const;
  void CollectSymbols(std::vector<std::string>* out) const;

  // Text form: `4`, `seq_len`, `(ctx_len - 1)`, `?`. Parse accepts the same.
  std::string ToString() const;
  static absl::StatusOr<Dim> Parse(absl::string_view text);

 private:
  struct Expr;
  Kind kind_;
  int64_t value_ = 0;
  std::shared_ptr<const Expr> expr_;  // symbol or derived expression
};

class Shape {
 public:
  Shape() = default;                                        // rank 0 (a scalar)
  Shape(std::vector<Dim> dims) : dims_(std::move(dims)) {}  // NOLINT
  Shape(std::initializer_list<Dim> dims) : dims_(dims) {}
  static Shape Unranked();
  // All-static shape from numbers.
  static Shape Of(const std::vector<int64_t>& dims);

  bool ranked() const { return ranked_; }
  int rank() const { return static_cast<int>(dims_.size()); }
  const std::vector<Dim>& dims() const { return dims_; }
  std::vector<Dim>& mutable_dims() { return dims_; }
  const Dim& operator[](int i) const { return dims_[i]; }
  bool is_static() const;
  // Numbers of a static shape (QEFF_CHECKs is_static()).
  std::vector<int64_t> StaticDims() const;
  // Product of a static shape; 1 for a scalar.
  int64_t NumElements() const;

  Shape Bind(const SymbolBindings& b) const;
  bool operator==(const Shape& o) const {
    return ranked_ == o.ranked_ && dims_ == o.dims_;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }

  // `[2, seq_len, ?]`, `[]` for a scalar, `[*]` unranked.
  std::string ToString() const;
  static absl::StatusOr<Shape> Parse(absl::string_view text);

 private:
  std::vector<Dim> dims_;
  bool ranked_ = true;
};

// Product of static dims; 1 for an empty list.
int64_t NumElements(const std::vector<int64_t>& dims);

}  // namespace qeff::ir

#endif  // QEFF_IR_SHAPE_H_
