#include "engine/lm_pipeline.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/op_schema.h"
#include "ir/verifier.h"
#include "passes/pipelines.h"

namespace qeff::engine {

void AddTransformLMPasses(passes::PassPipeline& p,
                          const passes::TransformLMOptions& o) {
  passes::AddTransformLMPipeline(p, o);
}

absl::StatusOr<ir::Graph> TransformForDevice(
    const ir::Graph& eager, const passes::TransformLMOptions& o) {
  ir::Graph g = eager;
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  passes::PassPipeline pipeline;
  AddTransformLMPasses(pipeline, o);
  auto changed = pipeline.Run(g);
  if (!changed.ok()) return changed.status();
  return g;
}

absl::StatusOr<CompiledLM> CompileLM(
    const ir::Graph& eager, hw::Device& device,
    const std::vector<hw::Specialization>& specs,
    const hw::CompileOptions& options) {
  CompiledLM out;
  QEFF_ASSIGN_OR_RETURN(out.graph, TransformForDevice(eager, {}));
  QEFF_ASSIGN_OR_RETURN(out.program, device.Compile(out.graph, specs, options));
  return out;
}

}  // namespace qeff::engine
