#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "ir/graph.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "onnx/onnx_pb.h"

namespace qeff::ir {
namespace {

std::string TempPath(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/", name);
}

bool FileExists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string ReadFile(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << bytes;
}

// A canonical text of a graph's structure: nodes in topological order with
// their inputs/outputs by name and attributes, graph I/O with types, and
// constants with their bytes.
std::string Describe(const Graph& g) {
  std::string out;
  for (ValueId v : g.inputs())
    absl::StrAppend(&out, "in ", g.value(v).name, ": ",
                    g.value(v).type.ToString(), "\n");
  for (ValueId v : g.Constants()) {
    const Tensor& t = *g.value(v).constant;
    std::string bytes(reinterpret_cast<const char*>(t.raw()), t.byte_size());
    absl::StrAppend(&out, "const ", g.value(v).name, ": ", t.TypeString(), " #",
                    std::hash<std::string>()(bytes), "\n");
  }
  auto order = g.TopologicalOrder();
  EXPECT_TRUE(order.ok()) << order.status();
  for (NodeId id : *order) {
    const Node& n = g.node(id);
    std::vector<std::string> ins, outs, attrs;
    for (ValueId v : n.inputs)
      ins.push_back(v == kNoValue ? "" : g.value(v).name);
    for (ValueId v : n.outputs) outs.push_back(g.value(v).name);
    for (const auto& [k, a] : n.attrs)
      attrs.push_back(absl::StrCat(k, ":", AttributeKindName(a.kind())));
    absl::StrAppend(&out, n.domain, ".", n.op_type, " '", n.name, "' (",
                    absl::StrJoin(ins, ", "), ") -> (",
                    absl::StrJoin(outs, ", "), ") {",
                    absl::StrJoin(attrs, ", "), "}\n");
  }
  for (ValueId v : g.outputs())
    absl::StrAppend(&out, "out ", g.value(v).name, ": ",
                    g.value(v).type.ToString(), "\n");
  return out;
}

Tensor Iota(std::vector<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = 0.25f * static_cast<float>(i % 97);
  return Tensor::F32(std::move(dims), v);
}

// x[batch, seq_len, 64] @ w[64, 32] (external) + b[32] (inline) -> Softmax.
Graph SmallModel() {
  Graph g;
  Shape xs({Dim::Symbol("batch"), Dim::Symbol("seq_len"), Dim(64)});
  ValueId x = g.AddInput("x", {DType::kF32, xs});
  ValueId w = g.AddConstant("w", Iota({64, 32}));
  ValueId b = g.AddConstant("b", Iota({32}));
  NodeId mm = g.AddNode("MatMul", {x, w}, 1, {}, "mm");
  NodeId add =
      g.AddNode("Add", {g.node(mm).outputs[0], b}, 1, {}, "mm");  // dup
  g.value(g.node(add).outputs[0]).name = "";                      // empty
  NodeId sm = g.AddNode("Softmax", {g.node(add).outputs[0]}, 1,
                        {{"axis", Attribute::Int(-1)}}, "softmax");
  g.value(g.node(sm).outputs[0]).type = {
      DType::kF32,
      Shape({Dim::Symbol("batch"), Dim::Symbol("seq_len"), Dim(32)})};
  g.AddOutput(g.node(sm).outputs[0]);
  return g;
}

TEST(OnnxIo, RoundTripKeepsStructureAndMapsExternalData) {
  Graph g = SmallModel();
  std::string path = TempPath("small.onnx");
  ASSERT_TRUE(ExportOnnx(g, path).ok()) << ExportOnnx(g, path);
  EXPECT_TRUE(FileExists(path + ".data"));
  auto g2 = ImportOnnx(path);
  ASSERT_TRUE(g2.ok()) << g2.status();
  // w (8 KB) is mapped from the data file; b (128 B) is inline.
  auto w = g2->value(*g2->FindInput("x")).uses;
  bool saw_mapped = false;
  for (ValueId v : g2->Constants()) {
    const Tensor& t = *g2->value(v).constant;
    if (g2->value(v).name == "w") {
      EXPECT_TRUE(t.buffer()->is_mapped());
      saw_mapped = true;
    } else {
      EXPECT_FALSE(t.buffer()->is_mapped());
    }
  }
  EXPECT_TRUE(saw_mapped);
  // Names were made unique on export: the Add's output gets a fresh name.
  std::string d2 = Describe(*g2);
  EXPECT_TRUE(absl::StrContains(d2, ".Add 'mm__1' (mm, b) -> (_v")) << d2;
  EXPECT_TRUE(absl::StrContains(d2, "in x: f32[batch, seq_len, 64]")) << d2;
  // A second round trip is an identity on the structure.
  std::string path3 = TempPath("small3.onnx");
  ASSERT_TRUE(ExportOnnx(*g2, path3).ok());
  auto g3 = ImportOnnx(path3);
  ASSERT_TRUE(g3.ok()) << g3.status();
  EXPECT_EQ(Describe(*g3), d2);
}

TEST(OnnxIo, AllInlineWritesNoDataFile) {
  Graph g = SmallModel();
  std::string path = TempPath("inline.onnx");
  ExportOptions opt;
  opt.all_inline = true;
  ASSERT_TRUE(ExportOnnx(g, path, opt).ok());
  EXPECT_FALSE(FileExists(path + ".data"));
  auto g2 = ImportOnnx(path);
  ASSERT_TRUE(g2.ok()) << g2.status();
  for (ValueId v : g2->Constants())
    EXPECT_FALSE(g2->value(v).constant->buffer()->is_mapped());
}

TEST(OnnxIo, DerivedAndUnknownDimsRoundTrip) {
  Graph g;
  Shape s(
      {Dim::Symbol("batch"), Dim::Symbol("ctx_len") - 1, Dim::Unknown(), 4});
  ValueId x = g.AddInput("x", {DType::kF16, s});
  NodeId n = g.AddNode("Neg", {x}, 1, {}, "neg");
  g.value(g.node(n).outputs[0]).type = {DType::kF16, s};
  g.AddOutput(g.node(n).outputs[0]);
  std::string path = TempPath("dims.onnx");
  ASSERT_TRUE(ExportOnnx(g, path).ok()) << ExportOnnx(g, path);
  auto g2 = ImportOnnx(path);
  ASSERT_TRUE(g2.ok()) << g2.status();
  EXPECT_EQ(g2->value(g2->inputs()[0]).type.ToString(),
            "f16[batch, (ctx_len - 1), ?, 4]");
  EXPECT_EQ(g2->value(g2->outputs()[0]).type.ToString(),
            g.value(g.outputs()[0]).type.ToString());
  EXPECT_FALSE(FileExists(path + ".data"));
}

TEST(OnnxIo, OmittedOptionalInputsAndDuplicateOutputs) {
  Graph g;
  ValueId x = g.AddInput("x", {DType::kF32, Shape::Of({2, 3})});
  ValueId lo = g.AddConstant("lo", Tensor::ScalarF32(0.0f));
  NodeId clip = g.AddNode("Clip", {x, lo, kNoValue}, 1, {}, "clip");
  ValueId y = g.node(clip).outputs[0];
  g.value(y).type = {DType::kF32, Shape::Of({2, 3})};
  g.AddOutput(y);
  g.AddOutput(y);  // the same value twice
  std::string path = TempPath("clip.onnx");
  absl::Status s = ExportOnnx(g, path);
  ASSERT_TRUE(s.ok()) << s;
  auto g2 = ImportOnnx(path);
  ASSERT_TRUE(g2.ok()) << g2.status();
  ASSERT_EQ(g2->outputs().size(), 2u);
  EXPECT_NE(g2->value(g2->outputs()[0]).name, g2->value(g2->outputs()[1]).name);
  const Node* c = g2->Producer(g2->outputs()[0]);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->op_type, "Clip");
  EXPECT_EQ(c->inputs.size(), 2u);  // trailing omitted input trimmed
}

// ---- bad input: each gives a Status that names the problem --------------

onnx::ModelProto OneNodeModel(const std::string& op) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* o = m.add_opset_import();
  o->set_domain("");
  o->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_value(2);
  *g->add_output() = *in;
  g->mutable_output(0)->set_name("y");
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name("the_node");
  n->add_input("x");
  n->add_output("y");
  return m;
}

