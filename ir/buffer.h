// Immutable-by-convention, reference-counted byte storage for tensors: either
// owned heap memory or a window into a memory-mapped file. Copying a Tensor
// copies the shared_ptr, never the bytes, so one load feeds many graphs.
#ifndef QEFF_IR_BUFFER_H_
#define QEFF_IR_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qeff::ir {

// A read-only mmap of a whole file, or a writable scratch file's
// (CreateScratch). Unmapped when the last reference goes.
class MappedFile {
 public:
  static absl::StatusOr<std::shared_ptr<const MappedFile>> Open(
      const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // A writable shared mapping of a new unnamed file of `bytes` zero bytes in
  // `dir` (a scratch file: gone with the last reference or the process).
  // Fails where `dir` is missing, not writable or a tmpfs (whose pages
  // would stay in memory).
  static absl::StatusOr<std::shared_ptr<MappedFile>> CreateScratch(
      const std::string& dir, size_t bytes);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Scratch files only (CreateScratch); null otherwise.
  uint8_t* writable_data() const { return writable_ ? data_ : nullptr; }

 private:
  MappedFile(std::string path, uint8_t* data, size_t size, bool writable)
      : path_(std::move(path)), data_(data), size_(size), writable_(writable) {}
  std::string path_;
  uint8_t* data_;
  size_t size_;
  bool writable_;
};

// Bytes with an owner. `mutable_data()` is for the code that just created an
// owned or scratch buffer (kernels writing their outputs, a loader filling
// AllocateFileBacked storage); a checkpoint's mapped windows are read-only.
class Buffer {
 public:
  // Zero-initialized owned storage.
  static std::shared_ptr<Buffer> Allocate(size_t bytes);
  static std::shared_ptr<Buffer> Copy(const void* data, size_t bytes);
  // Zero-initialized storage backed by a scratch file (MappedFile::
  // CreateScratch in $QEFF_SCRATCH_DIR, else /var/tmp, else $TMPDIR or
  // /tmp), for large derived data (e.g. a loader's re-ordered weights) that
  // is written once and then read rarely: ReleasePages lets the kernel drop
  // its pages like a checkpoint's mapped pages, and they are read back from
  // the file. Where no such directory works: owned storage (Allocate).
  // Written through mutable_data(), as Allocate's storage.
  static std::shared_ptr<Buffer> AllocateFileBacked(size_t bytes);
  // A window [offset, offset+bytes) of a mapped file; checks bounds.
  static absl::StatusOr<std::shared_ptr<Buffer>> FromMapped(
      std::shared_ptr<const MappedFile> file, size_t offset, size_t bytes);

  const uint8_t* data() const { return data_; }
  // QEFF_CHECKs that the buffer is owned or file-backed scratch.
  uint8_t* mutable_data();
  size_t size() const { return size_; }
  bool is_mapped() const { return file_ != nullptr; }
  // Mapped from a scratch file (AllocateFileBacked), not a checkpoint.
  bool is_scratch() const { return file_ && file_->writable_data(); }
  // For mapped buffers: the file and the window's offset in it.
  const MappedFile* file() const { return file_.get(); }
  size_t file_offset() const { return file_offset_; }
  // Mapped buffers: lets the kernel drop the window's resident pages (the
  // whole pages inside it), e.g. once a compiler has copied the bytes into
  // another layout. The bytes stay readable (faulted back in from the file).
  // Scratch-backed buffers alike (read back from the scratch file). Owned
  // buffers: nothing.
  void ReleasePages() const;

 private:
  Buffer() = default;
  std::vector<uint8_t> owned_;
  std::shared_ptr<const MappedFile> file_;
  size_t file_offset_ = 0;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace qeff::ir

#endif  // QEFF_IR_BUFFER_H_
