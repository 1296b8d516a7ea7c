#include "models/gguf.h"

#include <cstring>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"

namespace qeff::models {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxDims = 4;                  // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;

// A bounds-checked little-endian reader over the mapped bytes.
class Cursor {
 public:
  Cursor(const ir::MappedFile& f) : f_(f) {}
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return f_.size() - pos_; }

  template <typename T>
  absl::StatusOr<T> Read(absl::string_view field) {
    if (remaining() < sizeof(T)) return Truncated(field, sizeof(T));
    T v;
    std::memcpy(&v, f_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  absl::StatusOr<std::string> ReadString(absl::string_view field) {
    QEFF_ASSIGN_OR_RETURN(uint64_t n, Read<uint64_t>(field));
    if (n > remaining()) {
      return absl::InvalidArgumentError(absl::StrCat(
          f_.path(), ": ", field, ": string length ", n, " at offset ",
          pos_ - 8, " is past end of file (", f_.size(), " bytes)"));
    }
    std::string s(reinterpret_cast<const char*>(f_.data() + pos_), n);
    pos_ += n;
    return s;
  }

  absl::Status Truncated(absl::string_view field, uint64_t need) const {
    return absl::InvalidArgumentError(absl::StrCat(
        f_.path(), ": truncated: ", field, " needs ", need, " bytes at offset ",
        pos_, " but the file has ", f_.size(), " bytes"));
  }

 private:
  const ir::MappedFile& f_;
  uint64_t pos_ = 0;
};

// The smallest number of bytes one element of `t` takes in the file.
uint64_t MinValueBytes(GgufType t) {
  switch (t) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kString:  // length
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
      return 8;
    case GgufType::kArray:  // type + count
      return 12;
  }
  return 1;
}

bool ValidType(uint32_t t) { return t <= 12; }

absl::StatusOr<GgufValue> ReadValue(Cursor& c, GgufType type,
                                    const std::string& field, int depth) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case GgufType::kU8: {
      QEFF_ASSIGN_OR_RETURN(v.u, c.Read<uint8_t>(field));
      break;
    }
    case GgufType::kI8: {
      QEFF_ASSIGN_OR_RETURN(v.i, c.Read<int8_t>(field));
      break;
    }
    case GgufType::kU16: {
      QEFF_ASSIGN_OR_RETURN(v.u, c.Read<uint16_t>(field));
      break;
    }
    case GgufType::kI16: {
      QEFF_ASSIGN_OR_RETURN(v.i, c.Read<int16_t>(field));
      break;
    }
    case GgufType::kU32: {
      QEFF_ASSIGN_OR_RETURN(v.u, c.Read<uint32_t>(field));
      break;
    }
    case GgufType::kI32: {
      QEFF_ASSIGN_OR_RETURN(v.i, c.Read<int32_t>(field));
      break;
    }
    case GgufType::kU64: {
      QEFF_ASSIGN_OR_RETURN(v.u, c.Read<uint64_t>(field));
      break;
    }
    case GgufType::kI64: {
      QEFF_ASSIGN_OR_RETURN(v.i, c.Read<int64_t>(field));
      break;
    }
    case GgufType::kF32: {
      QEFF_ASSIGN_OR_RETURN(float f, c.Read<float>(field));
      v.f = f;
      break;
    }
    case GgufType::kF64: {
      QEFF_ASSIGN_OR_RETURN(v.f, c.Read<double>(field));
      break;
    }
    case GgufType::kBool: {
      QEFF_ASSIGN_OR_RETURN(uint8_t b, c.Read<uint8_t>(field));
      v.b = b != 0;
      break;
    }
    case GgufType::kString: {
      QEFF_ASSIGN_OR_RETURN(v.s, c.ReadString(field));
      break;
    }
    case GgufType::kArray: {
      if (depth >= kMaxArrayDepth) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ": arrays nested deeper than ", kMaxArrayDepth));
      }
      QEFF_ASSIGN_OR_RETURN(uint32_t et, c.Read<uint32_t>(field));
      if (!ValidType(et)) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": unknown array element type ", et));
      }
      v.array_type = static_cast<GgufType>(et);
      QEFF_ASSIGN_OR_RETURN(uint64_t n, c.Read<uint64_t>(field));
      if (n > c.remaining() / MinValueBytes(v.array_type)) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ": array count ", n, " of ", GgufTypeName(v.array_type),
            " does not fit in the rest of the file (", c.remaining(),
            " bytes)"));
      }
      v.array.reserve(n);
      for (uint64_t k = 0; k < n; ++k) {
        QEFF_ASSIGN_OR_RETURN(
            GgufValue e,
            ReadValue(c, v.array_type, absl::StrCat(field, "[", k, "]"),
                      depth + 1));
        v.array.push_back(std::move(e));
      }
      break;
    }
  }
  return v;
}

