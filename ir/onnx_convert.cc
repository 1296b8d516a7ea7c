#include "ir/onnx_convert.h"

#include <cstring>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"

namespace qeff::ir::onnx_internal {
namespace {

absl::Status Invalid(const std::string& what, absl::string_view msg) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", msg));
}

// Copies `n` elements of a repeated field into `dst` as T.
template <typename T, typename Field>
void CopyAs(const Field& f, uint8_t* dst) {
  T* out = reinterpret_cast<T*>(dst);
  for (int i = 0; i < f.size(); ++i) out[i] = static_cast<T>(f.Get(i));
}

}  // namespace

absl::StatusOr<std::shared_ptr<Buffer>> ExternalData::Resolve(
    const onnx::TensorProto& t, size_t bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  bool has_location = false;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
      has_location = true;
    } else if (kv.key() == "offset" || kv.key() == "length") {
      int64_t v;
      if (!absl::SimpleAtoi(kv.value(), &v) || v < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor '", t.name(), "': bad external data ",
                         kv.key(), " '", kv.value(), "'"));
      }
      (kv.key() == "offset" ? offset : length) = v;
    }
    // "checksum" and other keys are informational.
  }
  if (!has_location || location.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor '", t.name(), "': external data without a location"));
  }
  if (location[0] == '/' ||
      absl::StrContains(absl::StrCat("/", location, "/"), "/../")) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", t.name(), "': external data location '",
                     location, "' must be relative to the model's directory"));
  }
  std::string path =
      model_dir_.empty() ? location : absl::StrCat(model_dir_, "/", location);
  auto it = files_.find(path);
  if (it == files_.end()) {
    auto file = MappedFile::Open(path);
    if (!file.ok()) {
      return absl::NotFoundError(absl::StrCat("tensor '", t.name(),
                                              "': external data file '", path,
                                              "': ", file.status().message()));
    }
    it = files_.emplace(path, *std::move(file)).first;
  }
  if (length >= 0 && static_cast<size_t>(length) != bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", t.name(), "': external data length ", length,
                     " but its type needs ", bytes, " bytes"));
  }
  auto buf = Buffer::FromMapped(it->second, static_cast<size_t>(offset), bytes);
  if (!buf.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", t.name(), "': external data in '", path,
                     "': ", buf.status().message()));
  }
  return *std::move(buf);
}

