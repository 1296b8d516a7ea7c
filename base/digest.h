// SHA-256 (FIPS 180-4), for content keys of artifacts: weight-file digests
// and the hashes in artifact directory names. Streaming and one-shot.
#ifndef QEFF_BASE_DIGEST_H_
#define QEFF_BASE_DIGEST_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qeff::base {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t n);
  void Update(absl::string_view s) { Update(s.data(), s.size()); }
  std::array<uint8_t, 32> Finish();
  std::string FinishHex();  // 64 lowercase hex digits

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string Sha256Hex(absl::string_view data);
// Digest of a whole file (read in 1 MiB chunks); errors name the file.
absl::StatusOr<std::string> Sha256File(const std::string& path);

}  // namespace qeff::base

#endif  // QEFF_BASE_DIGEST_H_
