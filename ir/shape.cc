#include "ir/shape.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"

namespace qeff::ir {

// Expression tree of a symbolic or derived dim. Leaves are symbols or
// numbers; inner nodes are binary operators.
struct Dim::Expr {
  char op = 0;  // 0: leaf; '+', '-', '*', '/' (floor division)
  std::string symbol;
  int64_t value = 0;
  bool is_number = false;
  Dim lhs, rhs;
};

namespace {

int64_t FloorDivInt(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

Dim::Dim(int64_t v) : kind_(Kind::kStatic), value_(v) {}

Dim Dim::Symbol(absl::string_view name) {
  Dim d;
  d.kind_ = Kind::kSymbol;
  auto e = std::make_shared<Expr>();
  e->symbol = std::string(name);
  d.expr_ = std::move(e);
  return d;
}

Dim Dim::Unknown() {
  Dim d;
  d.kind_ = Kind::kUnknown;
  return d;
}

const std::string& Dim::symbol() const {
  QEFF_CHECK(kind_ == Kind::kSymbol);
  return expr_->symbol;
}

static Dim MakeBinary(char op, const Dim& a, const Dim& b) {
  if (a.is_unknown() || b.is_unknown()) return Dim::Unknown();
  if (a.is_static() && b.is_static()) {
    switch (op) {
      case '+':
        return a.value() + b.value();
      case '-':
        return a.value() - b.value();
      case '*':
        return a.value() * b.value();
      case '/':
        if (b.value() == 0) return Dim::Unknown();
        return FloorDivInt(a.value(), b.value());
    }
  }
  // Identities keep expressions short.
  if (op == '+' && b.is_static() && b.value() == 0) return a;
  if (op == '+' && a.is_static() && a.value() == 0) return b;
  if (op == '-' && b.is_static() && b.value() == 0) return a;
  if (op == '*' && b.is_static() && b.value() == 1) return a;
  if (op == '*' && a.is_static() && a.value() == 1) return b;
  if (op == '/' && b.is_static() && b.value() == 1) return a;
  return Dim::Derived(op, a, b);
}

Dim Dim::Derived(char op, const Dim& a, const Dim& b) {
  Dim d;
  d.kind_ = Kind::kDerived;
  auto e = std::make_shared<Expr>();
  e->op = op;
  e->lhs = a;
  e->rhs = b;
  d.expr_ = std::move(e);
  return d;
}

Dim operator+(const Dim& a, const Dim& b) { return MakeBinary('+', a, b); }
Dim operator-(const Dim& a, const Dim& b) { return MakeBinary('-', a, b); }
Dim operator*(const Dim& a, const Dim& b) { return MakeBinary('*', a, b); }
Dim Dim::FloorDiv(const Dim& a, const Dim& b) { return MakeBinary('/', a, b); }

bool Dim::operator==(const Dim& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kStatic:
      return value_ == o.value_;
    case Kind::kUnknown:
      return false;  // two unknown dims are not known to be equal
    case Kind::kSymbol:
      return expr_->symbol == o.expr_->symbol;
    case Kind::kDerived:
      return expr_->op == o.expr_->op && expr_->lhs == o.expr_->lhs &&
             expr_->rhs == o.expr_->rhs;
  }
  return false;
}

Dim Dim::Bind(const SymbolBindings& b) const {
  switch (kind_) {
    case Kind::kStatic:
    case Kind::kUnknown:
      return *this;
    case Kind::kSymbol: {
      auto it = b.find(expr_->symbol);
      return it == b.end() ? *this : Dim(it->second);
    }
    case Kind::kDerived:
      return MakeBinary(expr_->op, expr_->lhs.Bind(b), expr_->rhs.Bind(b));
  }
  return *this;
}

absl::StatusOr<int64_t> Dim::Evaluate(const SymbolBindings& b) const {
  Dim d = Bind(b);
  if (d.is_static()) return d.value();
  if (d.is_unknown())
    return absl::InvalidArgumentError("dimension is unknown ('?')");
  std::vector<std::string> syms;
  d.CollectSymbols(&syms);
  return absl::InvalidArgumentError(
      absl::StrCat("symbol '", syms.empty() ? "" : syms[0],
                   "' is not bound (in dim ", ToString(), ")"));
}

void Dim::CollectSymbols(std::vector<std::string>* out) const {
  if (kind_ == Kind::kSymbol) {
    for (const auto& s : *out)
      if (s == expr_->symbol) return;
    out->push_back(expr_->symbol);
  } else if (kind_ == Kind::kDerived) {
    expr_->lhs.CollectSymbols(out);
    expr_->rhs.CollectSymbols(out);
  }
}

std::string Dim::ToString() const {
  switch (kind_) {
    case Kind::kStatic:
      return absl::StrCat(value_);
    case Kind::kUnknown:
      return "?";
    case Kind::kSymbol:
      return expr_->symbol;
    case Kind::kDerived: {
      const char* op = expr_->op == '/' ? " // " : nullptr;
      std::string o = op ? op : std::string(" ") + expr_->op + " ";
      return absl::StrCat("(", expr_->lhs.ToString(), o, expr_->rhs.ToString(),
                          ")");
    }
  }
  return "?";
}

namespace {

// Recursive-descent parser for dim expressions:
//   expr := term (('+'|'-') term)*
//   term := atom (('*'|'//') atom)*
//   atom := number | identifier | '?' | '(' expr ')'
class DimParser {
 public:
  explicit DimParser(absl::string_view s) : s_(s) {}

