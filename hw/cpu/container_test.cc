#include "hw/cpu/container.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "hw/conformance/test_graphs.h"
#include "hw/cpu/cpu_driver.h"
#include "hw/cpu/kernels.h"
#include "hw/cpu/plan.h"

namespace qeff::hw::cpu {
namespace {

namespace fs = std::filesystem;

std::string TmpDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  fs::path p = fs::path(t ? t : "/tmp") / name;
  fs::remove_all(p);
  return p.string();
}

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TinyLlamaOptions o;
    o.weights = ir::QuantFormat::kQ8_0;
    auto m = testing::MakeTinyLlama(o);
    ASSERT_TRUE(m.ok()) << m.status();
    auto d = OpenCpuDevice("cpu");
    ASSERT_TRUE(d.ok());
    dev_ = std::move(*d);
    auto p = dev_->Compile(m->graph, PrefillDecodeSpecializations(1, 4, 8), {});
    ASSERT_TRUE(p.ok()) << p.status();
    program_ = *p;
  }
  std::vector<float> Logits(std::shared_ptr<const Program> p) {
    auto s = dev_->Load(p);
    EXPECT_TRUE(s.ok()) << s.status();
    auto r = (*s)->Run(
        "Prefill", {{"input_ids", ir::Tensor::I64({1, 4}, {1, 2, 3, 4})},
                    {"position_ids", ir::Tensor::I64({1, 4}, {0, 1, 2, 3})}});
    EXPECT_TRUE(r.ok()) << r.status();
    auto d =
        (*s)->Run("Decode", {{"input_ids", ir::Tensor::I64({1, 1}, {5})},
                             {"position_ids", ir::Tensor::I64({1, 1}, {4})}});
    EXPECT_TRUE(d.ok()) << d.status();
    std::vector<float> out = r->at("logits").ToFloats();
    for (float f : d->at("logits").ToFloats()) out.push_back(f);
    return out;
  }
  // Writes the program, applies `edit` to program.bin, reads it back.
  absl::Status ReadEdited(const std::string& name,
                          const std::function<void(std::string&)>& edit) {
    const std::string dir = TmpDir(name);
    EXPECT_TRUE(WriteProgram(*program_, dir).ok());
    const std::string bin = dir + "/qpc/program.bin";
    std::string bytes;
    {
      std::ifstream f(bin, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(f), {});
    }
    edit(bytes);
    {
      std::ofstream f(bin, std::ios::binary | std::ios::trunc);
      f.write(bytes.data(), bytes.size());
    }
    return ReadProgram(dir).status();
  }
  std::unique_ptr<Device> dev_;
  std::shared_ptr<const Program> program_;
};

TEST_F(ContainerTest, RoundTripRunsTheSameAndMapsWeights) {
  const std::string dir = TmpDir("qpc-roundtrip");
  ASSERT_TRUE(WriteProgram(*program_, dir).ok());
  for (const char* f : {"specializations.json", "custom_io.yaml",
                        "qconfig.json", "qpc/program.bin"})
    EXPECT_TRUE(fs::exists(fs::path(dir) / f)) << f;
  EXPECT_FALSE(fs::exists(dir + ".tmp." + std::to_string(getpid())));
  auto back = ReadProgram(dir);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)->specializations().size(), 2u);
  const auto* cp = dynamic_cast<const CpuProgram*>(back->get());
  ASSERT_NE(cp, nullptr);
  for (const ir::Tensor& t : cp->constants)
    EXPECT_TRUE(t.buffer()->is_mapped());
  EXPECT_EQ(Logits(*back), Logits(program_));
  // A second writer of the same folder reuses it.
  EXPECT_TRUE(WriteProgram(*program_, dir).ok());
  std::ifstream yaml(dir + "/custom_io.yaml");
  std::string first;
  std::getline(yaml, first);
  EXPECT_EQ(first, "- IOName: past_key.0");
}

