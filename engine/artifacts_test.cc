#include "engine/artifacts.h"

#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/digest.h"
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
  EXPECT_EQ(*d1,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
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

TEST(Artifacts, ProgramDirKeysEverythingThatChangesTheProgram) {
  const auto specs = hw::PrefillDecodeSpecializations(1, 32, 128);
  hw::CompileOptions co;
  const std::string onnx = "/h/LlamaForCausalLM/M-0123456789abcdef/M.onnx";
  const std::string dir =
      ProgramArtifactDir(onnx, "0123456789abcdef", specs, "cpu", "x86_64", co);
  // The key tools/infer used before it moved here (existing artifacts keep
  // their folders).
  const std::string old_key =
      absl::StrCat("0123456789abcdef|", hw::SpecializationsToJson(specs),
                   "|cpu|x86_64|cores=0|mxfp6=0|v=", kQeffVersion);
  EXPECT_EQ(dir, "/h/LlamaForCausalLM/M-0123456789abcdef/qpc-" +
                     base::Sha256Hex(old_key).substr(0, 16));
  std::set<std::string> dirs = {dir};
  hw::CompileOptions mx = co;
  mx.mxfp6_matmul = true;
  dirs.insert(
      ProgramArtifactDir(onnx, "0123456789abcdef", specs, "cpu", "x86_64", mx));
  hw::CompileOptions kv = co;
  kv.mxint8_kv_cache = true;
  dirs.insert(
      ProgramArtifactDir(onnx, "0123456789abcdef", specs, "cpu", "x86_64", kv));
  hw::CompileOptions cores = co;
  cores.num_cores = 2;
  dirs.insert(ProgramArtifactDir(onnx, "0123456789abcdef", specs, "cpu",
                                 "x86_64", cores));
  dirs.insert(
      ProgramArtifactDir(onnx, "fedcba9876543210", specs, "cpu", "x86_64", co));
  dirs.insert(ProgramArtifactDir(onnx, "0123456789abcdef", specs, "cpu",
                                 "aarch64", co));
  dirs.insert(ProgramArtifactDir(onnx, "0123456789abcdef", specs, "reference",
                                 "x86_64", co));
  dirs.insert(ProgramArtifactDir(onnx, "0123456789abcdef",
                                 hw::PrefillDecodeSpecializations(1, 16, 128),
                                 "cpu", "x86_64", co));
  EXPECT_EQ(dirs.size(), 8u);
}

}  // namespace
}  // namespace qeff::engine