absl::StatusOr<Tensor> TensorFromProto(const onnx::TensorProto& t,
                                       ExternalData* external,
                                       const std::string& what) {
  if (t.has_segment())
    return Invalid(what, "segmented tensors are not supported");
  auto dt = DTypeFromOnnx(t.data_type());
  if (!dt.ok()) {
    return Invalid(
        what, absl::StrCat(
                  "unsupported element type ",
                  onnx::TensorProto_DataType_Name(
                      static_cast<onnx::TensorProto_DataType>(t.data_type()))));
  }
  DType dtype = *dt;
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  for (int64_t d : dims)
    if (d < 0) return Invalid(what, absl::StrCat("negative dimension ", d));
  auto bytes_or = TensorByteSize(dtype, QuantFormat::kNone, dims);
  if (!bytes_or.ok()) return Invalid(what, bytes_or.status().message());
  size_t bytes = *bytes_or;
  int64_t n = NumElements(dims);

  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    if (external == nullptr)
      return Invalid(what, "external data not allowed here");
    QEFF_ASSIGN_OR_RETURN(std::shared_ptr<Buffer> buf,
                          external->Resolve(t, bytes));
    // Kernels read elements through typed pointers: copy a misaligned window.
    if (reinterpret_cast<uintptr_t>(buf->data()) % DTypeSize(dtype) != 0)
      buf = Buffer::Copy(buf->data(), buf->size());
    return Tensor::FromBuffer(dtype, std::move(dims), std::move(buf));
  }
  if (t.has_raw_data()) {
    if (t.raw_data().size() != bytes) {
      return Invalid(what, absl::StrCat("raw_data has ", t.raw_data().size(),
                                        " bytes, its type needs ", bytes));
    }
    return Tensor::FromBuffer(dtype, std::move(dims),
                              Buffer::Copy(t.raw_data().data(), bytes));
  }
  std::shared_ptr<Buffer> buf = Buffer::Allocate(bytes);
  uint8_t* dst = buf->mutable_data();
  auto check_count = [&](int count, absl::string_view field) -> absl::Status {
    // An empty typed field with elements expected is an error too, except
    // for tensors with no elements.
    if (count != n) {
      return Invalid(what, absl::StrCat(field, " has ", count,
                                        " elements, its shape needs ", n));
    }
    return absl::OkStatus();
  };
  switch (dtype) {
    case DType::kF32:
      QEFF_RETURN_IF_ERROR(check_count(t.float_data_size(), "float_data"));
      CopyAs<float>(t.float_data(), dst);
      break;
    case DType::kF64:
      QEFF_RETURN_IF_ERROR(check_count(t.double_data_size(), "double_data"));
      CopyAs<double>(t.double_data(), dst);
      break;
    case DType::kF16:
    case DType::kBF16:
    case DType::kU16:
      QEFF_RETURN_IF_ERROR(check_count(t.int32_data_size(), "int32_data"));
      CopyAs<uint16_t>(t.int32_data(), dst);
      break;
    case DType::kI16:
      QEFF_RETURN_IF_ERROR(check_count(t.int32_data_size(), "int32_data"));
      CopyAs<int16_t>(t.int32_data(), dst);
      break;
    case DType::kI8:
      QEFF_RETURN_IF_ERROR(check_count(t.int32_data_size(), "int32_data"));
      CopyAs<int8_t>(t.int32_data(), dst);
      break;
    case DType::kU8:
    case DType::kBool:
      QEFF_RETURN_IF_ERROR(check_count(t.int32_data_size(), "int32_data"));
      CopyAs<uint8_t>(t.int32_data(), dst);
      break;
    case DType::kI32:
      QEFF_RETURN_IF_ERROR(check_count(t.int32_data_size(), "int32_data"));
      CopyAs<int32_t>(t.int32_data(), dst);
      break;
    case DType::kI64:
      QEFF_RETURN_IF_ERROR(check_count(t.int64_data_size(), "int64_data"));
      CopyAs<int64_t>(t.int64_data(), dst);
      break;
    case DType::kU32:
      QEFF_RETURN_IF_ERROR(check_count(t.uint64_data_size(), "uint64_data"));
      CopyAs<uint32_t>(t.uint64_data(), dst);
      break;
    case DType::kU64:
      QEFF_RETURN_IF_ERROR(check_count(t.uint64_data_size(), "uint64_data"));
      CopyAs<uint64_t>(t.uint64_data(), dst);
      break;
  }
  return Tensor::FromBuffer(dtype, std::move(dims), std::move(buf));
}

absl::StatusOr<TensorType> TypeFromProto(const onnx::TypeProto& t,
                                         const std::string& what) {
  if (!t.has_tensor_type()) {
    return Invalid(what,
                   "only tensor types are supported (not sequence, map, "
                   "optional or sparse tensor)");
  }
  const auto& tt = t.tensor_type();
  TensorType out;
  auto dt = DTypeFromOnnx(tt.elem_type());
  if (!dt.ok()) {
    return Invalid(
        what,
        absl::StrCat(
            "unsupported element type ",
            onnx::TensorProto_DataType_Name(
                static_cast<onnx::TensorProto_DataType>(tt.elem_type()))));
  }
  out.dtype = *dt;
  if (!tt.has_shape()) return out;  // unranked
  std::vector<Dim> dims;
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value()) {
      if (d.dim_value() < 0)
        return Invalid(what,
                       absl::StrCat("negative dim_value ", d.dim_value()));
      dims.push_back(Dim(d.dim_value()));
    } else if (d.has_dim_param() && !d.dim_param().empty()) {
      auto parsed = Dim::Parse(d.dim_param());
      // A name the dim grammar does not read ("batch size") is still a
      // symbol; its text is kept verbatim.
      dims.push_back(parsed.ok() ? *parsed : Dim::Symbol(d.dim_param()));
    } else {
      dims.push_back(Dim::Unknown());
    }
  }
  out.shape = Shape(std::move(dims));
  return out;
}