// Which ir type a ggml tensor type becomes.
struct IrType {
  bool ok = false;
  ir::DType dtype = ir::DType::kF32;
  ir::QuantFormat quant = ir::QuantFormat::kNone;
};

IrType ToIrType(uint32_t t) {
  using ir::DType;
  using ir::QuantFormat;
  switch (t) {
    case kGgmlF32:
      return {true, DType::kF32, QuantFormat::kNone};
    case kGgmlF16:
      return {true, DType::kF16, QuantFormat::kNone};
    case kGgmlBF16:
      return {true, DType::kBF16, QuantFormat::kNone};
    case kGgmlF64:
      return {true, DType::kF64, QuantFormat::kNone};
    case kGgmlI8:
      return {true, DType::kI8, QuantFormat::kNone};
    case kGgmlI16:
      return {true, DType::kI16, QuantFormat::kNone};
    case kGgmlI32:
      return {true, DType::kI32, QuantFormat::kNone};
    case kGgmlI64:
      return {true, DType::kI64, QuantFormat::kNone};
    case kGgmlQ8_0:
      return {true, DType::kF32, QuantFormat::kQ8_0};
    case kGgmlQ4_0:
      return {true, DType::kF32, QuantFormat::kQ4_0};
    case kGgmlQ4_K:
      return {true, DType::kF32, QuantFormat::kQ4_K};
    case kGgmlQ5_K:
      return {true, DType::kF32, QuantFormat::kQ5_K};
    case kGgmlQ6_K:
      return {true, DType::kF32, QuantFormat::kQ6_K};
    default:
      return {};
  }
}

std::string Join(const std::vector<int64_t>& v) {
  return absl::StrCat("[", absl::StrJoin(v, ", "), "]");
}

}  // namespace

absl::string_view GgufTypeName(GgufType t) {
  switch (t) {
    case GgufType::kU8:
      return "uint8";
    case GgufType::kI8:
      return "int8";
    case GgufType::kU16:
      return "uint16";
    case GgufType::kI16:
      return "int16";
    case GgufType::kU32:
      return "uint32";
    case GgufType::kI32:
      return "int32";
    case GgufType::kF32:
      return "float32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kU64:
      return "uint64";
    case GgufType::kI64:
      return "int64";
    case GgufType::kF64:
      return "float64";
  }
  return "?";
}

std::string GgmlTypeName(uint32_t type) {
  static const char* const kNames[] = {
      "f32",   "f16",   "q4_0",    "q4_1",   "type 4",  "type 5", "q5_0",
      "q5_1",  "q8_0",  "q8_1",    "q2_K",   "q3_K",    "q4_K",   "q5_K",
      "q6_K",  "q8_K",  "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s",  "iq4_nl",
      "iq3_s", "iq2_s", "iq4_xs",  "i8",     "i16",     "i32",    "i64",
      "f64",   "iq1_m", "bf16"};
  if (type < sizeof(kNames) / sizeof(kNames[0])) return kNames[type];
  return absl::StrCat("type ", type);
}

