#include "ir/buffer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::ir {

absl::StatusOr<std::shared_ptr<const MappedFile>> MappedFile::Open(
    const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return absl::InternalError(
        absl::StrCat(path, ": cannot stat: ", std::strerror(e)));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory, not a file"));
  }
  size_t size = static_cast<size_t>(st.st_size);
  const uint8_t* data = nullptr;
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      return absl::InternalError(
          absl::StrCat(path, ": mmap failed: ", std::strerror(e)));
    }
    data = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return std::shared_ptr<const MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

std::shared_ptr<Buffer> Buffer::Allocate(size_t bytes) {
  std::shared_ptr<Buffer> b(new Buffer());
  // At least one byte, so that data() is never null: kernels may memcpy
  // zero bytes from or to an empty tensor, and memcpy(nullptr, ...) is UB.
  b->owned_.assign(std::max<size_t>(bytes, 1), 0);
  b->data_ = b->owned_.data();
  b->size_ = bytes;
  return b;
}

std::shared_ptr<Buffer> Buffer::Copy(const void* data, size_t bytes) {
  auto b = Allocate(bytes);
  if (bytes) std::memcpy(b->owned_.data(), data, bytes);
  return b;
}

void Buffer::ReleasePages() const {
  if (!file_ || size_ == 0) return;
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t b = reinterpret_cast<uintptr_t>(data_);
  const uintptr_t begin = (b + page - 1) / page * page;
  const uintptr_t end = (b + size_) / page * page;
  // Advice only: a failure leaves the pages resident, nothing else.
  if (end > begin)
    ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

absl::StatusOr<std::shared_ptr<Buffer>> Buffer::FromMapped(
    std::shared_ptr<const MappedFile> file, size_t offset, size_t bytes) {
  if (offset > file->size() || bytes > file->size() - offset) {
    return absl::OutOfRangeError(absl::StrCat(
        file->path(), ": range [", offset, ", ", offset + bytes,
        ") is past the end of the file (", file->size(), " bytes)"));
  }
  std::shared_ptr<Buffer> b(new Buffer());
  static const uint8_t kEmpty = 0;  // an empty file maps to no address
  b->data_ = file->data() ? file->data() + offset : &kEmpty;
  b->size_ = bytes;
  b->file_offset_ = offset;
  b->file_ = std::move(file);
  return b;
}

uint8_t* Buffer::mutable_data() {
  QEFF_CHECK(file_ == nullptr);
  return owned_.data();
}

}  // namespace qeff::ir
