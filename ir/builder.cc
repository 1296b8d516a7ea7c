#include "ir/builder.h"

namespace qeff::ir {

ValueId GraphBuilder::ConstI64(std::vector<int64_t> values, std::string name) {
  int64_t n = static_cast<int64_t>(values.size());
  return g_->AddConstant(std::move(name), Tensor::I64({n}, values));
}

ValueId GraphBuilder::ScalarI64(int64_t v, std::string name) {
  return g_->AddConstant(std::move(name), Tensor::ScalarI64(v));
}

ValueId GraphBuilder::ScalarF32(float v, std::string name) {
  return g_->AddConstant(std::move(name), Tensor::ScalarF32(v));
}

ValueId GraphBuilder::Op(std::string op_type, std::vector<ValueId> inputs,
                         std::map<std::string, Attribute> attrs,
                         std::string name, std::string domain) {
  return OpN(std::move(op_type), std::move(inputs), 1, std::move(attrs),
             std::move(name), std::move(domain))[0];
}

std::vector<ValueId> GraphBuilder::OpN(std::string op_type,
                                       std::vector<ValueId> inputs,
                                       int num_outputs,
                                       std::map<std::string, Attribute> attrs,
                                       std::string name, std::string domain) {
  NodeId n = g_->AddNode(std::move(op_type), std::move(inputs), num_outputs,
                         std::move(attrs), std::move(name), std::move(domain));
  return g_->node(n).outputs;
}

}  // namespace qeff::ir
