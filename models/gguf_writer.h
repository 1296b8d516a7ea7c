// Writes GGUF v3 files: metadata key/values and tensors. For tests and the
// test-model generator. Tensors are written in the order added, each at an
// offset aligned to `alignment` (general.alignment, default 32).
#ifndef QEFF_MODELS_GGUF_WRITER_H_
#define QEFF_MODELS_GGUF_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ir/tensor.h"
#include "models/gguf.h"

namespace qeff::models {

class GgufWriter {
 public:
  // Sets general.alignment (a power of two) and aligns tensors to it.
  void SetAlignment(uint32_t alignment);
  // Adds a metadata key, or replaces its value (keeping its position).
  void Add(const std::string& key, GgufValue value);
  // Adds a tensor; the ggml type follows dtype/quant (f32, f16, bf16, f64,
  // i8..i64, q8_0, q4_0, q4_K, q5_K, q6_K; MX formats are rejected). Dims
  // are row-major ir dims; the file stores them reversed (ggml ne order).
  absl::Status AddTensor(const std::string& name, const ir::Tensor& t);
  // Adds a tensor as given (any type number and bytes); for tests of bad
  // files.
  void AddRawTensor(const std::string& name, uint32_t ggml_type,
                    std::vector<int64_t> ne, std::string bytes);

  // The whole file's bytes.
  std::string Serialize() const;
  // Writes `path` atomically (temporary file in the same folder, rename).
  absl::Status WriteFile(const std::string& path) const;

 private:
  struct Entry {
    std::string name;
    uint32_t ggml_type;
    std::vector<int64_t> ne;
    std::string bytes;
  };
  uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Entry> tensors_;
};

}  // namespace qeff::models

#endif  // QEFF_MODELS_GGUF_WRITER_H_
