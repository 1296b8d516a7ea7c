// Links and exercises each system library the workspace wraps: oneTBB (a flow
// graph), Abseil (StatusOr, strings), protobuf (a generated message round
// trip) and ONNX (a model built with its protos and checked by its checker).
#include <atomic>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "oneapi/tbb/flow_graph.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "third_party/smoke.pb.h"

namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError(absl::StrCat(x, " is odd"));
  return x / 2;
}

TEST(Smoke, AbseilStatusOr) {
  EXPECT_EQ(*Half(8), 4);
  EXPECT_EQ(Half(3).status().message(), "3 is odd");
}

TEST(Smoke, TbbFlowGraph) {
  tbb::flow::graph g;
  std::atomic<int> sum{0};
  tbb::flow::function_node<int, int> square(g, tbb::flow::unlimited,
                                            [](int x) { return x * x; });
  tbb::flow::function_node<int> add(g, tbb::flow::serial, [&](int x) {
    sum += x;
    return tbb::flow::continue_msg();
  });
  tbb::flow::make_edge(square, add);
  for (int i = 1; i <= 10; ++i) square.try_put(i);
  g.wait_for_all();
  EXPECT_EQ(sum.load(), 385);
}

TEST(Smoke, ProtobufRoundTrip) {
  qeff::smoke::Probe p;
  p.set_name("probe");
  p.add_dims(3);
  p.add_dims(-1);
  std::string bytes;
  ASSERT_TRUE(p.SerializeToString(&bytes));
  qeff::smoke::Probe q;
  ASSERT_TRUE(q.ParseFromString(bytes));
  EXPECT_EQ(q.name(), "probe");
  ASSERT_EQ(q.dims_size(), 2);
  EXPECT_EQ(q.dims(1), -1);
}

TEST(Smoke, OnnxChecker) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* graph = model.mutable_graph();
  graph->set_name("g");
  auto* node = graph->add_node();
  node->set_op_type("Relu");
  node->add_input("x");
  node->add_output("y");
  for (auto* vi : {graph->add_input(), graph->add_output()}) {
    vi->set_name(vi == &graph->input(0) ? "x" : "y");
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_value(4);
  }
  EXPECT_NO_THROW(onnx::checker::check_model(model));
  node->set_op_type("NoSuchOp");
  EXPECT_THROW(onnx::checker::check_model(model), std::exception);
}

}  // namespace
