#include "engine/lm_pipeline.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/op_schema.h"
#include "ir/verifier.h"
#include "passes/custom_rms_norm.h"

namespace qeff::engine {

void AddTransformLMPasses(passes::PassPipeline& p,
                          const passes::TransformLMOptions& o) {
  // The KV rewrite first: it finds its sites by the builders' role names,
  // which later fusions may rename.
  p.AddPass<passes::TransformLM>(o);
  // Then the hot-spot custom ops QEfficient's graphs carry.
  p.AddPass<passes::CustomRMSNormFusion>();
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
