// safetensors checkpoints (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//  "__metadata__": {...}}, then the raw little-endian tensor bytes, offsets
// relative to the end of the header. Tensors are zero-copy windows into an
// mmap of the file (ir::Buffer::FromMapped). Supported dtypes: F32, F16,
// BF16 (and the integer/bool types, for completeness: I64, I32, I8, U8,
// BOOL); others are an error naming the tensor. Every malformed header — a
// length past the file, bad JSON, a shape whose byte size disagrees with its
// offsets, offsets outside the data section — is an error naming the file
// and the tensor/field; nothing is allocated from header sizes.
//
// Sharded checkpoints: `model.safetensors.index.json` with a `weight_map`
// {"tensor": "model-00001-of-00002.safetensors", ...}; every shard is mapped
// once and each tensor must come from the shard the index names.
#ifndef QEFF_MODELS_SAFETENSORS_H_
#define QEFF_MODELS_SAFETENSORS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ir/tensor.h"

namespace qeff::models {

struct SafetensorsFile {
  std::string path;
  // Tensors in header order.
  std::vector<std::pair<std::string, ir::Tensor>> tensors;
  // "__metadata__" string entries.
  std::vector<std::pair<std::string, std::string>> metadata;
};

absl::StatusOr<SafetensorsFile> ReadSafetensors(const std::string& path);

// All tensors of a Hugging Face folder: `model.safetensors.index.json` when
// present (sharded), else `model.safetensors`. Errors name the file.
absl::StatusOr<absl::flat_hash_map<std::string, ir::Tensor>>
ReadSafetensorsFolder(const std::string& dir);

// Serializes tensors (plain f32/f16/bf16/i64/i32/i8/u8/bool) in the given
// order, with 8-byte aligned data. For the test-model writer and tests.
absl::StatusOr<std::string> SerializeSafetensors(
    const std::vector<std::pair<std::string, ir::Tensor>>& tensors,
    const std::vector<std::pair<std::string, std::string>>& metadata = {});

}  // namespace qeff::models

#endif  // QEFF_MODELS_SAFETENSORS_H_
