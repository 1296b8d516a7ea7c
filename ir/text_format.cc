// The text printer. See ir/TEXT_FORMAT.md for the grammar.
#include "ir/text_format.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/text_format_internal.h"

namespace qeff::ir {

namespace {

using text_internal::IsIdentChar;
using text_internal::IsIdentStart;
using text_internal::IsNameChar;

bool IsSimpleName(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])) ||
      s[0] == '-' || s.back() == ':')
    return false;
  for (char c : s)
    if (!IsNameChar(c)) return false;
  return true;
}

bool IsIdent(const std::string& s) {
  if (s.empty() || !IsIdentStart(s[0])) return false;
  for (char c : s)
    if (!IsIdentChar(c)) return false;
  return true;
}

std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string FormatReal(double v, int digits) {
  if (std::isnan(v)) return std::signbit(v) ? "-nan" : "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
  return buf;
}

// A float attribute: always recognizably a float (`1.0`, `1e-05`, `inf`).
std::string FormatFloatAttr(float f) {
  std::string s = FormatReal(f, 9);
  if (s.find_first_of(".ein") == std::string::npos) s += ".0";
  return s;
}

std::string FormatElement(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kF32:
      return FormatReal(t.data<float>()[i], 9);
    case DType::kF64:
      return FormatReal(t.data<double>()[i], 17);
    case DType::kF16:
    case DType::kBF16:
      return FormatReal(t.GetDouble(i), 9);
    case DType::kBool:
      return t.raw()[i] ? "true" : "false";
    case DType::kU64:
      return absl::StrCat(t.data<uint64_t>()[i]);
    default:
      return absl::StrCat(t.GetInt(i));
  }
}

std::string TensorData(const Tensor& t, const PrintOptions& o) {
  if (!t.has_storage()) return "0x";
  if (t.is_quantized() || t.num_elements() > o.max_inline_elements) {
    if (o.elide_large_tensors) return "...";
    static const char kHex[] = "0123456789abcdef";
    std::string s = "0x";
    s.reserve(2 + 2 * t.byte_size());
    const uint8_t* p = t.raw();
    for (size_t i = 0; i < t.byte_size(); ++i) {
      s += kHex[p[i] >> 4];
      s += kHex[p[i] & 15];
    }
    return s;
  }
  std::string s = "[";
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (i) s += ", ";
    s += FormatElement(t, i);
  }
  return s + "]";
}

template <typename T, typename F>
std::string List(const char* kind, const std::vector<T>& v, F f) {
  if (v.empty()) return absl::StrCat(kind, "[]");
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += f(v[i]);
  }
  return s + "]";
}

std::string FormatAttr(const Attribute& a, const PrintOptions& o) {
  switch (a.kind()) {
    case Attribute::Kind::kInt:
      return absl::StrCat(a.i());
    case Attribute::Kind::kFloat:
      return FormatFloatAttr(a.f());
    case Attribute::Kind::kString:
      return Quote(a.s());
    case Attribute::Kind::kTensor:
      return absl::StrCat("tensor(", a.t().TypeString(), " ",
                          TensorData(a.t(), o), ")");
    case Attribute::Kind::kInts:
      return List("ints", a.ints(), [](int64_t v) { return absl::StrCat(v); });
    case Attribute::Kind::kFloats:
      return List("floats", a.floats(), FormatFloatAttr);
    case Attribute::Kind::kStrings:
      return List("strings", a.strings(),
                  [](const std::string& s) { return Quote(s); });
  }
  return "";
}

// Assigns every printed value a unique label: `%name`, `%"odd name"`,
// `%name@2` for the second value with the same name, `%0`, `%1`... for
// unnamed values, in print order.
class Labels {
 public:
  const std::string& Get(const Graph& g, ValueId v) {
    auto it = labels_.find(v);
    if (it != labels_.end()) return it->second;
    std::string label;
    if (v < 0 || v >= g.num_values()) {
      label = absl::StrCat("%\"<missing value ", v, ">\"");
    } else {
      const std::string& name = g.value(v).name;
      if (name.empty()) {
        label = absl::StrCat("%", unnamed_++);
      } else {
        label = absl::StrCat("%", IsSimpleName(name) ? name : Quote(name));
        int n = ++seen_[name];
        if (n > 1) absl::StrAppend(&label, "@", n);
      }
    }
    return labels_.emplace(v, std::move(label)).first->second;
  }

