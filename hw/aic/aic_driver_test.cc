#include "hw/aic/aic_driver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/files.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "hw/aic/aic_runtime.h"
#include "hw/aic/fake_sdk_testing.h"
#include "hw/conformance/test_graphs.h"
#include "hw/device_registry.h"

namespace qeff::hw {
namespace {

using aic::testing::FakeRuntimeLibrary;
using aic::testing::MakeFakeSdk;

std::string FakeLog() {
  void* h = ::dlopen(FakeRuntimeLibrary().c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!h) return "";
  auto fn = reinterpret_cast<const char* (*)()>(::dlsym(h, "fakeQaicLog"));
  std::string log = fn ? fn() : "";
  ::dlclose(h);
  return log;
}

std::vector<uint8_t> I64Bytes(std::vector<int64_t> v) {
  std::vector<uint8_t> b(v.size() * 8);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(AicDriver, WithoutTheSdkOneClearError) {
  ::setenv("QEFF_AIC_SDK_ROOT", (::testing::TempDir() + "/nothing").c_str(), 1);
  auto d = OpenDevice("aic");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("qaic-exec"), std::string::npos);
  EXPECT_NE(d.status().message().find("/nothing"), std::string::npos);
}

// The runtime binding alone: the documented call sequence, buffers bound by
// the runtime's mappings, retained state bound empty and kept on the card.
TEST(AicRuntime, LoadsBindsAndKeepsRetainedState) {
  auto missing = aic::Runtime::Open(::testing::TempDir() + "/no/libQAic.so");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  auto rt = aic::Runtime::Open(FakeRuntimeLibrary());
  ASSERT_TRUE(rt.ok()) << rt.status();
  const std::string dir = ::testing::TempDir() + "/rt_qpc";
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(base::WriteFileAtomically(dir + "/programqpc.bin",
                                        "input_ids 1 7 16 1\n"
                                        "position_ids 1 7 16 1\n"
                                        "past_key.0 1 1 4096 0\n"
                                        "logits 2 0 16 0\n"
                                        "past_key.0_RetainedState 2 1 4096 0\n")
                  .ok());
  auto prog = (*rt)->Load(dir, 0);
  ASSERT_TRUE(prog.ok()) << prog.status();
  ASSERT_EQ((*prog)->bindings().size(), 5u);
  EXPECT_TRUE((*prog)->bindings()[2].retained);
  EXPECT_FALSE((*prog)->bindings()[3].retained);
  auto a = (*prog)->Run(
      {{"input_ids", I64Bytes({3, 4})}, {"position_ids", I64Bytes({0, 1})}});
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = (*prog)->Run({{"input_ids", I64Bytes({10})},  // partial: 1 token
                         {"position_ids", I64Bytes({2})}});
  ASSERT_TRUE(b.ok()) << b.status();
  float f[4];
  std::memcpy(f, b->at("logits").data(), 16);
  EXPECT_EQ(f[0], 17.0f);  // the state the card kept: 3 + 4 + 10
  EXPECT_EQ(f[1], 2.0f);
  EXPECT_EQ(f[2], 2.0f);
  EXPECT_EQ(b->count("past_key.0_RetainedState"), 0u);
  auto bad = (*prog)->Run({{"input_ids", I64Bytes({1})}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto unknown = (*prog)->Run({{"input_ids", I64Bytes({1})},
                               {"position_ids", I64Bytes({1})},
                               {"attention_mask", I64Bytes({1})}});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  prog->reset();
  const std::string log = FakeLog();
  for (const char* call :
       {"qaicCreateContext", "qaicCreateQueue", "qaicOpenQpcFile",
        "qaicCreateProgram", "qaicLoadProgram",
        "qaicRunActivationCmd(activate)", "qaicCreateExecObj",
        "qaicExecObjSetData", "qaicEnqueueExecObj",
        "qaicExecObjWaitForCompletion", "qaicRunActivationCmd(deactivate)",
        "qaicReleaseProgram", "qaicReleaseContext"})
    EXPECT_NE(log.find(call), std::string::npos) << call;
}

TEST(AicDriver, CompilesThroughTheSdkAndRunsThroughItsRuntime) {
  const std::string root =
      MakeFakeSdk(::testing::TempDir() + "/aic_sdk", FakeRuntimeLibrary());
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
  const auto specs = PrefillDecodeSpecializations(1, 4, 16);
  auto p = (*d)->Compile(m->graph, specs, o);
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
  auto sj = base::ReadFile(root + "/last_specs");
  ASSERT_TRUE(sj.ok());
  EXPECT_NE(sj->find("\"seq_len\": \"4\""), std::string::npos);

  const std::string dir = ::testing::TempDir() + "/aic_program";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_TRUE((*d)->SaveProgram(**p, dir, "").ok());
  EXPECT_TRUE(base::FileExists(dir + "/qpc/programqpc.bin"));
  auto loaded = (*d)->LoadProgram(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->specializations().size(), 2u);

  // The fake compiler's program is opaque; give the fake runtime the IO of
  // this model (tiny llama: vocab 40, last-position logits) to run it.
  std::string desc = "input_ids 1 7 32 1\nposition_ids 1 7 32 1\n";
  for (int l = 0; l < 2; ++l)
    for (const char* kv : {"past_key.", "past_value."})
      desc += std::string(kv) + std::to_string(l) + " 1 1 4096 0\n";
  desc += "logits 2 0 160 0\n";
  for (int l = 0; l < 2; ++l)
    for (const char* kv : {"past_key.", "past_value."})
      desc +=
          std::string(kv) + std::to_string(l) + "_RetainedState 2 1 4096 0\n";
  ASSERT_TRUE(
      base::WriteFileAtomically(dir + "/qpc/programqpc.bin", desc).ok());
  auto s = (*d)->Load(*loaded);
  ASSERT_TRUE(s.ok()) << s.status();
  TensorMap prefill = {{"input_ids", ir::Tensor::I64({1, 4}, {3, 7, 1, 9})},
                       {"position_ids", ir::Tensor::I64({1, 4}, {0, 1, 2, 3})}};
  auto r1 = (*s)->Run("Prefill", prefill);
  ASSERT_TRUE(r1.ok()) << r1.status();
  ASSERT_EQ(r1->at("logits").dims(), (std::vector<int64_t>{1, 1, 40}));
  EXPECT_EQ(r1->at("logits").data<float>()[0], 20.0f);
  TensorMap decode = {{"input_ids", ir::Tensor::I64({1, 1}, {5})},
                      {"position_ids", ir::Tensor::I64({1, 1}, {4})}};
  auto r2 = (*s)->Run("Decode", decode);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->at("logits").data<float>()[0], 25.0f);  // state kept
  EXPECT_EQ(r2->at("logits").data<float>()[1], 2.0f);
  EXPECT_EQ(r2->at("logits").data<float>()[2], 4.0f);
  EXPECT_EQ(r2->count("past_key.0_RetainedState"), 0u);
  EXPECT_FALSE((*s)->Run("Verify", decode).ok());

  // The compile's scratch folder goes with its program (the saved copy
  // stays).
  auto count_scratch = [] {
    int n = 0;
    for (const auto& e :
         std::filesystem::directory_iterator(::testing::TempDir()))
      n += e.path().filename().string().rfind("qeff-aic-", 0) == 0;
    return n;
  };
  const int before = count_scratch();
  p->reset();
  EXPECT_EQ(count_scratch(), before - 1);
  EXPECT_TRUE(base::FileExists(dir + "/qpc/programqpc.bin"));

  // A failing compiler is the compile's error, with its output, and leaves
  // no scratch folder.
  ::setenv("FAKE_QAIC_FAIL", "error: out of VTCM", 1);
  auto bad = (*d)->Compile(m->graph, specs, o);
  ::unsetenv("FAKE_QAIC_FAIL");
  EXPECT_EQ(count_scratch(), before - 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("out of VTCM"), std::string::npos);
  EXPECT_NE(bad.status().message().find("exitcode: 3"), std::string::npos);
}

}  // namespace
}  // namespace qeff::hw