// ---- GgufValue ----

GgufValue GgufValue::U8(uint8_t v) {
  GgufValue r;
  r.type = GgufType::kU8;
  r.u = v;
  return r;
}
GgufValue GgufValue::I8(int8_t v) {
  GgufValue r;
  r.type = GgufType::kI8;
  r.i = v;
  return r;
}
GgufValue GgufValue::U16(uint16_t v) {
  GgufValue r;
  r.type = GgufType::kU16;
  r.u = v;
  return r;
}
GgufValue GgufValue::I16(int16_t v) {
  GgufValue r;
  r.type = GgufType::kI16;
  r.i = v;
  return r;
}
GgufValue GgufValue::U32(uint32_t v) {
  GgufValue r;
  r.type = GgufType::kU32;
  r.u = v;
  return r;
}
GgufValue GgufValue::I32(int32_t v) {
  GgufValue r;
  r.type = GgufType::kI32;
  r.i = v;
  return r;
}
GgufValue GgufValue::U64(uint64_t v) {
  GgufValue r;
  r.type = GgufType::kU64;
  r.u = v;
  return r;
}
GgufValue GgufValue::I64(int64_t v) {
  GgufValue r;
  r.type = GgufType::kI64;
  r.i = v;
  return r;
}
GgufValue GgufValue::F32(float v) {
  GgufValue r;
  r.type = GgufType::kF32;
  r.f = v;
  return r;
}
GgufValue GgufValue::F64(double v) {
  GgufValue r;
  r.type = GgufType::kF64;
  r.f = v;
  return r;
}
GgufValue GgufValue::Bool(bool v) {
  GgufValue r;
  r.type = GgufType::kBool;
  r.b = v;
  return r;
}
GgufValue GgufValue::String(std::string v) {
  GgufValue r;
  r.type = GgufType::kString;
  r.s = std::move(v);
  return r;
}
GgufValue GgufValue::Array(GgufType element_type,
                           std::vector<GgufValue> values) {
  GgufValue r;
  r.type = GgufType::kArray;
  r.array_type = element_type;
  r.array = std::move(values);
  return r;
}
GgufValue GgufValue::StringArray(const std::vector<std::string>& v) {
  std::vector<GgufValue> a;
  a.reserve(v.size());
  for (const auto& s : v) a.push_back(String(s));
  return Array(GgufType::kString, std::move(a));
}
GgufValue GgufValue::F32Array(const std::vector<float>& v) {
  std::vector<GgufValue> a;
  a.reserve(v.size());
  for (float f : v) a.push_back(F32(f));
  return Array(GgufType::kF32, std::move(a));
}
GgufValue GgufValue::I32Array(const std::vector<int32_t>& v) {
  std::vector<GgufValue> a;
  a.reserve(v.size());
  for (int32_t x : v) a.push_back(I32(x));
  return Array(GgufType::kI32, std::move(a));
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kU16:
    case GgufType::kI16:
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kU64:
    case GgufType::kI64:
      return true;
    default:
      return false;
  }
}

bool GgufValue::is_float() const {
  return type == GgufType::kF32 || type == GgufType::kF64;
}

namespace {
bool IsUnsigned(GgufType t) {
  return t == GgufType::kU8 || t == GgufType::kU16 || t == GgufType::kU32 ||
         t == GgufType::kU64;
}
}  // namespace

std::string GgufValue::DebugString() const {
  if (IsUnsigned(type)) return absl::StrCat(u);
  if (is_integer()) return absl::StrCat(i);
  switch (type) {
    case GgufType::kF32:
    case GgufType::kF64:
      return absl::StrCat(f);
    case GgufType::kBool:
      return b ? "true" : "false";
    case GgufType::kString:
      return absl::StrCat("\"", s.size() > 80 ? s.substr(0, 80) + "..." : s,
                          "\"");
    case GgufType::kArray: {
      std::string out =
          absl::StrCat(GgufTypeName(array_type), "[", array.size(), "] {");
      for (size_t k = 0; k < array.size() && k < 8; ++k) {
        absl::StrAppend(&out, k ? ", " : "", array[k].DebugString());
      }
      absl::StrAppend(&out, array.size() > 8 ? ", ...}" : "}");
      return out;
    }
    default:
      return "?";
  }
}

