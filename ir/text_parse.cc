// The text parser. See ir/TEXT_FORMAT.md for the grammar.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/text_format.h"
#include "ir/text_format_internal.h"

namespace qeff::ir {

namespace {

using text_internal::IsIdentChar;
using text_internal::IsIdentStart;
using text_internal::IsNameChar;

struct Ref {
  std::string label;  // unique key of the label, "_" for an omitted input
  std::string name;   // the value name it stands for ("" when unnamed)
  size_t pos;
};

struct PendingNode {
  NodeId id;
  std::vector<Ref> inputs;
};

class Parser {
 public:
  explicit Parser(absl::string_view t) : t_(t) {}

  absl::StatusOr<Graph> Parse() {
    Graph g;
    QEFF_RETURN_IF_ERROR(ExpectWord("graph"));
    SkipWs();
    if (Peek() == '"') {
      QEFF_ASSIGN_OR_RETURN(g.name, ParseString());
    } else {
      QEFF_ASSIGN_OR_RETURN(g.name, ParseIdent("a graph name"));
    }
    QEFF_RETURN_IF_ERROR(Expect('('));
    g.opsets.clear();
    SkipWs();
    if (Peek() != ')') {
      while (true) {
        QEFF_ASSIGN_OR_RETURN(std::string domain, ParseIdent("an opset"));
        if (domain == "opset") domain = "";
        QEFF_ASSIGN_OR_RETURN(int64_t version, ParseInt());
        g.opsets[domain] = version;
        SkipWs();
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        break;
      }
    }
    QEFF_RETURN_IF_ERROR(Expect(')'));
    QEFF_RETURN_IF_ERROR(Expect('{'));
    std::vector<PendingNode> nodes;
    std::vector<Ref> outputs;
    while (true) {
      SkipWs();
      if (AtEnd()) return Error("expected '}' closing the graph");
      if (Peek() == '}') {
        ++pos_;
        break;
      }
      size_t stmt = pos_;
      if (Peek() == '%') {
        QEFF_RETURN_IF_ERROR(ParseNode(g, &nodes));
        continue;
      }
      QEFF_ASSIGN_OR_RETURN(std::string word,
                            ParseIdent("'input', 'const', 'output' or a node"));
      if (word == "input" || word == "const") {
        QEFF_ASSIGN_OR_RETURN(Ref r, ParseRef());
        QEFF_RETURN_IF_ERROR(Expect(':'));
        QEFF_ASSIGN_OR_RETURN(TypeSpec ts, ParseTypeSpec());
        ValueId v;
        SkipWs();
        if (word == "const" || Peek() == '=') {
          QEFF_RETURN_IF_ERROR(Expect('='));
          if (!ts.shape.is_static())
            return ErrorAt(stmt, "a constant needs a static shape");
          QEFF_ASSIGN_OR_RETURN(Tensor data, ParseTensorData(ts));
          v = g.AddConstant(r.name, std::move(data));
          if (word == "input") {
            std::vector<ValueId> ins = g.inputs();
            ins.push_back(v);
            g.SetInputs(ins);
          }
        } else {
          if (ts.quant != QuantFormat::kNone)
            return ErrorAt(stmt, "a graph input cannot be quantized");
          v = g.AddInput(r.name, {ts.dtype, ts.shape});
        }
        QEFF_RETURN_IF_ERROR(Define(r, v));
      } else if (word == "output") {
        while (true) {
          QEFF_ASSIGN_OR_RETURN(Ref r, ParseRef());
          outputs.push_back(r);
          SkipWs();
          if (Peek() != ',') break;
          ++pos_;
        }
      } else {
        pos_ = stmt;  // a node without outputs
        QEFF_RETURN_IF_ERROR(ParseNode(g, &nodes));
      }
    }
    SkipWs();
    if (!AtEnd()) return Error("expected the end of the text after '}'");
    for (const PendingNode& p : nodes) {
      g.node(p.id).inputs.assign(p.inputs.size(), kNoValue);
      for (size_t i = 0; i < p.inputs.size(); ++i) {
        if (p.inputs[i].label == "_") continue;
        QEFF_ASSIGN_OR_RETURN(ValueId v, Lookup(p.inputs[i]));
        g.SetNodeInput(p.id, static_cast<int>(i), v);
      }
    }
    for (const Ref& r : outputs) {
      QEFF_ASSIGN_OR_RETURN(ValueId v, Lookup(r));
      g.AddOutput(v);
    }
    return g;
  }