absl::StatusOr<Attribute> AttributeFromProto(const onnx::AttributeProto& a,
                                             const std::string& what) {
  if (!a.ref_attr_name().empty()) {
    return Invalid(what,
                   absl::StrCat("refers to attribute '", a.ref_attr_name(),
                                "' outside a function body"));
  }
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      return Attribute::Int(a.i());
    case onnx::AttributeProto::FLOAT:
      return Attribute::Float(a.f());
    case onnx::AttributeProto::STRING:
      return Attribute::String(a.s());
    case onnx::AttributeProto::TENSOR: {
      QEFF_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(a.t(), nullptr, what));
      return Attribute::TensorValue(std::move(t));
    }
    case onnx::AttributeProto::INTS:
      return Attribute::Ints(
          std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case onnx::AttributeProto::FLOATS:
      return Attribute::Floats(
          std::vector<float>(a.floats().begin(), a.floats().end()));
    case onnx::AttributeProto::STRINGS:
      return Attribute::Strings(
          std::vector<std::string>(a.strings().begin(), a.strings().end()));
    case onnx::AttributeProto::GRAPH:
    case onnx::AttributeProto::GRAPHS:
      return Invalid(what, "graph attributes (control flow) are not supported");
    case onnx::AttributeProto::SPARSE_TENSOR:
    case onnx::AttributeProto::SPARSE_TENSORS:
      return Invalid(what, "sparse tensor attributes are not supported");
    case onnx::AttributeProto::TYPE_PROTO:
    case onnx::AttributeProto::TYPE_PROTOS:
      return Invalid(what, "type attributes are not supported");
    default:
      return Invalid(what,
                     absl::StrCat("attribute type ", static_cast<int>(a.type()),
                                  " is not set or unknown"));
  }
}

void TypeToProto(const TensorType& t, onnx::TypeProto* out) {
  auto* tt = out->mutable_tensor_type();
  tt->set_elem_type(DTypeToOnnx(t.dtype));
  if (!t.shape.ranked()) return;
  auto* shape = tt->mutable_shape();
  for (const Dim& d : t.shape.dims()) {
    auto* pd = shape->add_dim();
    if (d.is_static()) {
      pd->set_dim_value(d.value());
    } else if (!d.is_unknown()) {
      pd->set_dim_param(d.ToString());
    }
  }
}

absl::Status TensorToProto(const Tensor& t, onnx::TensorProto* out) {
  if (t.is_quantized()) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantized tensor ", t.TypeString(),
                     " must be dequantized before export"));
  }
  out->set_data_type(DTypeToOnnx(t.dtype()));
  for (int64_t d : t.dims()) out->add_dims(d);
  if (t.has_storage() && t.byte_size() > 0)
    out->set_raw_data(t.raw(), t.byte_size());
  else if (t.num_elements() > 0)
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", t.TypeString(), " has no storage"));
  return absl::OkStatus();
}

absl::Status AttributeToProto(const std::string& name, const Attribute& a,
                              onnx::AttributeProto* out) {
  out->set_name(name);
  switch (a.kind()) {
    case Attribute::Kind::kInt:
      out->set_type(onnx::AttributeProto::INT);
      out->set_i(a.i());
      break;
    case Attribute::Kind::kFloat:
      out->set_type(onnx::AttributeProto::FLOAT);
      out->set_f(a.f());
      break;
    case Attribute::Kind::kString:
      out->set_type(onnx::AttributeProto::STRING);
      out->set_s(a.s());
      break;
    case Attribute::Kind::kTensor:
      out->set_type(onnx::AttributeProto::TENSOR);
      QEFF_RETURN_IF_ERROR(TensorToProto(a.t(), out->mutable_t()));
      break;
    case Attribute::Kind::kInts:
      out->set_type(onnx::AttributeProto::INTS);
      for (int64_t v : a.ints()) out->add_ints(v);
      break;
    case Attribute::Kind::kFloats:
      out->set_type(onnx::AttributeProto::FLOATS);
      for (float v : a.floats()) out->add_floats(v);
      break;
    case Attribute::Kind::kStrings:
      out->set_type(onnx::AttributeProto::STRINGS);
      for (const auto& v : a.strings()) out->add_strings(v);
      break;
  }
  return absl::OkStatus();
}

}  // namespace qeff::ir::onnx_internal