 private:
  absl::flat_hash_map<ValueId, std::string> labels_;
  absl::flat_hash_map<std::string, int> seen_;
  int unnamed_ = 0;
};

}  // namespace

std::string PrintGraph(const Graph& g, const PrintOptions& o) {
  std::vector<NodeId> order;
  auto topo = g.TopologicalOrder();
  order = topo.ok() ? *topo : g.LiveNodes();
  std::vector<ValueId> consts;
  for (ValueId v = 0; v < g.num_values(); ++v)
    if (g.value(v).is_constant() && !g.value(v).is_graph_input)
      consts.push_back(v);

  // Labels in definition order first, so uses before definitions (only in
  // cyclic graphs) still print the definition's label.
  Labels labels;
  for (ValueId v : g.inputs()) labels.Get(g, v);
  for (ValueId v : consts) labels.Get(g, v);
  for (NodeId n : order)
    for (ValueId v : g.node(n).outputs) labels.Get(g, v);

  std::string s =
      absl::StrCat("graph ", IsIdent(g.name) ? g.name : Quote(g.name), " (");
  bool first = true;
  for (const auto& [domain, version] : g.opsets) {
    if (!first) s += ", ";
    first = false;
    absl::StrAppend(&s, domain.empty() ? std::string("opset") : domain, " ",
                    version);
  }
  s += ") {\n";
  for (ValueId v : g.inputs()) {
    const Value& val = g.value(v);
    absl::StrAppend(&s, "  input ", labels.Get(g, v), ": ");
    if (val.is_constant()) {
      absl::StrAppend(&s, val.constant->TypeString(), " = ",
                      TensorData(*val.constant, o), "\n");
    } else {
      absl::StrAppend(&s, val.type.ToString(), "\n");
    }
  }
  for (ValueId v : consts) {
    const Tensor& t = *g.value(v).constant;
    absl::StrAppend(&s, "  const ", labels.Get(g, v), ": ", t.TypeString(),
                    " = ", TensorData(t, o), "\n");
  }
  for (NodeId id : order) {
    const Node& n = g.node(id);
    s += "  ";
    if (!n.outputs.empty()) {
      for (size_t i = 0; i < n.outputs.size(); ++i) {
        if (i) s += ", ";
        s += labels.Get(g, n.outputs[i]);
      }
      s += " = ";
    }
    if (!n.domain.empty()) absl::StrAppend(&s, n.domain, ".");
    absl::StrAppend(&s, n.op_type, "(");
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (i) s += ", ";
      s += n.inputs[i] == kNoValue ? std::string("_")
                                   : labels.Get(g, n.inputs[i]);
    }
    s += ")";
    if (!n.attrs.empty()) {
      s += " {";
      bool f = true;
      for (const auto& [name, a] : n.attrs) {
        if (!f) s += ", ";
        f = false;
        absl::StrAppend(&s, IsIdent(name) ? name : Quote(name), "=",
                        FormatAttr(a, o));
      }
      s += "}";
    }
    if (!n.outputs.empty()) {
      s += " : ";
      for (size_t i = 0; i < n.outputs.size(); ++i) {
        if (i) s += ", ";
        s += g.value(n.outputs[i]).type.ToString();
      }
    }
    if (!n.name.empty()) absl::StrAppend(&s, " @", Quote(n.name));
    s += "\n";
  }
  for (ValueId v : g.outputs())
    absl::StrAppend(&s, "  output ", labels.Get(g, v), "\n");
  s += "}\n";
  return s;
}

}  // namespace qeff::ir