// ---- GgufFile ----

const GgufValue* GgufFile::Find(absl::string_view key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

absl::Status GgufFile::KeyError(absl::string_view key,
                                absl::string_view want) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(path_, ": metadata key '", key, "' is missing"));
  }
  std::string got(GgufTypeName(v->type));
  if (v->type == GgufType::kArray) {
    got = absl::StrCat("array of ", GgufTypeName(v->array_type));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path_, ": metadata key '", key, "' is ", got, ", expected ", want));
}

absl::StatusOr<std::string> GgufFile::GetString(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr || v->type != GgufType::kString) {
    return KeyError(key, "string");
  }
  return v->s;
}

absl::StatusOr<int64_t> GgufFile::GetInt(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr || !v->is_integer()) return KeyError(key, "an integer");
  if (IsUnsigned(v->type)) {
    if (v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::OutOfRangeError(absl::StrCat(
          path_, ": metadata key '", key, "' = ", v->u, " is out of range"));
    }
    return static_cast<int64_t>(v->u);
  }
  return v->i;
}

absl::StatusOr<uint32_t> GgufFile::GetU32(absl::string_view key) const {
  QEFF_ASSIGN_OR_RETURN(int64_t x, GetInt(key));
  if (x < 0 || x > std::numeric_limits<uint32_t>::max()) {
    return absl::OutOfRangeError(absl::StrCat(path_, ": metadata key '", key,
                                              "' = ", x, " is not a uint32"));
  }
  return static_cast<uint32_t>(x);
}

absl::StatusOr<float> GgufFile::GetF32(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr || !v->is_float()) return KeyError(key, "float32/float64");
  return static_cast<float>(v->f);
}

absl::StatusOr<bool> GgufFile::GetBool(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr || v->type != GgufType::kBool) return KeyError(key, "bool");
  return v->b;
}

absl::StatusOr<std::vector<std::string>> GgufFile::GetStringArray(
    absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr || v->type != GgufType::kArray ||
      v->array_type != GgufType::kString) {
    return KeyError(key, "array of string");
  }
  std::vector<std::string> out;
  out.reserve(v->array.size());
  for (const auto& e : v->array) out.push_back(e.s);
  return out;
}

absl::StatusOr<std::vector<float>> GgufFile::GetFloatArray(
    absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr || v->type != GgufType::kArray ||
      (v->array_type != GgufType::kF32 && v->array_type != GgufType::kF64)) {
    return KeyError(key, "array of float32/float64");
  }
  std::vector<float> out;
  out.reserve(v->array.size());
  for (const auto& e : v->array) out.push_back(static_cast<float>(e.f));
  return out;
}

absl::StatusOr<std::vector<int64_t>> GgufFile::GetIntArray(
    absl::string_view key) const {
  const GgufValue* v = Find(key);
  GgufValue probe;
  probe.type = v ? v->array_type : GgufType::kString;
  if (v == nullptr || v->type != GgufType::kArray || !probe.is_integer()) {
    return KeyError(key, "array of integers");
  }
  std::vector<int64_t> out;
  out.reserve(v->array.size());
  for (const auto& e : v->array) {
    if (IsUnsigned(e.type)) {
      if (e.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return absl::OutOfRangeError(absl::StrCat(path_, ": metadata key '",
                                                  key, "': element ", e.u,
                                                  " is out of range"));
      }
      out.push_back(static_cast<int64_t>(e.u));
    } else {
      out.push_back(e.i);
    }
  }
  return out;
}

