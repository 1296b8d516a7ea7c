// Expected command lines are written out from QEfficient's code
// (quic/efficient-transformers): QEfficient/base/modeling_qeff.py
// QEFFBaseModel._compile with the options QEFFAutoModelForCausalLM.compile
// passes (compile_only, retained_state, convert_to_fp16, mxfp6_matmul,
// aic_num_cores, then the user's compiler_options), constants.COMPILER =
// ["/opt/qti-aic/exec/qaic-exec", "-aic-hw"], DEFAULT_AIC_HW_VERSION =
// "ai100"; and QEfficient/compile/compile_helper.py
// compile_kv_model_on_cloud_ai_100 for the legacy cloud.compile path.
#include "hw/aic/aic_compile.h"

#include <algorithm>
#include <filesystem>

#include "base/files.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "hw/aic/fake_sdk_testing.h"

namespace qeff::hw::aic {
namespace {

using Argv = std::vector<std::string>;

Sdk OptSdk() {
  Sdk s;
  s.root = "/opt/qti-aic";
  s.compiler = "/opt/qti-aic/exec/qaic-exec";
  return s;
}

CompileFiles Files(CommandStyle style, int devices, bool mxint8 = false) {
  CompileFiles f;
  f.onnx = "/q/m.onnx";
  f.specializations_json = "/q/specializations.json";
  if (style == CommandStyle::kBaseModel) {
    f.custom_io_yaml = "/q/custom_io.yaml";
    f.binary_dir = "/q/qpc";
    if (devices > 1)
      f.mdp_json = "/q/mdp_ts_" + std::to_string(devices) + ".json";
  } else {
    f.custom_io_yaml =
        mxint8 ? "/q/custom_io_int8.yaml" : "/q/custom_io_fp16.yaml";
    f.binary_dir = "/q/qpcs";
    if (devices > 1) f.mdp_json = "/q/mdp_ts_config.json";
  }
  return f;
}

TEST(AicCompile, BaseModelDefaults) {
  CompileOptions o;
  EXPECT_EQ(CompileCommand(CommandStyle::kBaseModel, OptSdk(),
                           Files(CommandStyle::kBaseModel, 1), o),
            (Argv{"/opt/qti-aic/exec/qaic-exec", "-aic-hw",
                  "-aic-hw-version=ai100", "-m=/q/m.onnx", "-compile-only",
                  "-retained-state", "-convert-to-fp16", "-aic-num-cores=16",
                  "-network-specialization-config=/q/specializations.json",
                  "-custom-IO-list-file=/q/custom_io.yaml",
                  "-aic-binary-dir=/q/qpc"}));
}

TEST(AicCompile, BaseModelAllOptions) {
  CompileOptions o;
  o.mxfp6_matmul = true;
  o.num_cores = 14;
  o.aic_mos = 1;
  o.aic_enable_depth_first = true;
  o.num_devices = 4;
  EXPECT_EQ(CompileCommand(CommandStyle::kBaseModel, OptSdk(),
                           Files(CommandStyle::kBaseModel, 4), o),
            (Argv{"/opt/qti-aic/exec/qaic-exec", "-aic-hw",
                  "-aic-hw-version=ai100", "-m=/q/m.onnx", "-compile-only",
                  "-retained-state", "-convert-to-fp16", "-mxfp6-matmul",
                  "-aic-num-cores=14", "-mos=1", "-aic-enable-depth-first",
                  "-mdp-load-partition-config=/q/mdp_ts_4.json",
                  "-network-specialization-config=/q/specializations.json",
                  "-custom-IO-list-file=/q/custom_io.yaml",
                  "-aic-binary-dir=/q/qpc"}));
}

TEST(AicCompile, LegacyDefaults) {
  CompileOptions o;
  EXPECT_EQ(CompileCommand(CommandStyle::kLegacy, OptSdk(),
                           Files(CommandStyle::kLegacy, 1), o),
            (Argv{"/opt/qti-aic/exec/qaic-exec", "-m=/q/m.onnx", "-aic-hw",
                  "-aic-hw-version=2.0",
                  "-network-specialization-config=/q/specializations.json",
                  "-convert-to-fp16", "-retained-state", "-aic-num-cores=16",
                  "-custom-IO-list-file=/q/custom_io_fp16.yaml",
                  "-compile-only", "-aic-binary-dir=/q/qpcs"}));
}

TEST(AicCompile, LegacyMosOnlyAboveZero) {
  CompileOptions o;
  o.mxfp6_matmul = true;
  o.mxint8_kv_cache = true;
  o.aic_mos = 0;
  o.aic_enable_depth_first = true;
  o.num_devices = 2;
  const Argv tail = {"-compile-only", "-aic-binary-dir=/q/qpcs",
                     "-mxfp6-matmul", "-aic-enable-depth-first",
                     "-mdp-load-partition-config=/q/mdp_ts_config.json"};
  Argv got = CompileCommand(CommandStyle::kLegacy, OptSdk(),
                            Files(CommandStyle::kLegacy, 2, true), o);
  ASSERT_GE(got.size(), tail.size());
  EXPECT_EQ(Argv(got.end() - tail.size(), got.end()), tail);
  EXPECT_NE(std::find(got.begin(), got.end(),
                      "-custom-IO-list-file=/q/custom_io_int8.yaml"),
            got.end());
  o.aic_mos = 2;
  got = CompileCommand(CommandStyle::kLegacy, OptSdk(),
                       Files(CommandStyle::kLegacy, 2, true), o);
  EXPECT_EQ(got[got.size() - 3], "-mos=2");
}

// Every combination: each option appears exactly when QEfficient emits it.
TEST(AicCompile, OptionGrid) {
  for (CommandStyle st : {CommandStyle::kBaseModel, CommandStyle::kLegacy})
    for (bool mx : {false, true})
      for (int mos : {-1, 0, 3})
        for (bool dfs : {false, true})
          for (int dev : {1, 2, 4})
            for (int cores : {0, 8}) {
              CompileOptions o;
              o.mxfp6_matmul = mx;
              o.aic_mos = mos;
              o.aic_enable_depth_first = dfs;
              o.num_devices = dev;
              o.num_cores = cores;
              Argv a = CompileCommand(st, OptSdk(), Files(st, dev), o);
              auto has = [&](const std::string& s) {
                return std::count(a.begin(), a.end(), s);
              };
              const bool base = st == CommandStyle::kBaseModel;
              EXPECT_EQ(has("-mxfp6-matmul"), mx ? 1 : 0);
              EXPECT_EQ(has("-aic-enable-depth-first"), dfs ? 1 : 0);
              const bool mos_emitted = base ? mos >= 0 : mos > 0;
              EXPECT_EQ(has("-mos=" + std::to_string(mos)),
                        mos_emitted ? 1 : 0);
              EXPECT_EQ(has(cores ? "-aic-num-cores=8" : "-aic-num-cores=16"),
                        1);
              EXPECT_EQ(has("-retained-state") + has("-convert-to-fp16") +
                            has("-compile-only") + has("-aic-hw"),
                        4);
              EXPECT_EQ(
                  has(base ? "-aic-hw-version=ai100" : "-aic-hw-version=2.0"),
                  1);
              EXPECT_EQ(std::count_if(a.begin(), a.end(),
                                      [](const std::string& s) {
                                        return s.rfind(
                                                   "-mdp-load-partition-config",
                                                   0) == 0;
                                      }),
                        dev > 1 ? 1 : 0);
              if (base) {
                EXPECT_EQ(a.back(), "-aic-binary-dir=/q/qpc");
              }
            }
}

TEST(AicCompile, GeneratedFiles) {
  EXPECT_EQ(CustomIoYaml({"past_key.0", "past_value.0"}, true),
            " - IOName: past_key.0\n   Precision: mxint8\n\n"
            " - IOName: past_value.0\n   Precision: mxint8\n\n"
            " - IOName: past_key.0_RetainedState\n   Precision: mxint8\n\n"
            " - IOName: past_value.0_RetainedState\n   Precision: mxint8\n\n");
  EXPECT_NE(CustomIoYaml({"past_key.0"}, false).find("Precision: float16"),
            std::string::npos);
  auto mdp = base::ParseJson(MdpPartitionJson(2, 16));
  ASSERT_TRUE(mdp.ok()) << mdp.status();
  EXPECT_EQ(base::WriteJson(*mdp),
            "{\"connections\":[{\"devices\":[0,1],\"type\":\"p2p\"}],"
            "\"partitions\":[{\"name\":\"Partition0\",\"devices\":[{"
            "\"deviceId\":0,\"numCores\":16},{\"deviceId\":1,\"numCores\":16}"
            "]}]}");
  // Continuous batching: QEfficient's key order and string values.
  auto specs = CausalLMSpecializations(32, 128, 1, 4);
  auto sj = base::ParseJson(QeffSpecializationsJson(specs));
  ASSERT_TRUE(sj.ok()) << sj.status();
  EXPECT_EQ(base::WriteJson(*sj),
            "{\"specializations\":[{\"full_batch_size\":\"4\",\"batch_size\":"
            "\"1\",\"seq_len\":\"32\",\"ctx_len\":\"128\"},{\"full_batch_size"
            "\":\"4\",\"batch_size\":\"4\",\"seq_len\":\"1\",\"ctx_len\":"
            "\"128\"}]}");
}

TEST(AicCompile, DetectsTheSdkOrSaysWhatIsMissing) {
  auto none = DetectSdk(::testing::TempDir() + "/no_sdk_here");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("exec/qaic-exec"), std::string::npos);
  const std::string root =
      testing::MakeFakeSdk(::testing::TempDir() + "/fake_sdk");
  auto sdk = DetectSdk(root);
  ASSERT_TRUE(sdk.ok()) << sdk.status();
  EXPECT_EQ(sdk->compiler, root + "/exec/qaic-exec");
  EXPECT_EQ(sdk->apps_version, "1.19.6");
  EXPECT_EQ(sdk->platform_version, "");
}

TEST(AicCompile, RunsTheCompilerAndSurfacesItsFailure) {
  const std::string root =
      testing::MakeFakeSdk(::testing::TempDir() + "/fake_sdk2");
  auto sdk = DetectSdk(root);
  ASSERT_TRUE(sdk.ok());
  const std::string dir = ::testing::TempDir() + "/compile_dir";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(base::WriteFileAtomically(dir + "/m.onnx", "onnx").ok());
  CompileOptions o;
  o.num_devices = 2;
  auto files = WriteCompileFiles(CommandStyle::kBaseModel, dir, dir + "/m.onnx",
                                 PrefillDecodeSpecializations(1, 8, 32),
                                 {"past_key.0", "past_value.0"}, o);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_TRUE(base::FileExists(dir + "/mdp_ts_2.json"));
  const Argv argv = CompileCommand(CommandStyle::kBaseModel, *sdk, *files, o);
  ASSERT_TRUE(RunCompiler(argv).ok());
  EXPECT_TRUE(base::FileExists(dir + "/qpc/programqpc.bin"));
  auto args = base::ReadFile(root + "/last_args");
  ASSERT_TRUE(args.ok());
  std::string joined;
  for (size_t i = 1; i < argv.size(); ++i)
    joined += (i > 1 ? " " : "") + argv[i];
  EXPECT_EQ(*args, joined + "\n");
  ::setenv("FAKE_QAIC_FAIL", "error: unsupported op Foo", 1);
  absl::Status fail = RunCompiler(argv);
  ::unsetenv("FAKE_QAIC_FAIL");
  ASSERT_FALSE(fail.ok());
  EXPECT_NE(fail.message().find("exitcode: 3"), std::string::npos) << fail;
  EXPECT_NE(fail.message().find("unsupported op Foo"), std::string::npos);
  EXPECT_NE(fail.message().find("-aic-hw-version=ai100"), std::string::npos);
}

}  // namespace
}  // namespace qeff::hw::aic