 private:
  struct TypeSpec {
    QuantFormat quant = QuantFormat::kNone;
    DType dtype = DType::kF32;
    Shape shape;
  };

  // --- errors and positions ---
  absl::Status ErrorAt(size_t pos, absl::string_view what) const {
    int line = 1, col = 1;
    for (size_t i = 0; i < pos && i < t_.size(); ++i) {
      if (t_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string found = pos >= t_.size() ? std::string("end of text")
                                         : absl::StrCat("'", Snippet(pos), "'");
    return absl::InvalidArgumentError(
        absl::StrCat(line, ":", col, ": ", what, " (found ", found, ")"));
  }
  std::string Snippet(size_t pos) const {
    size_t end = pos;
    while (end < t_.size() && end - pos < 16 && t_[end] != '\n') ++end;
    if (end == pos) return "\\n";
    return std::string(t_.substr(pos, end - pos));
  }
  absl::Status Error(absl::string_view what) const {
    return ErrorAt(pos_, what);
  }

  // --- lexing ---
  bool AtEnd() const { return pos_ >= t_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < t_.size() ? t_[pos_ + ahead] : '\0';
  }
  void SkipWs() {
    while (!AtEnd()) {
      char c = Peek();
      if (c == '#') {
        while (!AtEnd() && Peek() != '\n') ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }
  absl::Status Expect(char c) {
    SkipWs();
    if (Peek() != c)
      return Error(absl::StrCat("expected '", std::string(1, c), "'"));
    ++pos_;
    return absl::OkStatus();
  }
  absl::Status ExpectWord(absl::string_view w) {
    SkipWs();
    size_t start = pos_;
    auto id = ParseIdent(absl::StrCat("'", w, "'"));
    if (!id.ok()) return id.status();
    if (*id != w) return ErrorAt(start, absl::StrCat("expected '", w, "'"));
    return absl::OkStatus();
  }
  // Dotted identifier: [A-Za-z_][A-Za-z0-9_]* ('.' ...)*
  absl::StatusOr<std::string> ParseIdent(absl::string_view what) {
    SkipWs();
    if (!IsIdentStart(Peek())) return Error(absl::StrCat("expected ", what));
    size_t start = pos_;
    while (IsIdentChar(Peek()) || (Peek() == '.' && IsIdentStart(Peek(1))))
      ++pos_;
    return std::string(t_.substr(start, pos_ - start));
  }
  absl::StatusOr<int64_t> ParseInt() {
    SkipWs();
    size_t start = pos_;
    if (Peek() == '-') ++pos_;
    while (std::isdigit(static_cast<unsigned char>(Peek()))) ++pos_;
    int64_t v;
    if (!absl::SimpleAtoi(t_.substr(start, pos_ - start), &v))
      return ErrorAt(start, "expected an integer");
    return v;
  }
  absl::StatusOr<std::string> ParseString() {
    SkipWs();
    if (Peek() != '"') return Error("expected a string");
    size_t start = pos_++;
    std::string out;
    while (true) {
      if (AtEnd() || Peek() == '\n')
        return ErrorAt(start, "unterminated string");
      char c = t_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = Peek();
      ++pos_;
      switch (e) {
        case '"':
        case '\\':
          out += e;
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'x': {
          int v = 0;
          for (int k = 0; k < 2; ++k) {
            char h = Peek();
            if (!std::isxdigit(static_cast<unsigned char>(h)))
              return Error("expected two hex digits after \\x");
            v = v * 16 + (std::isdigit(static_cast<unsigned char>(h))
                              ? h - '0'
                              : std::tolower(h) - 'a' + 10);
            ++pos_;
          }
          out += static_cast<char>(v);
          break;
        }
        default:
          return ErrorAt(pos_ - 2,
                         "unknown escape (use \\\" \\\\ \\n \\t \\r \\xHH)");
      }
    }
    return out;
  }
  // A number token: sign, digits, '.', exponent, inf, nan.
  absl::StatusOr<std::string> NumberToken() {
    SkipWs();
    size_t start = pos_;
    if (Peek() == '-' || Peek() == '+') ++pos_;
    if (t_.substr(pos_, 3) == "inf" || t_.substr(pos_, 3) == "nan") {
      pos_ += 3;
    } else {
      while (std::isdigit(static_cast<unsigned char>(Peek())) ||
             Peek() == '.' || Peek() == 'e' || Peek() == 'E' ||
             ((Peek() == '-' || Peek() == '+') &&
              (t_[pos_ - 1] == 'e' || t_[pos_ - 1] == 'E')))
        ++pos_;
    }
    if (pos_ == start || (pos_ == start + 1 &&
                          !std::isdigit(static_cast<unsigned char>(t_[start]))))
      return ErrorAt(start, "expected a number");
    return std::string(t_.substr(start, pos_ - start));
  }
  static bool LooksFloat(const std::string& s) {
    return s.find_first_of(".eEn") != std::string::npos;
  }
  absl::StatusOr<double> ToDouble(const std::string& s, size_t pos) {
    if (s == "nan" || s == "+nan") return std::nan("");
    if (s == "-nan") return -std::nan("");
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return ErrorAt(pos, "bad number");
    return v;
  }
  absl::StatusOr<float> ToFloat(const std::string& s, size_t pos) {
    if (s == "nan" || s == "+nan") return std::nanf("");
    if (s == "-nan") return -std::nanf("");
    char* end = nullptr;
    float v = std::strtof(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return ErrorAt(pos, "bad number");
    return v;
  }

  // --- values ---
  // `%name`, `%"quoted"`, `%12` (unnamed), each with an optional `@N`.
  absl::StatusOr<Ref> ParseRef() {
    SkipWs();
    Ref r{"", "", pos_};
    if (Peek() == '_' && !IsNameChar(Peek(1))) {
      ++pos_;
      r.label = "_";
      return r;
    }
    if (Peek() != '%') return Error("expected a value ('%name')");
    ++pos_;
    std::string name;
    if (Peek() == '"') {
      QEFF_ASSIGN_OR_RETURN(name, ParseString());
    } else if (std::isdigit(static_cast<unsigned char>(Peek()))) {
      size_t s = pos_;
      while (std::isdigit(static_cast<unsigned char>(Peek()))) ++pos_;
      r.label = absl::StrCat("#", t_.substr(s, pos_ - s));
      return r;
    } else {
      size_t s = pos_;
      while (IsNameChar(Peek()) && !(Peek() == ':' && !IsNameChar(Peek(1))))
        ++pos_;
      if (pos_ == s) return Error("expected a value name after '%'");
      name = std::string(t_.substr(s, pos_ - s));
    }
    r.name = name;
    r.label = absl::StrCat(name.size(), ":", name);
    if (Peek() == '@') {
      ++pos_;
      size_t s = pos_;
      while (std::isdigit(static_cast<unsigned char>(Peek()))) ++pos_;
      if (pos_ == s) return Error("expected a number after '@'");
      absl::StrAppend(&r.label, "@", t_.substr(s, pos_ - s));
    }
    return r;
  }
  absl::Status Define(const Ref& r, ValueId v) {
    if (r.label == "_") return ErrorAt(r.pos, "expected a value, not '_'");
    if (!defs_.emplace(r.label, v).second)
      return ErrorAt(r.pos, "value defined twice");
    return absl::OkStatus();
  }
  absl::StatusOr<ValueId> Lookup(const Ref& r) {
    auto it = defs_.find(r.label);
    if (it == defs_.end()) return ErrorAt(r.pos, "undefined value");
    return it->second;
  }

  // --- types and tensors ---
  absl::StatusOr<Shape> ParseShape() {
    SkipWs();
    if (Peek() != '[') return Error("expected a shape '[...]'");
    size_t start = pos_;
    while (!AtEnd() && Peek() != ']' && Peek() != '\n') ++pos_;
    if (Peek() != ']') return ErrorAt(start, "unterminated shape");
    ++pos_;
    auto s = Shape::Parse(t_.substr(start, pos_ - start));
    if (!s.ok()) return ErrorAt(start, s.status().message());
    return s;
  }
  absl::StatusOr<TypeSpec> ParseTypeSpec() {
    SkipWs();
    size_t start = pos_;
    TypeSpec ts;
    QEFF_ASSIGN_OR_RETURN(std::string word,
                          ParseIdent("a dtype (f32, i64, ...)"));
    if (auto q = ParseQuantFormat(word); q.ok() && *q != QuantFormat::kNone) {
      ts.quant = *q;
      start = pos_;
      QEFF_ASSIGN_OR_RETURN(word, ParseIdent("a dtype"));
    }
    auto dt = ParseDType(word);
    if (!dt.ok())
      return ErrorAt(start, absl::StrCat("unknown dtype '", word, "'"));
    ts.dtype = *dt;
    QEFF_ASSIGN_OR_RETURN(ts.shape, ParseShape());
    return ts;
  }
  absl::StatusOr<Tensor> ParseTensorData(const TypeSpec& ts) {
    SkipWs();
    size_t start = pos_;
    std::vector<int64_t> dims = ts.shape.StaticDims();
    if (t_.substr(pos_, 3) == "...")
      return Error("elided tensor data ('...') cannot be parsed");
    if (t_.substr(pos_, 2) == "0x") {
      pos_ += 2;
      size_t s = pos_;
      while (std::isxdigit(static_cast<unsigned char>(Peek()))) ++pos_;
      size_t n = pos_ - s;
      QEFF_ASSIGN_OR_RETURN(size_t need,
                            TensorByteSize(ts.dtype, ts.quant, dims));
      if (n != 2 * need)
        return ErrorAt(
            start, absl::StrCat("expected ", need, " bytes of hex data, got ",
                                n / 2.0));
      auto buf = Buffer::Allocate(need);
      for (size_t i = 0; i < need; ++i) {
        auto hex = [](char c) {
          return std::isdigit(static_cast<unsigned char>(c))
                     ? c - '0'
                     : std::tolower(c) - 'a' + 10;
        };
        buf->mutable_data()[i] = static_cast<uint8_t>(hex(t_[s + 2 * i]) * 16 +
                                                      hex(t_[s + 2 * i + 1]));
      }
      auto t = ts.quant == QuantFormat::kNone
                   ? Tensor::FromBuffer(ts.dtype, dims, buf)
                   : Tensor::FromQuantized(ts.quant, ts.dtype, dims, buf);
      if (!t.ok()) return ErrorAt(start, t.status().message());
      return t;
    }
    if (ts.quant != QuantFormat::kNone)
      return Error("quantized data must be hex ('0x...')");
    QEFF_RETURN_IF_ERROR(Expect('['));
    // Every element takes at least one character of the text: a shape with
    // more elements than the rest of the text is refused before allocating.
    const int64_t room = static_cast<int64_t>(t_.size() - pos_);
    int64_t elements = 1;
    for (int64_t d : dims) {
      if (d < 0) return ErrorAt(start, "constant data needs a static shape");
      elements = (d > 0 && elements > room / d) ? room + 1 : elements * d;
    }
    if (elements > room)
      return ErrorAt(start, absl::StrCat("the shape's elements cannot fit in "
                                         "the ",
                                         room, " characters left"));
    Tensor t = Tensor::Zeros(ts.dtype, dims);
    int64_t n = t.num_elements(), i = 0;
    SkipWs();
    while (Peek() != ']') {
      if (i > 0) QEFF_RETURN_IF_ERROR(Expect(','));
      if (i >= n) return Error(absl::StrCat("more than ", n, " elements"));
      QEFF_RETURN_IF_ERROR(ParseElement(&t, i++));
      SkipWs();
    }
    ++pos_;
    if (i != n)
      return ErrorAt(start, absl::StrCat("expected ", n, " elements, got ", i));
    return t;
  }
  absl::Status ParseElement(Tensor* t, int64_t i) {
    SkipWs();
    size_t start = pos_;
    if (t->dtype() == DType::kBool) {
      QEFF_ASSIGN_OR_RETURN(std::string w, ParseIdent("true or false"));
      if (w != "true" && w != "false")
        return ErrorAt(start, "expected true or false");
      t->mutable_raw()[i] = w == "true";
      return absl::OkStatus();
    }
    QEFF_ASSIGN_OR_RETURN(std::string tok, NumberToken());
    if (IsFloat(t->dtype())) {
      if (t->dtype() == DType::kF64) {
        QEFF_ASSIGN_OR_RETURN(t->mutable_data<double>()[i],
                              ToDouble(tok, start));
        return absl::OkStatus();
      }
      QEFF_ASSIGN_OR_RETURN(float f, ToFloat(tok, start));
      if (t->dtype() == DType::kF32)
        t->mutable_data<float>()[i] = f;
      else if (t->dtype() == DType::kF16)
        t->mutable_data<uint16_t>()[i] = FloatToHalf(f);
      else
        t->mutable_data<uint16_t>()[i] = FloatToBFloat16(f);
      return absl::OkStatus();
    }
    if (t->dtype() == DType::kU64) {
      uint64_t u;
      if (!absl::SimpleAtoi(tok, &u))
        return ErrorAt(start, "expected an unsigned integer");
      t->mutable_data<uint64_t>()[i] = u;
      return absl::OkStatus();
    }
    int64_t v;
    if (!absl::SimpleAtoi(tok, &v))
      return ErrorAt(start, "expected an integer");
    uint8_t* p = t->mutable_raw();
    switch (t->dtype()) {
      case DType::kI8:
        reinterpret_cast<int8_t*>(p)[i] = static_cast<int8_t>(v);
        break;
      case DType::kU8:
        p[i] = static_cast<uint8_t>(v);
        break;
      case DType::kI16:
        reinterpret_cast<int16_t*>(p)[i] = static_cast<int16_t>(v);
        break;
      case DType::kU16:
        reinterpret_cast<uint16_t*>(p)[i] = static_cast<uint16_t>(v);
        break;
      case DType::kI32:
        reinterpret_cast<int32_t*>(p)[i] = static_cast<int32_t>(v);
        break;
      case DType::kU32:
        reinterpret_cast<uint32_t*>(p)[i] = static_cast<uint32_t>(v);
        break;
      default:
        reinterpret_cast<int64_t*>(p)[i] = v;
        break;
    }
    return absl::OkStatus();
  }

  // --- attributes ---
  absl::StatusOr<Attribute> ParseAttrValue() {
    SkipWs();
    size_t start = pos_;
    if (Peek() == '"') {
      QEFF_ASSIGN_OR_RETURN(std::string s, ParseString());
      return Attribute::String(std::move(s));
    }
    std::string kind;
    if (IsIdentStart(Peek()) && t_.substr(pos_, 3) != "inf" &&
        t_.substr(pos_, 3) != "nan") {
      QEFF_ASSIGN_OR_RETURN(kind, ParseIdent("an attribute value"));
      if (kind == "tensor") {
        QEFF_RETURN_IF_ERROR(Expect('('));
        QEFF_ASSIGN_OR_RETURN(TypeSpec ts, ParseTypeSpec());
        if (!ts.shape.is_static())
          return ErrorAt(start, "a tensor needs a static shape");
        QEFF_ASSIGN_OR_RETURN(Tensor t, ParseTensorData(ts));
        QEFF_RETURN_IF_ERROR(Expect(')'));
        return Attribute::TensorValue(std::move(t));
      }
      if (kind != "ints" && kind != "floats" && kind != "strings")
        return ErrorAt(start,
                       "expected a number, a string, [list], ints[...], "
                       "floats[...], strings[...] or tensor(...)");
      SkipWs();
      if (Peek() != '[') return Error("expected '['");
    }
    if (Peek() != '[') {
      QEFF_ASSIGN_OR_RETURN(std::string tok, NumberToken());
      if (LooksFloat(tok)) {
        QEFF_ASSIGN_OR_RETURN(float f, ToFloat(tok, start));
        return Attribute::Float(f);
      }
      int64_t v;
      if (!absl::SimpleAtoi(tok, &v)) return ErrorAt(start, "bad integer");
      return Attribute::Int(v);
    }
    ++pos_;
    std::vector<std::string> strs;
    std::vector<std::pair<std::string, size_t>> nums;
    bool any_float = false, is_str = kind == "strings";
    SkipWs();
    while (Peek() != ']') {
      if (!strs.empty() || !nums.empty()) QEFF_RETURN_IF_ERROR(Expect(','));
      SkipWs();
      if (Peek() == '"' || is_str) {
        if (!nums.empty()) return Error("a list mixes strings and numbers");
        is_str = true;
        QEFF_ASSIGN_OR_RETURN(std::string s, ParseString());
        strs.push_back(std::move(s));
      } else {
        size_t p = pos_;
        QEFF_ASSIGN_OR_RETURN(std::string tok, NumberToken());
        any_float |= LooksFloat(tok);
        nums.emplace_back(std::move(tok), p);
      }
      SkipWs();
    }
    ++pos_;
    if (kind.empty() && strs.empty() && nums.empty())
      return ErrorAt(
          start, "an empty list needs its kind: ints[], floats[] or strings[]");
    if (is_str) return Attribute::Strings(std::move(strs));
    if (kind == "floats" || (kind.empty() && any_float)) {
      std::vector<float> v;
      for (auto& [tok, p] : nums) {
        QEFF_ASSIGN_OR_RETURN(float f, ToFloat(tok, p));
        v.push_back(f);
      }
      return Attribute::Floats(std::move(v));
    }
    std::vector<int64_t> v;
    for (auto& [tok, p] : nums) {
      int64_t x;
      if (!absl::SimpleAtoi(tok, &x)) return ErrorAt(p, "expected an integer");
      v.push_back(x);
    }
    return Attribute::Ints(std::move(v));
  }

  // outputs '=' [domain.]Op '(' inputs ')' ['{' attrs '}'] [':' types]
  // ['@' "name"]
  absl::Status ParseNode(Graph& g, std::vector<PendingNode>* nodes) {
    std::vector<Ref> outs;
    SkipWs();
    if (Peek() == '%') {
      while (true) {
        QEFF_ASSIGN_OR_RETURN(Ref r, ParseRef());
        outs.push_back(r);
        SkipWs();
        if (Peek() != ',') break;
        ++pos_;
      }
      QEFF_RETURN_IF_ERROR(Expect('='));
    }
    SkipWs();
    size_t op_pos = pos_;
    QEFF_ASSIGN_OR_RETURN(std::string full, ParseIdent("an op type"));
    size_t dot = full.rfind('.');
    std::string domain = dot == std::string::npos ? "" : full.substr(0, dot);
    std::string op = dot == std::string::npos ? full : full.substr(dot + 1);
    if (op.empty()) return ErrorAt(op_pos, "expected an op type");
    QEFF_RETURN_IF_ERROR(Expect('('));
    PendingNode p;
    SkipWs();
    while (Peek() != ')') {
      if (!p.inputs.empty()) QEFF_RETURN_IF_ERROR(Expect(','));
      QEFF_ASSIGN_OR_RETURN(Ref r, ParseRef());
      p.inputs.push_back(r);
      SkipWs();
    }
    ++pos_;
    std::map<std::string, Attribute> attrs;
    SkipWs();
    if (Peek() == '{') {
      ++pos_;
      SkipWs();
      while (Peek() != '}') {
        if (!attrs.empty()) QEFF_RETURN_IF_ERROR(Expect(','));
        SkipWs();
        size_t apos = pos_;
        std::string name;
        if (Peek() == '"') {
          QEFF_ASSIGN_OR_RETURN(name, ParseString());
        } else {
          QEFF_ASSIGN_OR_RETURN(name, ParseIdent("an attribute name"));
        }
        QEFF_RETURN_IF_ERROR(Expect('='));
        QEFF_ASSIGN_OR_RETURN(Attribute a, ParseAttrValue());
        if (!attrs.emplace(name, std::move(a)).second)
          return ErrorAt(apos,
                         absl::StrCat("attribute '", name, "' given twice"));
        SkipWs();
      }
      ++pos_;
    }
    std::vector<TensorType> types(outs.size());
    SkipWs();
    if (!outs.empty()) {
      QEFF_RETURN_IF_ERROR(Expect(':'));
      for (size_t i = 0; i < outs.size(); ++i) {
        if (i) QEFF_RETURN_IF_ERROR(Expect(','));
        SkipWs();
        size_t tpos = pos_;
        QEFF_ASSIGN_OR_RETURN(TypeSpec ts, ParseTypeSpec());
        if (ts.quant != QuantFormat::kNone)
          return ErrorAt(tpos, "a node output cannot be quantized");
        types[i] = {ts.dtype, ts.shape};
      }
    }
    std::string name;
    SkipWs();
    if (Peek() == '@') {
      ++pos_;
      QEFF_ASSIGN_OR_RETURN(name, ParseString());
    }
    NodeId id = g.AddNode(op, {}, static_cast<int>(outs.size()),
                          std::move(attrs), name, domain);
    for (size_t i = 0; i < outs.size(); ++i) {
      ValueId v = g.node(id).outputs[i];
      g.value(v).name = outs[i].name;
      g.value(v).type = types[i];
      QEFF_RETURN_IF_ERROR(Define(outs[i], v));
    }
    p.id = id;
    nodes->push_back(std::move(p));
    return absl::OkStatus();
  }

  absl::string_view t_;
  size_t pos_ = 0;
  absl::flat_hash_map<std::string, ValueId> defs_;
};

}  // namespace

absl::StatusOr<Graph> ParseGraph(absl::string_view text) {
  return Parser(text).Parse();
}

}  // namespace qeff::ir
