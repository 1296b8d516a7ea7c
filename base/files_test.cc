#include "base/files.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace qeff::base {
namespace {
namespace fs = std::filesystem;

std::string TestDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = absl::StrCat(t ? t : "/tmp", "/files_test_", name);
  fs::remove_all(d);
  EXPECT_TRUE(MakeDirs(d).ok());
  return d;
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FilesTest, MakeDirsNamesTheFailingComponent) {
  const std::string d = TestDir("mkdirs");
  ASSERT_TRUE(WriteFileAtomically(d + "/file", "x").ok());
  absl::Status s = MakeDirs(d + "/file/sub");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(d + "/file"), std::string::npos) << s;
  EXPECT_TRUE(MakeDirs(d + "/a/b/c").ok());
  EXPECT_TRUE(MakeDirs(d + "/a/b/c").ok());
  EXPECT_TRUE(DirExists(d + "/a/b/c"));
}

TEST(FilesTest, WriteFileAtomicallyLeavesNoTemporaries) {
  const std::string d = TestDir("atomic");
  ASSERT_TRUE(WriteFileAtomically(d + "/f.json", "one").ok());
  ASSERT_TRUE(WriteFileAtomically(d + "/f.json", "two").ok());
  EXPECT_EQ(*ReadFile(d + "/f.json"), "two");
  EXPECT_EQ(Names(d), std::vector<std::string>{"f.json"});
  absl::Status s = WriteFileAtomically(d + "/missing/f", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s;
  EXPECT_FALSE(ReadFile(d + "/nope").ok());
}

TEST(FilesTest, PathsAbsoluteAndReal) {
  EXPECT_EQ(AbsolutePath("/x/y"), "/x/y");
  EXPECT_EQ(AbsolutePath("rel")[0], '/');
  const std::string d = TestDir("real");
  ASSERT_TRUE(WriteFileAtomically(d + "/f", "").ok());
  EXPECT_EQ(*RealPath(d + "/../files_test_real/f"), *RealPath(d) + "/f");
  EXPECT_FALSE(RealPath(d + "/none").ok());
}

TEST(PublishDirectoryTest, TwoThreadsPublishingOneArtifactBothSucceed) {
  const std::string d = TestDir("race");
  const std::string target = d + "/arch/Model-0123456789abcdef";
  std::atomic<int> fills{0};
  auto fill = [&](const std::string& tmp) {
    ++fills;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return WriteFileAtomically(tmp + "/model.onnx", "bytes");
  };
  absl::StatusOr<bool> r[2];
  std::thread a([&] { r[0] = PublishDirectory(target, fill); });
  std::thread b([&] { r[1] = PublishDirectory(target, fill); });
  a.join();
  b.join();
  ASSERT_TRUE(r[0].ok()) << r[0].status();
  ASSERT_TRUE(r[1].ok()) << r[1].status();
  EXPECT_NE(*r[0], *r[1]);     // one published, the other reused
  EXPECT_EQ(fills.load(), 1);  // the second waited, it did not redo the work
  EXPECT_EQ(*ReadFile(target + "/model.onnx"), "bytes");
  EXPECT_EQ(Names(d + "/arch"),
            std::vector<std::string>{"Model-0123456789abcdef"});
}

TEST(PublishDirectoryTest, TwoProcessesPublishingOneArtifactBothSucceed) {
  const std::string d = TestDir("procs");
  const std::string target = d + "/qpc-0123456789abcdef";
  std::vector<pid_t> kids;
  for (int k = 0; k < 3; ++k) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto r = PublishDirectory(target, [](const std::string& tmp) {
        ::usleep(20000);
        return WriteFileAtomically(tmp + "/program.bin", "p");
      });
      ::_exit(r.ok() ? 0 : 1);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(*ReadFile(target + "/program.bin"), "p");
}

TEST(PublishDirectoryTest, StaleTemporaryOfADeadWriterIsRemoved) {
  const std::string d = TestDir("stale");
  const std::string target = d + "/Model-0123456789abcdef";
  // A writer that died: its pid is gone and its temporary stays behind.
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  const std::string stale = absl::StrCat(target, ".tmp-", dead, "-1-abc");
  ASSERT_TRUE(MakeDirs(stale).ok());
  ASSERT_TRUE(WriteFileAtomically(stale + "/half.onnx", "half").ok());
  // One left by a crashed run whose pid this process now has (containers).
  const std::string same_pid = absl::StrCat(target, ".tmp-", ::getpid());
  ASSERT_TRUE(MakeDirs(same_pid).ok());
  auto r = PublishDirectory(target, [](const std::string& tmp) {
    return WriteFileAtomically(tmp + "/model.onnx", "whole");
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  EXPECT_EQ(Names(d), std::vector<std::string>{"Model-0123456789abcdef"});
}

// A writer killed after its rename, before unlinking its lock: the reuse
// check removes the lock file (nobody holds it); a held one stays.
TEST(PublishDirectoryTest, ReuseCheckRemovesTheLockOfAKilledWriter) {
  const std::string d = TestDir("killed_lock");
  const std::string target = d + "/qpc-0123456789abcdef";
  ASSERT_TRUE(MakeDirs(target).ok());
  ASSERT_TRUE(WriteFileAtomically(d + "/.qpc-0123456789abcdef.lock", "").ok());
  EXPECT_TRUE(PublishedDirectoryExists(target));
  EXPECT_EQ(Names(d), std::vector<std::string>{"qpc-0123456789abcdef"});
  EXPECT_FALSE(PublishedDirectoryExists(d + "/qpc-absent"));
}

TEST(PublishDirectoryTest, FailedFillLeavesNothing) {
  const std::string d = TestDir("fail");
  const std::string target = d + "/A-1";
  auto r = PublishDirectory(target, [](const std::string& tmp) {
    (void)WriteFileAtomically(tmp + "/part", "x");
    return absl::DataLossError("disk full");
  });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(DirExists(target));
  EXPECT_TRUE(Names(d).empty());
  // The next attempt succeeds.
  r = PublishDirectory(target, [](const std::string& tmp) {
    return WriteFileAtomically(tmp + "/part", "x");
  });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_FALSE(*PublishDirectory(target, [](const std::string&) {
    return absl::InternalError("must not run: already published");
  }));
}

}  // namespace
}  // namespace qeff::base