absl::Status ImportModel(const onnx::ModelProto& m, const std::string& name) {
  std::string path = TempPath(name);
  WriteFile(path, m.SerializeAsString());
  return ImportOnnx(path).status();
}

TEST(OnnxIoBadInput, TruncatedAndCorruptFiles) {
  Graph g = SmallModel();
  std::string path = TempPath("good.onnx");
  ExportOptions opt;
  opt.all_inline = true;
  ASSERT_TRUE(ExportOnnx(g, path, opt).ok());
  std::string bytes = ReadFile(path);
  for (size_t cut : {bytes.size() / 2, bytes.size() - 3, size_t{7}}) {
    std::string p = TempPath(absl::StrCat("trunc", cut, ".onnx"));
    WriteFile(p, bytes.substr(0, cut));
    auto r = ImportOnnx(p);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_TRUE(absl::StrContains(r.status().message(), p)) << r.status();
  }
  std::string garbage(4096, '\0');
  for (size_t i = 0; i < garbage.size(); ++i)
    garbage[i] = static_cast<char>((i * 2654435761u) >> 13);
  std::string p = TempPath("garbage.onnx");
  WriteFile(p, garbage);
  auto r = ImportOnnx(p);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "garbage.onnx"));
  auto missing = ImportOnnx(TempPath("no_such.onnx"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "no_such.onnx"));
}