TEST_F(ContainerTest, ProvenanceGoesIntoQconfig) {
  const std::string dir = TmpDir("qpc-provenance");
  ASSERT_TRUE(
      WriteProgram(*program_, dir, "{\"model\":{\"sha\":\"abc\"}}").ok());
  std::ifstream f(dir + "/qconfig.json");
  std::string text((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(text.find(",\"provenance\":{\"model\":{\"sha\":\"abc\"}}}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"compile_options\""), std::string::npos) << text;
}

TEST_F(ContainerTest, Truncated) {
  auto st =
      ReadEdited("qpc-trunc", [](std::string& b) { b.resize(b.size() - 100); });
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st;
  st = ReadEdited("qpc-trunc2", [](std::string& b) { b.resize(60); });
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st;
}

TEST_F(ContainerTest, WrongVersion) {
  auto st = ReadEdited("qpc-version", [](std::string& b) { b[8] = 99; });
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("format version 99"), std::string::npos) << st;
}

TEST_F(ContainerTest, WrongInstructionSet) {
  auto st = ReadEdited("qpc-isa", [](std::string& b) {
    std::memset(&b[16], 0, 32);
    std::memcpy(&b[16], "riscv64", 7);
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("target 'riscv64'"), std::string::npos) << st;
}

// A program saved by a build of another kernel ABI fails with a named error
// (never runs with kernels whose meaning changed).
TEST_F(ContainerTest, AnotherKernelAbiFailsToLoadNamingIt) {
  const std::string dir = TmpDir("qpc-kabi");
  const std::string other =
      absl::StrCat(ProgramIsa(), "/kabi-", kKernelAbiVersion + 1);
  ASSERT_TRUE(WriteProgramForTarget(*program_, dir, "", other).ok());
  auto st = ReadProgram(dir).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("target '" + other + "'"), std::string::npos)
      << st;
  EXPECT_NE(st.message().find(ProgramTarget()), std::string::npos) << st;
  // Through the device, too.
  EXPECT_FALSE(dev_->LoadProgram(dir).ok());
}

// A plan naming a kernel this build lacks fails at load, naming the kernel
// and the step (never a null kernel at run time).
TEST_F(ContainerTest, UnknownKernelFailsToLoadNamingIt) {
  auto copy = std::make_shared<CpuProgram>(
      *std::dynamic_pointer_cast<const CpuProgram>(program_));
  ASSERT_FALSE(copy->plans[0].steps.empty());
  copy->plans[0].steps[0].op = "NoSuchKernelV9";
  const std::string dir = TmpDir("qpc-kernel");
  ASSERT_TRUE(WriteProgram(*copy, dir).ok());
  auto st = dev_->LoadProgram(dir).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("kernel 'NoSuchKernelV9'"), std::string::npos)
      << st;
  EXPECT_NE(st.message().find("program.bin"), std::string::npos) << st;
}

TEST_F(ContainerTest, DeviceSavesAndLoadsItsOwnPrograms) {
  const std::string dir = TmpDir("qpc-device");
  ASSERT_TRUE(fs::create_directories(dir));
  ASSERT_TRUE(dev_->SaveProgram(*program_, dir, "{\"model\":\"tiny\"}").ok());
  auto back = dev_->LoadProgram(dir);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Logits(*back), Logits(program_));
  EXPECT_EQ(dev_->target(), ProgramTarget());
  // num_cores does not change a cpu program, so it is not in its key.
  CompileOptions a, b;
  b.num_cores = 1;
  EXPECT_EQ(dev_->ProgramKeyOptionsJson(a), dev_->ProgramKeyOptionsJson(b));
  b.mxfp6_matmul = true;
  EXPECT_NE(dev_->ProgramKeyOptionsJson(a), dev_->ProgramKeyOptionsJson(b));
}

TEST_F(ContainerTest, BadChecksum) {
  auto st = ReadEdited("qpc-sum",
                       [](std::string& b) { b[kHeaderBytes + 20] ^= 0x5a; });
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("checksum"), std::string::npos) << st;
}

TEST_F(ContainerTest, NotACpuProgram) {
  struct Other : Program {
    std::vector<Specialization> s;
    const std::vector<Specialization>& specializations() const override {
      return s;
    }
    std::string device_kind() const override { return "reference"; }
  } other;
  EXPECT_FALSE(WriteProgram(other, TmpDir("qpc-other")).ok());
}

}  // namespace
}  // namespace qeff::hw::cpu
