#include "engine/versions.h"

#include "base/json.h"
#include "gtest/gtest.h"

namespace qeff::engine {
namespace {

TEST(Versions, IsJsonWithEveryLibrary) {
  std::string v = VersionsJson();
  auto parsed = base::ParseJson(v);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << v;
  for (const char* key :
       {"qeff", "abseil", "onetbb", "onetbb_runtime", "protobuf", "onnx"})
    EXPECT_NE(v.find(std::string("\"") + key + "\":\""), std::string::npos)
        << key << " in " << v;
  EXPECT_NE(v.find("\"onnx\":\"1."), std::string::npos) << v;
}

}  // namespace
}  // namespace qeff::engine