TEST(OnnxIoBadInput, MissingExternalDataFile) {
  Graph g = SmallModel();
  std::string path = TempPath("ext.onnx");
  ASSERT_TRUE(ExportOnnx(g, path).ok());
  ASSERT_EQ(std::remove((path + ".data").c_str()), 0);
  auto r = ImportOnnx(path);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "ext.onnx.data"))
      << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "'w'")) << r.status();
}

TEST(OnnxIoBadInput, ExternalDataOutOfRange) {
  Graph g = SmallModel();
  std::string path = TempPath("ext_short.onnx");
  ASSERT_TRUE(ExportOnnx(g, path).ok());
  WriteFile(path + ".data", "short");
  auto r = ImportOnnx(path);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "'w'")) << r.status();
}

TEST(OnnxIoBadInput, UnknownOp) {
  absl::Status s = ImportModel(OneNodeModel("FooBarOp"), "unknown_op.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "FooBarOp")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "the_node")) << s;
}

TEST(OnnxIoBadInput, UnknownCustomDomainOp) {
  onnx::ModelProto m = OneNodeModel("CtxFrobnicate");
  m.mutable_graph()->mutable_node(0)->set_domain("com.qualcomm.cloud");
  auto* o = m.add_opset_import();
  o->set_domain("com.qualcomm.cloud");
  o->set_version(1);
  absl::Status s = ImportModel(m, "unknown_custom.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "CtxFrobnicate")) << s;
}

TEST(OnnxIoBadInput, WrongAttributeType) {
  onnx::ModelProto m = OneNodeModel("Softmax");
  auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
  a->set_name("axis");
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(1.0f);
  absl::Status s = ImportModel(m, "bad_attr.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "the_node")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "'axis'")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "FLOAT")) << s;
}

TEST(OnnxIoBadInput, ControlFlowIsRejected) {
  onnx::ModelProto m = OneNodeModel("If");
  auto* n = m.mutable_graph()->mutable_node(0);
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* a = n->add_attribute();
    a->set_name(branch);
    a->set_type(onnx::AttributeProto::GRAPH);
    auto* sub = a->mutable_g();
    sub->set_name(branch);
    auto* out = sub->add_output();
    out->set_name(absl::StrCat(branch, "_out"));
    out->mutable_type()->mutable_tensor_type()->set_elem_type(
        onnx::TensorProto::FLOAT);
    auto* id = sub->add_node();
    id->set_op_type("Identity");
    id->add_input("x");
    id->add_output(absl::StrCat(branch, "_out"));
  }
  absl::Status s = ImportModel(m, "if.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "control flow")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "the_node")) << s;
}

TEST(OnnxIoBadInput, NewerOpsetAndUndefinedInput) {
  onnx::ModelProto m = OneNodeModel("Neg");
  m.mutable_opset_import(0)->set_version(18);
  absl::Status s = ImportModel(m, "opset18.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "opset 18")) << s;

  onnx::ModelProto m2 = OneNodeModel("Neg");
  m2.mutable_graph()->mutable_node(0)->set_input(0, "nowhere");
  s = ImportModel(m2, "undefined.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "'nowhere'")) << s;
}

TEST(OnnxIoBadInput, StringInitializerIsRejected) {
  onnx::ModelProto m = OneNodeModel("Neg");
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("names");
  t->set_data_type(onnx::TensorProto::STRING);
  t->add_string_data("a");
  t->add_dims(1);
  absl::Status s = ImportModel(m, "string_init.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "'names'")) << s;
}

TEST(OnnxIoBadInput, WrongTypedDataCount) {
  onnx::ModelProto m = OneNodeModel("Neg");
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("c");
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(3);
  t->add_int64_data(1);
  absl::Status s = ImportModel(m, "count.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "int64_data")) << s;
}

TEST(OnnxIo, TypedFieldInitializers) {
  onnx::ModelProto m = OneNodeModel("Neg");
  auto* g = m.mutable_graph();
  auto* h = g->add_initializer();
  h->set_name("h");
  h->set_data_type(onnx::TensorProto::FLOAT16);
  h->add_dims(2);
  h->add_int32_data(0x3C00);  // 1.0
  h->add_int32_data(0xC000);  // -2.0
  auto* i8 = g->add_initializer();
  i8->set_name("i8");
  i8->set_data_type(onnx::TensorProto::INT8);
  i8->add_dims(2);
  i8->add_int32_data(-5);
  i8->add_int32_data(7);
  // Keep them alive as graph outputs.
  for (const char* n : {"h", "i8"}) {
    auto* o = g->add_output();
    o->set_name(n);
    o->mutable_type()->mutable_tensor_type()->set_elem_type(
        std::string(n) == "h" ? onnx::TensorProto::FLOAT16
                              : onnx::TensorProto::INT8);
    o->mutable_type()
        ->mutable_tensor_type()
        ->mutable_shape()
        ->add_dim()
        ->set_dim_value(2);
  }
  std::string path = TempPath("typed.onnx");
  WriteFile(path, m.SerializeAsString());
  auto r = ImportOnnx(path);
  ASSERT_TRUE(r.ok()) << r.status();
  const Tensor& ht = *r->value(r->outputs()[1]).constant;
  EXPECT_EQ(ht.dtype(), DType::kF16);
  EXPECT_EQ(ht.GetDouble(1), -2.0);
  const Tensor& it = *r->value(r->outputs()[2]).constant;
  EXPECT_EQ(it.GetInt(0), -5);
  EXPECT_EQ(it.GetInt(1), 7);
}

// ---- custom ops -----------------------------------------------------------

Graph CustomOpModel() {
  Graph g;
  Dim B = Dim::Symbol("batch_size"), S = Dim::Symbol("seq_len"),
      C = Dim::Symbol("ctx_len");
  ValueId cache = g.AddInput("past_key.0", {DType::kF32, Shape({B, 2, C, 4})});
  ValueId pos = g.AddInput("position_ids", {DType::kI64, Shape({B, S})});
  ValueId upd = g.AddInput("updates", {DType::kF32, Shape({B, 2, S, 4})});
  ValueId bidx = g.AddInput("batch_index", {DType::kI64, Shape({B, 1})});
  ValueId idx = g.AddInput("ctx_indices", {DType::kI64, Shape({1, 1, C})});
  ValueId w = g.AddConstant("norm.weight", Iota({4}));
  auto set = [&](NodeId n, Shape s) {
    g.value(g.node(n).outputs[0]).type = {DType::kF32, std::move(s)};
    return g.node(n).outputs[0];
  };
  ValueId k = set(g.AddNode("CtxScatter", {cache, pos, upd}, 1, {}, "scatter",
                            std::string(kQaicDomain)),
                  Shape({B, 2, C, 4}));
  ValueId kcb = set(g.AddNode("CtxScatterCB", {cache, bidx, pos, upd}, 1, {},
                              "scatter_cb", std::string(kQaicDomain)),
                    Shape({B, 2, C, 4}));
  ValueId gk = set(g.AddNode("CtxGather", {k, idx}, 1, {}, "gather",
                             std::string(kQaicDomain)),
                   Shape({B, 2, C, 4}));
  ValueId gcb = set(g.AddNode("CtxGatherCB", {kcb, bidx, idx}, 1, {},
                              "gather_cb", std::string(kQaicDomain)),
                    Shape({B, 2, C, 4}));
  ValueId n = set(g.AddNode("CustomRMSNorm", {gk, w}, 1,
                            {{"epsilon", Attribute::Float(1e-6f)}}, "norm",
                            std::string(kQtiDomain)),
                  Shape({B, 2, C, 4}));
  g.AddOutput(n);
  g.AddOutput(gcb);
  g.value(k).name = "past_key.0_RetainedState";
  g.AddOutput(k);
  return g;
}

TEST(OnnxIo, CustomOpsExportWithFunctionsThatPassTheChecker) {
  Graph g = CustomOpModel();
  std::string path = TempPath("custom.onnx");
  absl::Status s = ExportOnnx(g, path);  // validate: checker + strict inference
  ASSERT_TRUE(s.ok()) << s;
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(ReadFile(path)));
  EXPECT_EQ(m.ir_version(), 8);
  EXPECT_EQ(m.functions_size(), 5);
  std::set<std::string> domains;
  for (const auto& o : m.opset_import()) domains.insert(o.domain());
  EXPECT_TRUE(domains.count("com.qualcomm.cloud"));
  EXPECT_TRUE(domains.count("com.qti.aisw.onnx"));

  // Import keeps custom ops as nodes ...
  auto g2 = ImportOnnx(path);
  ASSERT_TRUE(g2.ok()) << g2.status();
  int custom = 0;
  for (NodeId id : g2->LiveNodes()) custom += !g2->node(id).domain.empty();
  EXPECT_EQ(custom, 5);
  // ... or expands their function bodies into standard ops.
  ImportOptions inl;
  inl.inline_functions = true;
  auto g3 = ImportOnnx(path, inl);
  ASSERT_TRUE(g3.ok()) << g3.status();
  int scatter_nd = 0;
  for (NodeId id : g3->LiveNodes()) {
    EXPECT_TRUE(g3->node(id).domain.empty()) << g3->node(id).Describe();
    scatter_nd += g3->node(id).op_type == "ScatterND";
  }
  EXPECT_EQ(scatter_nd, 2);
  EXPECT_EQ(g3->value(g3->outputs()[2]).name, "past_key.0_RetainedState");
}

}  // namespace
}  // namespace qeff::ir
