// The registry from a binary that names no driver: the drivers linked in
// (//hw:devices) registered themselves.
#include "hw/device_registry.h"

#include "gtest/gtest.h"

namespace qeff::hw {
namespace {

TEST(DeviceRegistry, ListsTheLinkedDriversDefaultFirst) {
  std::vector<std::string> kinds = DeviceKinds();
  ASSERT_EQ(kinds,
            (std::vector<std::string>{"cpu", "reference", "sim", "aic"}));
  for (const std::string& kind : kinds) {
    auto d = OpenDevice(kind);
    // aic opens only where the vendor SDK is installed.
    if (kind == "aic" && !d.ok()) {
      EXPECT_NE(d.status().message().find("qaic-exec"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(d.ok()) << kind << ": " << d.status();
    EXPECT_EQ((*d)->kind(), kind);
    EXPECT_FALSE((*d)->target().empty());
  }
}

TEST(DeviceRegistry, UnknownKindListsWhatTheBinaryHas) {
  auto d = OpenDevice("tpu:0");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(d.status().message().find("'tpu:0'"), std::string::npos);
  EXPECT_NE(d.status().message().find("cpu, reference, sim, aic"),
            std::string::npos)
      << d.status();
}

TEST(DeviceRegistry, ADriverParsesItsOwnArgs) {
  EXPECT_TRUE(OpenDevice("cpu:1/0").ok());
  auto bad = OpenDevice("cpu:0");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cpu:0"), std::string::npos);
  EXPECT_FALSE(OpenDevice("reference:3").ok());
}

}  // namespace
}  // namespace qeff::hw
