// Memory as input at load: a program whose arena and retained state cannot
// fit what the process may allocate is refused by the cpu driver before any
// allocation, naming the bytes it needs and what the host has. The limit is
// the process's own address-space limit (ulimit -v), so the test does not
// depend on the machine's memory.
#include <sys/resource.h>

#include <string>

#include "gtest/gtest.h"
#include "hw/conformance/test_graphs.h"
#include "hw/cpu/cpu_driver.h"

namespace qeff::hw {
namespace {

// Sets RLIMIT_AS's soft limit for the test's scope.
class ScopedAddressLimit {
 public:
  explicit ScopedAddressLimit(rlim_t bytes) {
    getrlimit(RLIMIT_AS, &saved_);
    struct rlimit r = saved_;
    r.rlim_cur = bytes;
    ok_ = setrlimit(RLIMIT_AS, &r) == 0;
  }
  ~ScopedAddressLimit() { setrlimit(RLIMIT_AS, &saved_); }
  bool ok() const { return ok_; }

 private:
  struct rlimit saved_;
  bool ok_ = false;
};

int64_t VmSizeBytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  long long kib = 0;
  while (f && std::fgets(line, sizeof(line), f))
    if (std::sscanf(line, "VmSize: %lld kB", &kib) == 1) break;
  if (f) std::fclose(f);
  return kib * 1024;
}

TEST(CpuMemoryFit, LoadRefusesStateThatCannotFitBeforeAllocating) {
  testing::TinyLlamaOptions o;  // 2 layers, 2 kv heads of 16
  auto m = testing::MakeTinyLlama(o);
  ASSERT_TRUE(m.ok()) << m.status();
  auto dev = OpenCpuDevice("cpu");
  ASSERT_TRUE(dev.ok()) << dev.status();
  // ctx_len 2^20: 2 layers x (k, v) x 2 heads x 16 x 2^20 x 4 bytes = 512 MiB.
  auto p = (*dev)->Compile(
      m->graph, PrefillDecodeSpecializations(1, 4, int64_t{1} << 20), {});
  ASSERT_TRUE(p.ok()) << p.status();
  absl::Status refused;
  {
    ScopedAddressLimit limit(VmSizeBytes() + (int64_t{128} << 20));
    if (!limit.ok()) GTEST_SKIP() << "setrlimit(RLIMIT_AS) not permitted";
    auto s = (*dev)->Load(*p);
    refused = s.status();
  }
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  const std::string msg(refused.message());
  EXPECT_NE(msg.find("retained state 512.0 MiB"), std::string::npos) << msg;
  EXPECT_NE(msg.find("available"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cpu:0"), std::string::npos) << msg;
}

TEST(CpuMemoryFit, SmallProgramLoadsUnderTheSameKindOfLimit) {
  auto m = testing::MakeTinyLlama({});
  ASSERT_TRUE(m.ok()) << m.status();
  auto dev = OpenCpuDevice("cpu");
  ASSERT_TRUE(dev.ok()) << dev.status();
  auto p =
      (*dev)->Compile(m->graph, PrefillDecodeSpecializations(1, 4, 16), {});
  ASSERT_TRUE(p.ok()) << p.status();
  ScopedAddressLimit limit(VmSizeBytes() + (int64_t{128} << 20));
  if (!limit.ok()) GTEST_SKIP() << "setrlimit(RLIMIT_AS) not permitted";
  auto s = (*dev)->Load(*p);
  EXPECT_TRUE(s.ok()) << s.status();
}

}  // namespace
}  // namespace qeff::hw
