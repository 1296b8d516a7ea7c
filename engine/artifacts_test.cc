#include "engine/artifacts.h"

#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "base/params_hash.h"
#include "gtest/gtest.h"
#include "hw/device_registry.h"

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
  auto p1 = ExportParams(home, a, "LlamaForCausalLM", {});
  auto p2 = ExportParams(home, b, "LlamaForCausalLM", {});
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_EQ(base::ToHashable(*p1), base::ToHashable(*p2));
  auto p3 = ExportParams(home, a, "LlamaForCausalLM", {true});
  EXPECT_NE(base::ToHashable(*p1), base::ToHashable(*p3));
  std::ofstream(b) << "abd";  // size equal, content and mtime change
  auto p4 = ExportParams(home, b, "LlamaForCausalLM", {});
  ASSERT_TRUE(p4.ok());
  EXPECT_NE(base::ToHashable(*p1), base::ToHashable(*p4));
  // The transform's pass names are part of the dict, so a pipeline with
  // one more pass yields another folder.
  EXPECT_NE(base::ToHashable(*p1).find("\"custom_rms_norm\""),
            std::string::npos);
  base::JsonValue more = *p1;
  base::JsonValue t = *more.Find("transform");
  base::JsonValue names = *t.Find("passes");
  names.Append(base::JsonValue::String("one_more_pass"));
  t.Set("passes", names);
  more.Set("transform", t);
  EXPECT_NE(base::HashParams(more), base::HashParams(*p1));
  EXPECT_FALSE(ExportParams(home, a + ".missing", "X", {}).ok());
}

TEST(Artifacts, ProgramDirKeysWhatChangesTheDeviceProgram) {
  auto cpu = hw::OpenDevice("cpu");
  auto ref = hw::OpenDevice("reference");
  ASSERT_TRUE(cpu.ok() && ref.ok());
  const auto specs = hw::PrefillDecodeSpecializations(1, 32, 128);
  hw::CompileOptions co;
  auto dir = [&](const std::string& hash, const hw::Device& d,
                 const std::vector<hw::Specialization>& s,
                 const hw::CompileOptions& o) {
    return ProgramDir("/h/X", CompileHashParams(hash, s, d, o));
  };
  const std::string base_dir = dir("0123456789abcdef", **cpu, specs, co);
  // QEfficient's name: qpc-<first 16 hex of SHA-256 of to_hashable(dict)>.
  const base::JsonValue params =
      CompileHashParams("0123456789abcdef", specs, **cpu, co);
  EXPECT_EQ(
      base_dir,
      "/h/X/qpc-" + base::Sha256Hex(base::ToHashable(params)).substr(0, 16));
  EXPECT_NE(base::ToHashable(params).find((*cpu)->target()), std::string::npos);
  std::set<std::string> dirs = {base_dir};
  hw::CompileOptions mx = co;
  mx.mxfp6_matmul = true;
  dirs.insert(dir("0123456789abcdef", **cpu, specs, mx));
  hw::CompileOptions kv = co;
  kv.mxint8_kv_cache = true;
  dirs.insert(dir("0123456789abcdef", **cpu, specs, kv));
  dirs.insert(dir("fedcba9876543210", **cpu, specs, co));
  dirs.insert(dir("0123456789abcdef", **ref, specs, co));
  dirs.insert(dir("0123456789abcdef", **cpu,
                  hw::PrefillDecodeSpecializations(1, 16, 128), co));
  EXPECT_EQ(dirs.size(), 6u);
  // num_cores does not change a cpu program: the same folder.
  hw::CompileOptions cores = co;
  cores.num_cores = 2;
  EXPECT_EQ(dir("0123456789abcdef", **cpu, specs, cores), base_dir);
}

}  // namespace
}  // namespace qeff::engine
