// Files: the one place that makes directories, reads and writes whole files,
// and publishes artifacts atomically.
//
// Publication is all-or-nothing: content is written under a temporary name
// unique to the writer (pid, thread, random), fsynced, then renamed into
// place, so a reader sees either no artifact or a whole one. A directory
// artifact is published under an exclusive lock on a sibling lock file, so a
// second writer of the same artifact — another thread or another process —
// waits for the first and then reuses what it published; it never fails
// because someone else got there first. Temporaries left by writers that
// died (crashed, killed) are removed before publishing; their names never
// collide with a live writer's, even where pids repeat (containers).
//
// It does not copy, watch or garbage-collect artifacts.
#ifndef QEFF_BASE_FILES_H_
#define QEFF_BASE_FILES_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qeff::base {

bool FileExists(const std::string& path);  // a regular file
bool DirExists(const std::string& path);

// `mkdir -p`. Errors name the component that could not be made.
absl::Status MakeDirs(const std::string& dir);

// `path` made absolute against the working directory, lexically (symlinks
// are not resolved; the file need not exist).
std::string AbsolutePath(const std::string& path);
// `path` with symlinks and `..` resolved (realpath(3)); the file must exist.
absl::StatusOr<std::string> RealPath(const std::string& path);

// The whole file. Errors name the file.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `bytes` to `path` all-or-nothing: a unique temporary beside it,
// fsync, rename. The parent directory must exist.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view bytes);

// A temporary name beside `path` unique to this writer:
// `<path>.tmp-<pid>-<thread>-<random>`.
std::string UniqueTempName(const std::string& path);

// True when the published directory `dir` exists (a reuse check for
// PublishDirectory's artifacts); also removes the lock file a writer killed
// after publishing, before unlinking its lock, left beside it.
bool PublishedDirectoryExists(const std::string& dir);

// Publishes the directory `dir`. If it exists, returns false at once
// (reused). Otherwise, under an exclusive lock on `<parent>/.<name>.lock`
// (removed again when done):
// re-checks (another writer may have published it meanwhile: false),
// removes the temporaries of earlier writers (under the lock, every
// `<dir>.tmp-*` is left over from a dead one), calls `fill` with a fresh
// empty temporary directory, fsyncs what it wrote and renames it to `dir`
// (true). When `fill` fails the temporary is removed and its error returned;
// no partial `dir` ever exists. Parent directories are created.
absl::StatusOr<bool> PublishDirectory(
    const std::string& dir,
    const std::function<absl::Status(const std::string& tmp_dir)>& fill);

// Removes a file or a directory tree; missing is fine.
absl::Status RemoveAll(const std::string& path);

}  // namespace qeff::base

#endif  // QEFF_BASE_FILES_H_
