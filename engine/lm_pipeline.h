// The compile side of a causal LM as plain function calls (the flow-graph
// engine wires the same steps as nodes): eager graph → shape inference →
// TransformLM → shape inference → device compile for the prefill/decode
// specializations → a loaded session.
#ifndef QEFF_ENGINE_LM_PIPELINE_H_
#define QEFF_ENGINE_LM_PIPELINE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "hw/driver.h"
#include "ir/graph.h"
#include "passes/pass_pipeline.h"
#include "passes/transform_lm.h"

namespace qeff::engine {

// The transform_lm pipeline (passes/pipelines.h). (PassPipeline re-infers
// shapes and verifies after each pass.)
void AddTransformLMPasses(passes::PassPipeline& p,
                          const passes::TransformLMOptions& o);

// Shape inference, then the transform_lm pipeline.
absl::StatusOr<ir::Graph> TransformForDevice(
    const ir::Graph& eager, const passes::TransformLMOptions& o);

struct CompiledLM {
  ir::Graph graph;  // the transformed graph
  std::shared_ptr<const hw::Program> program;
};

absl::StatusOr<CompiledLM> CompileLM(
    const ir::Graph& eager, hw::Device& device,
    const std::vector<hw::Specialization>& specs,
    const hw::CompileOptions& options);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_LM_PIPELINE_H_
