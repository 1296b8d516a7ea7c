// ExportArtifact: QEfficient's layout, content keys and reuse; failures leave
// no partial artifact.
#include "passes/export.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "ir/builder.h"
#include "ir/onnx_import.h"
#include "ir/op_schema.h"
#include "models/arch/llama.h"
#include "models/test_model.h"
#include "passes/transform_lm.h"

namespace qeff::passes {
namespace {

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
  }
  return out;
}

ir::Graph TinyTransformed() {
  models::TestModelSpec spec;
  spec.hidden_size = 16;
  spec.intermediate_size = 32;
  spec.num_hidden_layers = 1;
  models::LlamaConfig c;
  auto g = models::BuildLlamaEager(c, models::MakeTestWeights(spec, &c));
  EXPECT_TRUE(g.ok());
  EXPECT_TRUE(ir::InferShapes(*g).ok());
  TransformLM t;
  EXPECT_TRUE(t.Run(*g).ok());
  EXPECT_TRUE(ir::InferShapes(*g).ok());
  return *std::move(g);
}

// QEfficient's hash_dict_params over a params file, by /usr/bin/python3
// ("" when Python is absent: the comparison then fails loudly).
std::string PythonParamsHash(const std::string& path) {
  const std::string cmd =
      "/usr/bin/python3 -c 'import hashlib,json,sys; "
      "d=json.load(open(sys.argv[1])); "
      "print(hashlib.sha256(json.dumps(d,skipkeys=True,sort_keys=True,"
      "indent=None,separators=(\",\",\":\"),ensure_ascii=True).encode())."
      "hexdigest()[:16])' " +
      path;
  std::FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return "";
  char buf[64] = {0};
  std::string out = std::fgets(buf, sizeof(buf), f) ? buf : "";
  ::pclose(f);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

TEST(ExportArtifact, LayoutKeyAndReuse) {
  ExportArtifactOptions o;
  o.qeff_home = ::testing::TempDir() + "/home1";
  o.architecture = "LlamaForCausalLM";
  o.params.Set("model", base::JsonValue::String("tiny"));
  ir::Graph g = TinyTransformed();
  auto a = ExportArtifact(g, o);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(a->reused);
  EXPECT_EQ(a->dir,
            o.qeff_home + "/LlamaForCausalLM/LlamaForCausalLM-" + a->hash16);
  EXPECT_EQ(a->hash16.size(), 16u);
  std::vector<std::string> files = List(a->dir);
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"LlamaForCausalLM.onnx",
                                             "LlamaForCausalLM.onnx.data",
                                             "hashed_export_params.json"}));
  std::ifstream params(a->dir + "/hashed_export_params.json");
  std::string text((std::istreambuf_iterator<char>(params)), {});
  EXPECT_TRUE(absl::StrContains(text, "\"model\": \"tiny\"")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\"constant_fold\"")) << text;
  // The folder's hash is QEfficient's to_hashable + SHA-256 of exactly this
  // file's dict, recomputed by Python's json and hashlib.
  EXPECT_EQ(PythonParamsHash(a->dir + "/hashed_export_params.json"), a->hash16);
  // It imports back with the contract's I/O.
  auto back = ir::ImportOnnx(a->onnx_path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->FindInput("past_key.0").has_value());
  EXPECT_TRUE(back->FindOutput("past_value.0_RetainedState").has_value());
  // Same inputs: reused. Other params: another key.
  auto again = ExportArtifact(g, o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->dir, a->dir);
  o.params.Set("model", base::JsonValue::String("other"));
  auto other = ExportArtifact(g, o);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->hash16, a->hash16);
  o.fp16_clip = false;
  auto unclipped = ExportArtifact(g, o);
  ASSERT_TRUE(unclipped.ok());
  EXPECT_NE(unclipped->hash16, other->hash16);
}

TEST(ExportArtifact, UnwritableHomeFailsCleanly) {
  std::string file = ::testing::TempDir() + "/a_file";
  std::ofstream(file) << "x";
  ExportArtifactOptions o;
  o.qeff_home = file + "/home";  // a path through a regular file
  o.architecture = "LlamaForCausalLM";
  auto a = ExportArtifact(TinyTransformed(), o);
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(
      absl::StrContains(a.status().message(), "cannot create directory"))
      << a.status();
}

TEST(ExportArtifact, FailedExportLeavesNothing) {
  // An output without a shape cannot be written as ONNX.
  ir::Graph g;
  ir::GraphBuilder b(&g);
  auto x = b.Input("x", ir::DType::kF32, ir::Shape({2}));
  auto y = b.Op("Relu", {x}, {}, "y");
  g.AddOutput(y);  // type left unranked: no shape inference
  ExportArtifactOptions o;
  o.qeff_home = ::testing::TempDir() + "/home2";
  o.architecture = "Broken";
  auto a = ExportArtifact(g, o);
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(List(o.qeff_home + "/Broken").empty())
      << "left behind: " << List(o.qeff_home + "/Broken")[0];
}

}  // namespace
}  // namespace qeff::passes
