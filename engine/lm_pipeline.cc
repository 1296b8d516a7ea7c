#include "engine/lm_pipeline.h"

#include "absl/strings/str_cat.h"
#include "ir/op_schema.h"
#include "ir/status_macros.h"
#include "ir/verifier.h"

namespace qeff::engine {

absl::StatusOr<ir::Graph> TransformForDevice(const ir::Graph& eager,
                                             const passes::TransformLMOptions& o) {
  ir::Graph g = eager;
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  passes::TransformLM transform(o);
  auto changed = transform.Run(g);
  if (!changed.ok()) return changed.status();
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  absl::Status v = ir::VerifyGraph(g);
  if (!v.ok()) {
    return absl::Status(v.code(), absl::StrCat("after transform_lm: ", v.message()));
  }
  return g;
}

absl::StatusOr<CompiledLM> CompileLM(const ir::Graph& eager, hw::Device& device,
                                     const std::vector<hw::Specialization>& specs,
                                     const hw::CompileOptions& options) {
  CompiledLM out;
  QEFF_ASSIGN_OR_RETURN(out.graph, TransformForDevice(eager, {}));
  QEFF_ASSIGN_OR_RETURN(out.program, device.Compile(out.graph, specs, options));
  return out;
}

}  // namespace qeff::engine