const GgufTensorInfo* GgufFile::FindTensor(absl::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<ir::Tensor> GgufFile::GetTensor(absl::string_view name) const {
  const GgufTensorInfo* t = FindTensor(name);
  if (t == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(path_, ": no tensor named '", name, "'"));
  }
  return t->tensor;
}

// ---- parsing ----

absl::StatusOr<GgufFile> ReadGguf(const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(auto file, ir::MappedFile::Open(path));
  return ParseGguf(std::move(file));
}

absl::StatusOr<GgufFile> ParseGguf(std::shared_ptr<const ir::MappedFile> file) {
  GgufFile g;
  g.path_ = file->path();
  g.file_ = file;
  const std::string& path = g.path_;
  auto bad = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", parts...));
  };
  Cursor c(*file);

  QEFF_ASSIGN_OR_RETURN(uint32_t magic, c.Read<uint32_t>("magic"));
  if (magic != kGgufMagic) {
    return bad("bad magic 0x", absl::Hex(magic, absl::kZeroPad8),
               " (not a GGUF file)");
  }
  QEFF_ASSIGN_OR_RETURN(g.version_, c.Read<uint32_t>("version"));
  if (g.version_ == 1) {
    return bad("GGUF version 1 is not supported (re-convert to v3)");
  }
  if (g.version_ != 2 && g.version_ != 3) {
    if ((g.version_ & 0xffff) == 0) {
      return bad("version field ", g.version_,
                 " looks byte-swapped: big-endian GGUF is not supported");
    }
    return bad("unsupported GGUF version ", g.version_, " (expected 2 or 3)");
  }
  QEFF_ASSIGN_OR_RETURN(uint64_t n_tensors, c.Read<uint64_t>("tensor_count"));
  QEFF_ASSIGN_OR_RETURN(uint64_t n_kv, c.Read<uint64_t>("metadata_kv_count"));
  // Each KV takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor
  // info at least 8 + 4 + 8 + 4 + 8.
  if (n_kv > c.remaining() / 13) {
    return bad("metadata_kv_count ", n_kv, " is absurd for a file of ",
               file->size(), " bytes");
  }
  if (n_tensors > c.remaining() / 32) {
    return bad("tensor_count ", n_tensors, " is absurd for a file of ",
               file->size(), " bytes");
  }

  g.metadata_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    QEFF_ASSIGN_OR_RETURN(std::string key,
                          c.ReadString(absl::StrCat("metadata key #", k)));
    std::string field = absl::StrCat("metadata '", key, "'");
    QEFF_ASSIGN_OR_RETURN(uint32_t type, c.Read<uint32_t>(field));
    if (!ValidType(type)) {
      return bad(field, ": unknown value type ", type);
    }
    auto value = ReadValue(c, static_cast<GgufType>(type), field, 0);
    if (!value.ok()) {
      absl::string_view msg = value.status().message();
      // Cursor errors already name the file.
      if (absl::StartsWith(msg, path)) return value.status();
      return absl::Status(value.status().code(), absl::StrCat(path, ": ", msg));
    }
    if (g.metadata_index_.contains(key)) {
      return bad("duplicate metadata key '", key, "'");
    }
    g.metadata_index_[key] = g.metadata_.size();
    g.metadata_.emplace_back(std::move(key), std::move(value).value());
  }

  if (const GgufValue* a = g.Find("general.alignment")) {
    if (a->type != GgufType::kU32) {
      return bad("general.alignment is ", GgufTypeName(a->type),
                 ", expected uint32");
    }
    if (a->u == 0 || (a->u & (a->u - 1)) != 0) {
      return bad("general.alignment ", a->u, " is not a power of two");
    }
    g.alignment_ = a->u;
  }

  g.tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo t;
    QEFF_ASSIGN_OR_RETURN(t.name,
                          c.ReadString(absl::StrCat("tensor #", k, " name")));
    std::string field = absl::StrCat("tensor '", t.name, "'");
    QEFF_ASSIGN_OR_RETURN(uint32_t n_dims, c.Read<uint32_t>(field + " n_dims"));
    if (n_dims > kMaxDims) {
      return bad(field, ": n_dims ", n_dims, " > ", kMaxDims);
    }
    int64_t n_elem = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      QEFF_ASSIGN_OR_RETURN(int64_t ne, c.Read<int64_t>(field + " dims"));
      if (ne < 0) return bad(field, ": negative dimension ", ne);
      if (ne != 0 && n_elem > std::numeric_limits<int64_t>::max() / ne) {
        return bad(field, ": element count overflows");
      }
      n_elem *= ne;
      t.ne.push_back(ne);
    }
    QEFF_ASSIGN_OR_RETURN(t.ggml_type, c.Read<uint32_t>(field + " type"));
    QEFF_ASSIGN_OR_RETURN(t.offset, c.Read<uint64_t>(field + " offset"));
    if (g.tensor_index_.contains(t.name)) {
      return bad("duplicate tensor name '", t.name, "'");
    }
    g.tensor_index_[t.name] = g.tensors_.size();
    g.tensors_.push_back(std::move(t));
  }

  uint64_t pos = c.pos();
  g.data_offset_ = (pos + g.alignment_ - 1) / g.alignment_ * g.alignment_;
  if (g.data_offset_ > file->size()) {
    // Allowed only when there is nothing to read.
    if (n_tensors > 0) {
      return bad("data section at offset ", g.data_offset_,
                 " is past end of file (", file->size(), " bytes)");
    }
  }

  for (GgufTensorInfo& t : g.tensors_) {
    std::string field = absl::StrCat("tensor '", t.name, "'");
    IrType it = ToIrType(t.ggml_type);
    if (!it.ok) {
      return bad(field, ": unsupported ggml type ", GgmlTypeName(t.ggml_type));
    }
    if (t.offset % g.alignment_ != 0) {
      return bad(field, ": offset ", t.offset, " is not a multiple of the ",
                 "alignment ", g.alignment_);
    }
    std::vector<int64_t> dims(t.ne.rbegin(), t.ne.rend());
    auto nbytes = ir::TensorByteSize(it.dtype, it.quant, dims);
    if (!nbytes.ok()) {
      return bad(field, " (", GgmlTypeName(t.ggml_type), " ", Join(t.ne),
                 "): ", nbytes.status().message());
    }
    uint64_t begin = g.data_offset_ + t.offset;
    if (t.offset > file->size() || begin > file->size() ||
        *nbytes > file->size() - begin) {
      return absl::OutOfRangeError(
          absl::StrCat(path, ": ", field, ": data range [", begin, ", ",
                       begin + static_cast<uint64_t>(*nbytes),
                       ") past end of file (", file->size(), " bytes)"));
    }
    QEFF_ASSIGN_OR_RETURN(auto buffer,
                          ir::Buffer::FromMapped(file, begin, *nbytes));
    absl::StatusOr<ir::Tensor> tensor =
        it.quant == ir::QuantFormat::kNone
            ? ir::Tensor::FromBuffer(it.dtype, dims, std::move(buffer))
            : ir::Tensor::FromQuantized(it.quant, it.dtype, dims,
                                        std::move(buffer));
    if (!tensor.ok()) return bad(field, ": ", tensor.status().message());
    t.tensor = std::move(tensor).value();
  }
  return g;
}

bool SplitGgufBlockName(absl::string_view name, absl::string_view* layer,
                        absl::string_view* role) {
  if (!absl::ConsumePrefix(&name, "blk.")) return false;
  const size_t dot = name.find('.');
  if (dot == 0 || dot == absl::string_view::npos) return false;
  for (char c : name.substr(0, dot))
    if (c < '0' || c > '9') return false;
  *layer = name.substr(0, dot);
  *role = name.substr(dot + 1);
  return true;
}

}  // namespace qeff::models
