// GGUF (v2/v3) checkpoint reader: metadata key/values and zero-copy tensors.
//
// The file is memory-mapped; every tensor is an ir::Tensor that is a window
// into the mapping (ir::Buffer::FromMapped), so the mapping lives as long as
// any tensor does. F32/F16/BF16 (and F64/I8/I16/I32/I64) tensors are plain;
// Q8_0, Q4_0, Q4_K, Q5_K, Q6_K are quantized tensors (logical dtype f32,
// ir::QuantFormat); any other ggml type is an error naming the tensor.
//
// Dims: GGUF stores ggml's ne[] (ne[0] is the fastest-varying dim); tensors
// here have row-major dims, i.e. ne reversed. A GGUF "token_embd.weight" of
// ne = [n_embd, n_vocab] is an ir tensor [n_vocab, n_embd].
//
// Names are GGUF's (token_embd.weight, blk.N.attn_q.weight, ...), not HF's.
// RoPE layout: llama.cpp's converter permutes the rows of attn_q/attn_k of
// llama-family models into the interleaved layout (see models/rope_layout.h);
// a builder using HF's rotate_half un-permutes them with UnpermuteQK
// (n_head for Q, n_head_kv for K).
//
// Not supported: big-endian GGUF files (rejected by the version check).
#ifndef QEFF_MODELS_GGUF_H_
#define QEFF_MODELS_GGUF_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ir/buffer.h"
#include "ir/tensor.h"
#include "models/rope_layout.h"

namespace qeff::models {

// GGUF metadata value types (gguf_type).
enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
absl::string_view GgufTypeName(GgufType t);

// ggml tensor types that qeff knows by number (ggml.h's enum ggml_type).
enum GgmlType : uint32_t {
  kGgmlF32 = 0,
  kGgmlF16 = 1,
  kGgmlQ4_0 = 2,
  kGgmlQ4_1 = 3,
  kGgmlQ5_0 = 6,
  kGgmlQ5_1 = 7,
  kGgmlQ8_0 = 8,
  kGgmlQ8_1 = 9,
  kGgmlQ2_K = 10,
  kGgmlQ3_K = 11,
  kGgmlQ4_K = 12,
  kGgmlQ5_K = 13,
  kGgmlQ6_K = 14,
  kGgmlQ8_K = 15,
  kGgmlI8 = 24,
  kGgmlI16 = 25,
  kGgmlI32 = 26,
  kGgmlI64 = 27,
  kGgmlF64 = 28,
  kGgmlBF16 = 30,
};
// "f32", "q4_K", ... or "type N" for numbers qeff does not know.
std::string GgmlTypeName(uint32_t type);

// One metadata value. Scalars use the field that matches `type`: `u` for
// unsigned, `i` for signed, `f` for floats, `b`, `s`. Arrays keep their
// element type and elements (nested arrays allowed).
struct GgufValue {
  GgufType type = GgufType::kU32;
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
  GgufType array_type = GgufType::kU8;  // kArray only
  std::vector<GgufValue> array;         // kArray only

  static GgufValue U8(uint8_t v);
  static GgufValue I8(int8_t v);
  static GgufValue U16(uint16_t v);
  static GgufValue I16(int16_t v);
  static GgufValue U32(uint32_t v);
  static GgufValue I32(int32_t v);
  static GgufValue U64(uint64_t v);
  static GgufValue I64(int64_t v);
  static GgufValue F32(float v);
  static GgufValue F64(double v);
  static GgufValue Bool(bool v);
  static GgufValue String(std::string v);
  static GgufValue Array(GgufType element_type, std::vector<GgufValue> values);
  static GgufValue StringArray(const std::vector<std::string>& v);
  static GgufValue F32Array(const std::vector<float>& v);
  static GgufValue I32Array(const std::vector<int32_t>& v);

  bool is_integer() const;  // u8..i64
  bool is_float() const;    // f32/f64
  // Human-readable, arrays abbreviated; for tools and errors.
  std::string DebugString() const;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ggml order, as stored in the file
  uint32_t ggml_type = 0;
  uint64_t offset = 0;  // relative to the data section
  ir::Tensor tensor;    // row-major dims (ne reversed), zero-copy
};

class GgufFile {
 public:
  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const {
    return metadata_;
  }
  const GgufValue* Find(absl::string_view key) const;  // null if absent
  bool Has(absl::string_view key) const { return Find(key) != nullptr; }

  // Typed accessors; errors name the file and key (missing key or wrong
  // type). Integer getters accept any integer type whose value fits.
  absl::StatusOr<std::string> GetString(absl::string_view key) const;
  absl::StatusOr<uint32_t> GetU32(absl::string_view key) const;
  absl::StatusOr<int64_t> GetInt(absl::string_view key) const;
  absl::StatusOr<float> GetF32(absl::string_view key) const;  // f32 or f64
  absl::StatusOr<bool> GetBool(absl::string_view key) const;
  absl::StatusOr<std::vector<std::string>> GetStringArray(
      absl::string_view key) const;
  absl::StatusOr<std::vector<float>> GetFloatArray(absl::string_view key) const;
  absl::StatusOr<std::vector<int64_t>> GetIntArray(absl::string_view key) const;

  // Tensors in file order.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(absl::string_view name) const;
  // The tensor, or NotFound naming the file and tensor.
  absl::StatusOr<ir::Tensor> GetTensor(absl::string_view name) const;

 private:
  friend absl::StatusOr<GgufFile> ParseGguf(
      std::shared_ptr<const ir::MappedFile> file);
  absl::Status KeyError(absl::string_view key, absl::string_view want) const;

  std::string path_;
  std::shared_ptr<const ir::MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  absl::flat_hash_map<std::string, size_t> metadata_index_;
  std::vector<GgufTensorInfo> tensors_;
  absl::flat_hash_map<std::string, size_t> tensor_index_;
};

// Maps and parses `path`. Every malformed field is an error naming the file
// and the field.
absl::StatusOr<GgufFile> ReadGguf(const std::string& path);

// Splits a per-layer tensor name `blk.<layer>.<role>` (llama.cpp's naming,
// e.g. `blk.3.attn_q.weight` -> "3", "attn_q.weight"); false for any other
// name, a non-numeric layer included. The architecture readers map roles.
bool SplitGgufBlockName(absl::string_view name, absl::string_view* layer,
                        absl::string_view* role);
// Parses an already mapped file.
absl::StatusOr<GgufFile> ParseGguf(std::shared_ptr<const ir::MappedFile> file);

}  // namespace qeff::models

#endif  // QEFF_MODELS_GGUF_H_
