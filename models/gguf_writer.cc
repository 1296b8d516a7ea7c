#include "models/gguf_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"

namespace qeff::models {
namespace {

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

void PutString(std::string* out, const std::string& s) {
  Put<uint64_t>(out, s.size());
  out->append(s);
}

void PutValue(std::string* out, const GgufValue& v) {
  switch (v.type) {
    case GgufType::kU8:
      Put<uint8_t>(out, v.u);
      break;
    case GgufType::kI8:
      Put<int8_t>(out, v.i);
      break;
    case GgufType::kU16:
      Put<uint16_t>(out, v.u);
      break;
    case GgufType::kI16:
      Put<int16_t>(out, v.i);
      break;
    case GgufType::kU32:
      Put<uint32_t>(out, v.u);
      break;
    case GgufType::kI32:
      Put<int32_t>(out, v.i);
      break;
    case GgufType::kU64:
      Put<uint64_t>(out, v.u);
      break;
    case GgufType::kI64:
      Put<int64_t>(out, v.i);
      break;
    case GgufType::kF32:
      Put<float>(out, static_cast<float>(v.f));
      break;
    case GgufType::kF64:
      Put<double>(out, v.f);
      break;
    case GgufType::kBool:
      Put<uint8_t>(out, v.b ? 1 : 0);
      break;
    case GgufType::kString:
      PutString(out, v.s);
      break;
    case GgufType::kArray:
      Put<uint32_t>(out, static_cast<uint32_t>(v.array_type));
      Put<uint64_t>(out, v.array.size());
      for (const GgufValue& e : v.array) PutValue(out, e);
      break;
  }
}

void Pad(std::string* out, uint64_t alignment) {
  while (out->size() % alignment != 0) out->push_back('\0');
}

absl::StatusOr<uint32_t> GgmlTypeOf(const ir::Tensor& t) {
  switch (t.quant()) {
    case ir::QuantFormat::kNone:
      break;
    case ir::QuantFormat::kQ8_0:
      return kGgmlQ8_0;
    case ir::QuantFormat::kQ4_0:
      return kGgmlQ4_0;
    case ir::QuantFormat::kQ4_K:
      return kGgmlQ4_K;
    case ir::QuantFormat::kQ5_K:
      return kGgmlQ5_K;
    case ir::QuantFormat::kQ6_K:
      return kGgmlQ6_K;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("GGUF has no type for ", t.TypeString()));
  }
  switch (t.dtype()) {
    case ir::DType::kF32:
      return kGgmlF32;
    case ir::DType::kF16:
      return kGgmlF16;
    case ir::DType::kBF16:
      return kGgmlBF16;
    case ir::DType::kF64:
      return kGgmlF64;
    case ir::DType::kI8:
      return kGgmlI8;
    case ir::DType::kI16:
      return kGgmlI16;
    case ir::DType::kI32:
      return kGgmlI32;
    case ir::DType::kI64:
      return kGgmlI64;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("GGUF has no type for ", t.TypeString()));
  }
}

}  // namespace

void GgufWriter::SetAlignment(uint32_t alignment) {
  alignment_ = alignment;
  Add("general.alignment", GgufValue::U32(alignment));
}

void GgufWriter::Add(const std::string& key, GgufValue value) {
  for (auto& kv : metadata_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

absl::Status GgufWriter::AddTensor(const std::string& name,
                                   const ir::Tensor& t) {
  auto type = GgmlTypeOf(t);
  if (!type.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", name, "': ", type.status().message()));
  }
  if (!t.has_storage()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", name, "' has no storage"));
  }
  std::vector<int64_t> ne(t.dims().rbegin(), t.dims().rend());
  AddRawTensor(
      name, *type, std::move(ne),
      std::string(reinterpret_cast<const char*>(t.raw()), t.buffer()->size()));
  return absl::OkStatus();
}

void GgufWriter::AddRawTensor(const std::string& name, uint32_t ggml_type,
                              std::vector<int64_t> ne, std::string bytes) {
  tensors_.push_back({name, ggml_type, std::move(ne), std::move(bytes)});
}

std::string GgufWriter::Serialize() const {
  std::string out;
  Put<uint32_t>(&out, 0x46554747);
  Put<uint32_t>(&out, 3);
  Put<uint64_t>(&out, tensors_.size());
  Put<uint64_t>(&out, metadata_.size());
  for (const auto& [key, value] : metadata_) {
    PutString(&out, key);
    Put<uint32_t>(&out, static_cast<uint32_t>(value.type));
    PutValue(&out, value);
  }
  uint64_t offset = 0;
  for (const Entry& e : tensors_) {
    PutString(&out, e.name);
    Put<uint32_t>(&out, e.ne.size());
    for (int64_t d : e.ne) Put<int64_t>(&out, d);
    Put<uint32_t>(&out, e.ggml_type);
    Put<uint64_t>(&out, offset);
    offset += e.bytes.size();
    offset = (offset + alignment_ - 1) / alignment_ * alignment_;
  }
  Pad(&out, alignment_);
  for (const Entry& e : tensors_) {
    out.append(e.bytes);
    Pad(&out, alignment_);
  }
  return out;
}

absl::Status GgufWriter::WriteFile(const std::string& path) const {
  return base::WriteFileAtomically(path, Serialize());
}

}  // namespace qeff::models
