#include "base/files.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"

namespace qeff::base {
namespace fs = std::filesystem;
namespace {

std::string Errno() { return std::strerror(errno); }

std::string Parent(const std::string& path) {
  const size_t s = path.find_last_of('/');
  if (s == std::string::npos) return ".";
  return s == 0 ? "/" : path.substr(0, s);
}

std::string Basename(const std::string& path) {
  const size_t s = path.find_last_of('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

// fsync of one path opened read-only (files and directories alike).
absl::Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return absl::InternalError(
        absl::StrCat(path, ": cannot open to sync: ", Errno()));
  const bool ok = ::fsync(fd) == 0 || errno == EINVAL;  // EINVAL: no sync
  const std::string err = ok ? "" : Errno();
  ::close(fd);
  if (!ok) return absl::DataLossError(absl::StrCat(path, ": fsync: ", err));
  return absl::OkStatus();
}

absl::Status SyncTree(const std::string& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file(ec) || it->is_directory(ec))
      QEFF_RETURN_IF_ERROR(SyncPath(it->path().string()));
  }
  if (ec)
    return absl::InternalError(
        absl::StrCat(dir, ": cannot list: ", ec.message()));
  return SyncPath(dir);
}

// The pid in `<prefix><pid>-...`, or -1.
long TempOwnerPid(absl::string_view name, absl::string_view prefix) {
  if (!absl::StartsWith(name, prefix)) return -1;
  name.remove_prefix(prefix.size());
  long pid;
  const size_t dash = name.find('-');
  if (dash == absl::string_view::npos ||
      !absl::SimpleAtoi(name.substr(0, dash), &pid))
    return -1;
  return pid;
}

bool ProcessIsDead(long pid) {
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// Removes `<path>.tmp-*` siblings (and `<path>.tmp.*`, the form of earlier
// qeff versions): all of them when `all`, else those whose writer process no
// longer exists. Best effort.
void RemoveTemps(const std::string& path, bool all) {
  const std::string prefix = Basename(path) + ".tmp-";
  const std::string legacy = Basename(path) + ".tmp.";
  std::error_code ec;
  for (fs::directory_iterator it(Parent(path), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool ours =
        absl::StartsWith(name, prefix) || absl::StartsWith(name, legacy);
    if (!ours) continue;
    if (all || ProcessIsDead(TempOwnerPid(name, prefix))) {
      std::error_code rm;
      fs::remove_all(it->path(), rm);
    }
  }
}

// An exclusive flock on a lock file, held for the object's life; the file is
// removed on release, so no lock files stay behind. A waiter that wakes up
// holding a lock file that was removed (or replaced) meanwhile tries again,
// so at any time at most one holder's lock matches the file at `path`.
class FileLock {
 public:
  static absl::StatusOr<FileLock> Acquire(const std::string& path) {
    for (;;) {
      const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0)
        return absl::PermissionDeniedError(
            absl::StrCat(path, ": cannot open lock file: ", Errno()));
      int r;
      while ((r = ::flock(fd, LOCK_EX)) != 0 && errno == EINTR) {
      }
      if (r != 0) {
        const std::string err = Errno();
        ::close(fd);
        return absl::InternalError(absl::StrCat(path, ": cannot lock: ", err));
      }
      struct stat held, now;
      if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &now) == 0 &&
          held.st_dev == now.st_dev && held.st_ino == now.st_ino)
        return FileLock(path, fd);
      ::close(fd);  // removed by the previous holder: take the new one
    }
  }
  FileLock(FileLock&& o) noexcept : path_(std::move(o.path_)), fd_(o.fd_) {
    o.fd_ = -1;
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());  // while still holding it
    ::close(fd_);             // releases the flock
  }

 private:
  FileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

