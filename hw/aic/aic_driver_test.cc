#include "hw/aic/aic_driver.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "base/files.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "hw/conformance/test_graphs.h"
#include "hw/device_registry.h"

namespace qeff::hw {
namespace {

// A fake SDK root whose exec/qaic-exec records its arguments, checks the
// files it is given and writes qpc/programqpc.bin (see aic_compile_test).
std::string FakeSdk(const std::string& root) {
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/exec");
  const std::string script = R"(#!/bin/sh
echo "$@" > "$(dirname "$0")/../last_args"
if [ -n "$FAKE_QAIC_FAIL" ]; then echo "error: out of VTCM" >&2; exit 2; fi
out=""
for a in "$@"; do
  case "$a" in
    -network-specialization-config=*) cp "${a#*=}" "$(dirname "$0")/../last_specs" ;;
    -custom-IO-list-file=*) cp "${a#*=}" "$(dirname "$0")/../last_custom_io" ;;
    -m=*) [ -s "${a#*=}" ] || { echo "empty onnx" >&2; exit 4; } ;;
    -aic-binary-dir=*) out="${a#*=}" ;;
  esac
done
mkdir -p "$out" && echo qpc > "$out/programqpc.bin"
)";
  EXPECT_TRUE(base::WriteFileAtomically(root + "/exec/qaic-exec", script).ok());
  ::chmod((root + "/exec/qaic-exec").c_str(), 0755);
  return root;
}

TEST(AicDriver, WithoutTheSdkOneClearError) {
  ::setenv("QEFF_AIC_SDK_ROOT", (::testing::TempDir() + "/nothing").c_str(), 1);
  auto d = OpenDevice("aic");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("qaic-exec"), std::string::npos);
  EXPECT_NE(d.status().message().find("/nothing"), std::string::npos);
}

TEST(AicDriver, CompilesThroughTheSdkCompiler) {
  const std::string root = FakeSdk(::testing::TempDir() + "/aic_sdk");
  ::setenv("QEFF_AIC_SDK_ROOT", root.c_str(), 1);
  ::setenv("TMPDIR", ::testing::TempDir().c_str(), 1);
  auto d = OpenDevice("aic:0");
  ASSERT_TRUE(d.ok()) << d.status();
  auto m = testing::MakeTinyLlama({});
  ASSERT_TRUE(m.ok());
  CompileOptions o;
  o.mxint8_kv_cache = true;
  o.mxfp6_matmul = true;
  o.num_cores = 14;
  auto p = (*d)->Compile(m->graph, PrefillDecodeSpecializations(1, 4, 16), o);
  ASSERT_TRUE(p.ok()) << p.status();
  auto args = base::ReadFile(root + "/last_args");
  ASSERT_TRUE(args.ok());
  EXPECT_NE(args->find("-aic-hw -aic-hw-version=ai100 -m="), std::string::npos)
      << *args;
  EXPECT_NE(args->find("-mxfp6-matmul -aic-num-cores=14"), std::string::npos);
  auto io = base::ReadFile(root + "/last_custom_io");
  ASSERT_TRUE(io.ok());
  EXPECT_NE(io->find(" - IOName: past_key.0\n   Precision: mxint8"),
            std::string::npos);
  EXPECT_NE(io->find("past_value.1_RetainedState"), std::string::npos);
  auto specs = base::ReadFile(root + "/last_specs");
  ASSERT_TRUE(specs.ok());
  EXPECT_NE(specs->find("\"seq_len\": \"4\""), std::string::npos);

  const std::string dir = ::testing::TempDir() + "/aic_program";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_TRUE((*d)->SaveProgram(**p, dir, "").ok());
  EXPECT_TRUE(base::FileExists(dir + "/qpc/programqpc.bin"));
  auto loaded = (*d)->LoadProgram(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->specializations().size(), 2u);
  // Running is not bound in this build: a clear error, never a fake run.
  auto s = (*d)->Load(*loaded);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnimplemented);

  // A failing compiler is the compile's error, with its output.
  ::setenv("FAKE_QAIC_FAIL", "1", 1);
  auto bad = (*d)->Compile(m->graph, PrefillDecodeSpecializations(1, 4, 16), o);
  ::unsetenv("FAKE_QAIC_FAIL");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("out of VTCM"), std::string::npos);
}

}  // namespace
}  // namespace qeff::hw