  absl::StatusOr<Dim> ParseAll() {
    QEFF_ASSIGN_OR_RETURN(Dim d, ParseExpr());
    SkipSpace();
    if (pos_ != s_.size()) return Error("unexpected trailing text");
    return d;
  }

 private:
  absl::Status Error(absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad dimension '", s_, "' at column ", pos_ + 1, ": ", what));
  }
  void SkipSpace() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  absl::StatusOr<Dim> ParseExpr() {
    QEFF_ASSIGN_OR_RETURN(Dim lhs, ParseTerm());
    while (true) {
      SkipSpace();
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
        char op = s_[pos_++];
        QEFF_ASSIGN_OR_RETURN(Dim rhs, ParseTerm());
        lhs = Dim::Derived(op, lhs, rhs);
      } else {
        return lhs;
      }
    }
  }
  absl::StatusOr<Dim> ParseTerm() {
    QEFF_ASSIGN_OR_RETURN(Dim lhs, ParseAtom());
    while (true) {
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == '*') {
        ++pos_;
        QEFF_ASSIGN_OR_RETURN(Dim rhs, ParseAtom());
        lhs = Dim::Derived('*', lhs, rhs);
      } else if (s_.substr(pos_, 2) == "//") {
        pos_ += 2;
        QEFF_ASSIGN_OR_RETURN(Dim rhs, ParseAtom());
        lhs = Dim::Derived('/', lhs, rhs);
      } else {
        return lhs;
      }
    }
  }
  absl::StatusOr<Dim> ParseAtom() {
    SkipSpace();
    if (pos_ >= s_.size()) return Error("expected a dimension");
    char c = s_[pos_];
    if (c == '?') {
      ++pos_;
      return Dim::Unknown();
    }
    if (c == '(') {
      ++pos_;
      QEFF_ASSIGN_OR_RETURN(Dim d, ParseExpr());
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ')') return Error("expected ')'");
      ++pos_;
      return d;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = pos_;
      while (pos_ < s_.size() &&
             std::isdigit(static_cast<unsigned char>(s_[pos_])))
        ++pos_;
      int64_t v;
      if (!absl::SimpleAtoi(s_.substr(start, pos_ - start), &v))
        return Error("number out of range");
      return Dim(v);
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
              s_[pos_] == '_' || s_[pos_] == '.'))
        ++pos_;
      return Dim::Symbol(s_.substr(start, pos_ - start));
    }
    return Error("expected a number, a symbol, '?' or '('");
  }

  absl::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<Dim> Dim::Parse(absl::string_view text) {
  return DimParser(text).ParseAll();
}

Shape Shape::Unranked() {
  Shape s;
  s.ranked_ = false;
  return s;
}

Shape Shape::Of(const std::vector<int64_t>& dims) {
  std::vector<Dim> d(dims.begin(), dims.end());
  return Shape(std::move(d));
}

bool Shape::is_static() const {
  if (!ranked_) return false;
  for (const auto& d : dims_)
    if (!d.is_static()) return false;
  return true;
}

std::vector<int64_t> Shape::StaticDims() const {
  QEFF_CHECK(is_static());
  std::vector<int64_t> out;
  out.reserve(dims_.size());
  for (const auto& d : dims_) out.push_back(d.value());
  return out;
}

int64_t Shape::NumElements() const { return ir::NumElements(StaticDims()); }

Shape Shape::Bind(const SymbolBindings& b) const {
  if (!ranked_) return *this;
  std::vector<Dim> out;
  out.reserve(dims_.size());
  for (const auto& d : dims_) out.push_back(d.Bind(b));
  return Shape(std::move(out));
}

std::string Shape::ToString() const {
  if (!ranked_) return "[*]";
  return absl::StrCat("[",
                      absl::StrJoin(dims_, ", ",
                                    [](std::string* out, const Dim& d) {
                                      absl::StrAppend(out, d.ToString());
                                    }),
                      "]");
}

absl::StatusOr<Shape> Shape::Parse(absl::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') {
    return absl::InvalidArgumentError(
        absl::StrCat("bad shape '", text, "': expected '[...]'"));
  }
  t = absl::StripAsciiWhitespace(t.substr(1, t.size() - 2));
  if (t == "*") return Unranked();
  std::vector<Dim> dims;
  if (t.empty()) return Shape(dims);
  // Split on top-level commas.
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= t.size(); ++i) {
    if (i == t.size() || (t[i] == ',' && depth == 0)) {
      QEFF_ASSIGN_OR_RETURN(Dim d, Dim::Parse(t.substr(start, i - start)));
      dims.push_back(d);
      start = i + 1;
    } else if (t[i] == '(') {
      ++depth;
    } else if (t[i] == ')') {
      --depth;
    }
  }
  return Shape(std::move(dims));
}

int64_t NumElements(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

}  // namespace qeff::ir