// Removes the lock file `path` when no process holds it (its holder was
// killed after publishing, before unlinking it); a held lock is left alone.
void RemoveStaleLock(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  struct stat held, now;
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &held) == 0 &&
      ::stat(path.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
      held.st_ino == now.st_ino)
    ::unlink(path.c_str());
  ::close(fd);
}

}  // namespace

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool DirExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

absl::Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("MakeDirs: empty path");
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string cur = dir.substr(0, i);
    if (::mkdir(cur.c_str(), 0755) == 0 || errno == EEXIST) continue;
    const int e = errno;
    const std::string what =
        absl::StrCat("cannot create directory ", cur, ": ", std::strerror(e));
    return e == EACCES || e == EPERM || e == EROFS
               ? absl::PermissionDeniedError(what)
               : absl::InternalError(what);
  }
  if (!DirExists(dir))
    return absl::FailedPreconditionError(
        absl::StrCat(dir, ": exists and is not a directory"));
  return absl::OkStatus();
}

std::string AbsolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char buf[PATH_MAX];
  if (::getcwd(buf, sizeof(buf)) == nullptr) return path;
  return path.empty() ? std::string(buf) : absl::StrCat(buf, "/", path);
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr)
    return absl::NotFoundError(absl::StrCat(path, ": ", Errno()));
  return std::string(buf);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", Errno()));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = Errno();
      ::close(fd);
      return absl::DataLossError(absl::StrCat(path, ": read failed: ", err));
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string UniqueTempName(const std::string& path) {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   static_cast<uint64_t>(::getpid()));
  return absl::StrFormat("%s.tmp-%d-%d-%016x", path, ::getpid(),
                         static_cast<long>(::syscall(SYS_gettid)), rng());
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view bytes) {
  RemoveTemps(path, /*all=*/false);
  const std::string tmp = UniqueTempName(path);
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return absl::PermissionDeniedError(
        absl::StrCat(tmp, ": cannot create: ", Errno()));
  size_t done = 0;
  bool ok = true;
  while (ok && done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  std::string err = ok ? "" : Errno();
  if (ok && ::fsync(fd) != 0) {
    ok = false;
    err = Errno();
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = Errno();
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return absl::DataLossError(absl::StrCat(path, ": write failed: ", err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = Errno();
    ::unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("rename ", tmp, " -> ", path, ": ", err));
  }
  return absl::OkStatus();
}

bool PublishedDirectoryExists(const std::string& dir) {
  if (!DirExists(dir)) return false;
  RemoveStaleLock(absl::StrCat(Parent(dir), "/.", Basename(dir), ".lock"));
  return true;
}

absl::StatusOr<bool> PublishDirectory(
    const std::string& dir,
    const std::function<absl::Status(const std::string& tmp_dir)>& fill) {
  const std::string parent = Parent(dir);
  if (PublishedDirectoryExists(dir)) return false;
  QEFF_RETURN_IF_ERROR(MakeDirs(parent));
  QEFF_ASSIGN_OR_RETURN(
      FileLock lock,
      FileLock::Acquire(absl::StrCat(parent, "/.", Basename(dir), ".lock")));
  if (DirExists(dir)) return false;  // published while we waited
  RemoveTemps(dir, /*all=*/true);
  const std::string tmp = UniqueTempName(dir);
  if (::mkdir(tmp.c_str(), 0755) != 0)
    return absl::PermissionDeniedError(
        absl::StrCat(tmp, ": cannot create: ", Errno()));
  absl::Status s = fill(tmp);
  if (s.ok()) s = SyncTree(tmp);
  if (s.ok() && ::rename(tmp.c_str(), dir.c_str()) != 0)
    s = absl::InternalError(
        absl::StrCat("rename ", tmp, " -> ", dir, ": ", Errno()));
  if (!s.ok()) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return s;
  }
  (void)SyncPath(parent);  // the rename itself; best effort
  return true;
}

absl::Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat(path, ": cannot remove: ", ec.message()));
  return absl::OkStatus();
}

}  // namespace qeff::base
