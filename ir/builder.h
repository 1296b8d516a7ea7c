// GraphBuilder: terse construction of IR graphs for model builders and
// passes. Each Op() adds one node and returns its first output; names given
// to ops become the output value's name (the node gets the same name).
// It does not infer shapes: call ir::InferShapes on the finished graph.
#ifndef QEFF_IR_BUILDER_H_
#define QEFF_IR_BUILDER_H_

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace qeff::ir {

class GraphBuilder {
 public:
  explicit GraphBuilder(Graph* g) : g_(g) {}
  Graph& graph() { return *g_; }

  ValueId Input(std::string name, DType t, Shape s) {
    return g_->AddInput(std::move(name), {t, std::move(s)});
  }
  ValueId Const(std::string name, Tensor t) {
    return g_->AddConstant(std::move(name), std::move(t));
  }
  ValueId ConstI64(std::vector<int64_t> values, std::string name = "");
  ValueId ScalarI64(int64_t v, std::string name = "");
  ValueId ScalarF32(float v, std::string name = "");

  ValueId Op(std::string op_type, std::vector<ValueId> inputs,
             std::map<std::string, Attribute> attrs = {}, std::string name = "",
             std::string domain = "");
  std::vector<ValueId> OpN(std::string op_type, std::vector<ValueId> inputs,
                           int num_outputs,
                           std::map<std::string, Attribute> attrs = {},
                           std::string name = "", std::string domain = "");

  // Common shorthands.
  ValueId MatMul(ValueId a, ValueId b, std::string name = "") {
    return Op("MatMul", {a, b}, {}, std::move(name));
  }
  ValueId Add(ValueId a, ValueId b, std::string name = "") {
    return Op("Add", {a, b}, {}, std::move(name));
  }
  ValueId Mul(ValueId a, ValueId b, std::string name = "") {
    return Op("Mul", {a, b}, {}, std::move(name));
  }
  ValueId Transpose(ValueId x, std::vector<int64_t> perm,
                    std::string name = "") {
    return Op("Transpose", {x}, {{"perm", Attribute::Ints(std::move(perm))}},
              std::move(name));
  }
  ValueId Reshape(ValueId x, std::vector<int64_t> shape,
                  std::string name = "") {
    return Op("Reshape", {x, ConstI64(std::move(shape))}, {}, std::move(name));
  }
  ValueId Unsqueeze(ValueId x, std::vector<int64_t> axes,
                    std::string name = "") {
    return Op("Unsqueeze", {x, ConstI64(std::move(axes))}, {}, std::move(name));
  }

 private:
  Graph* g_;
};

}  // namespace qeff::ir

#endif  // QEFF_IR_BUILDER_H_
