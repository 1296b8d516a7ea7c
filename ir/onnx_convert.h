// Internal to ONNX import/export: conversions between ONNX protos and IR
// types, tensors and attributes. Includes the ONNX protobuf headers, so only
// ir/onnx_*.cc include it.
#ifndef QEFF_IR_ONNX_CONVERT_H_
#define QEFF_IR_ONNX_CONVERT_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ir/buffer.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "onnx/onnx_pb.h"

namespace qeff::ir::onnx_internal {

// Resolves `data_location: EXTERNAL` tensors against the model's directory,
// mapping each data file once.
class ExternalData {
 public:
  explicit ExternalData(std::string model_dir)
      : model_dir_(std::move(model_dir)) {}
  // A window of `bytes` bytes of the tensor's external file.
  absl::StatusOr<std::shared_ptr<Buffer>> Resolve(const onnx::TensorProto& t,
                                                  size_t bytes);

 private:
  std::string model_dir_;
  std::map<std::string, std::shared_ptr<const MappedFile>> files_;
};

// `what` names the tensor in errors ("initializer 'w'").
absl::StatusOr<Tensor> TensorFromProto(const onnx::TensorProto& t,
                                       ExternalData* external,
                                       const std::string& what);
// A tensor type (`what` names the value in errors). Non-tensor types
// (sequence, map, optional) are errors.
absl::StatusOr<TensorType> TypeFromProto(const onnx::TypeProto& t,
                                         const std::string& what);
// An attribute. Graph, sparse-tensor and type attributes are errors.
absl::StatusOr<Attribute> AttributeFromProto(const onnx::AttributeProto& a,
                                             const std::string& what);

void TypeToProto(const TensorType& t, onnx::TypeProto* out);
// Plain tensors only, bytes inline in raw_data.
absl::Status TensorToProto(const Tensor& t, onnx::TensorProto* out);
absl::Status AttributeToProto(const std::string& name, const Attribute& a,
                              onnx::AttributeProto* out);

}  // namespace qeff::ir::onnx_internal

#endif  // QEFF_IR_ONNX_CONVERT_H_
