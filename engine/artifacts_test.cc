#include "engine/artifacts.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace qeff::engine {
namespace {

TEST(Artifacts, DigestsAreCachedAndContentKeyed) {
  std::string home = ::testing::TempDir() + "/home";
  std::string a = ::testing::TempDir() + "/a.gguf";
  std::string b = ::testing::TempDir() + "/copy/a.gguf";
  std::ofstream(a) << "abc";
  std::system(("mkdir -p " + ::testing::TempDir() + "/copy").c_str());
  std::ofstream(b) << "abc";
  auto d1 = CachedFileDigest(home, a);
  ASSERT_TRUE(d1.ok()) << d1.status();
  EXPECT_EQ(*d1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The cache remembers it.
  std::ifstream cache(home + "/file_digests.tsv");
  std::string line;
  ASSERT_TRUE(std::getline(cache, line));
  EXPECT_NE(line.find(*d1), std::string::npos);
  // Same content elsewhere: same key; different content: different key.
  auto p1 = ExportParamsJson(home, a, "LlamaForCausalLM", {});
  auto p2 = ExportParamsJson(home, b, "LlamaForCausalLM", {});
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_EQ(*p1, *p2);
  auto p3 = ExportParamsJson(home, a, "LlamaForCausalLM", {true});
  EXPECT_NE(*p1, *p3);
  std::ofstream(b) << "abd";  // size equal, content and mtime change
  auto p4 = ExportParamsJson(home, b, "LlamaForCausalLM", {});
  ASSERT_TRUE(p4.ok());
  EXPECT_NE(*p1, *p4);
  EXPECT_FALSE(ExportParamsJson(home, a + ".missing", "X", {}).ok());
}

}  // namespace
}  // namespace qeff::engine
