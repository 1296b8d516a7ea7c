#include "ir/buffer.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
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
  return std::shared_ptr<const MappedFile>(
      new MappedFile(path, const_cast<uint8_t*>(data), size, false));
}

absl::StatusOr<std::shared_ptr<MappedFile>> MappedFile::CreateScratch(
    const std::string& dir, size_t bytes) {
  struct statfs fs;
  if (::statfs(dir.c_str(), &fs) != 0)
    return absl::NotFoundError(
        absl::StrCat(dir, ": cannot stat: ", std::strerror(errno)));
  if (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC)
    return absl::FailedPreconditionError(
        absl::StrCat(dir, ": is in memory (tmpfs)"));
  // An unnamed file where the kernel has O_TMPFILE, else a named one
  // unlinked at once: nothing is left behind, even after a crash.
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::string name = dir + "/qeff-scratch-XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0)
      return absl::PermissionDeniedError(
          absl::StrCat(dir, ": cannot create a file: ", std::strerror(errno)));
    ::unlink(name.c_str());
  }
  const size_t size = std::max<size_t>(bytes, 1);
  // The blocks are reserved now: writing a hole of a full disk through the
  // mapping would raise SIGBUS instead of returning an error.
  if (const int e = ::posix_fallocate(fd, 0, static_cast<off_t>(size)); e) {
    ::close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat(dir, ": cannot reserve ", size,
                     " bytes for a scratch file: ", std::strerror(e)));
  }
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int e = errno;
  ::close(fd);
  if (p == MAP_FAILED)
    return absl::InternalError(absl::StrCat(
        dir, ": mmap of a scratch file failed: ", std::strerror(e)));
  return std::shared_ptr<MappedFile>(
      new MappedFile(dir + "/(scratch)", static_cast<uint8_t*>(p), size, true));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
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

std::shared_ptr<Buffer> Buffer::AllocateFileBacked(size_t bytes) {
  std::vector<std::string> dirs;
  if (const char* d = std::getenv("QEFF_SCRATCH_DIR"); d && *d)
    dirs.push_back(d);
  dirs.push_back("/var/tmp");
  const char* t = std::getenv("TMPDIR");
  dirs.push_back(t && *t ? t : "/tmp");
  for (const std::string& dir : dirs) {
    auto f = MappedFile::CreateScratch(dir, bytes);
    if (!f.ok()) continue;
    std::shared_ptr<Buffer> b(new Buffer());
    b->data_ = (*f)->data();
    b->size_ = bytes;
    b->file_ = *std::move(f);
    return b;
  }
  return Allocate(bytes);
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
  if (file_) {
    QEFF_CHECK(file_->writable_data() != nullptr);
    return file_->writable_data() + file_offset_;
  }
  return owned_.data();
}

}  // namespace qeff::ir
