// The pipelines, once: the transform_lm pipeline (retained-state KV rewrite,
// then CustomRMSNorm) and the export pipeline (constant folding, then FP16
// clip). The pass registry, the engine and the export key all build them
// here, so a pipeline with one more pass changes the artifact key.
#ifndef QEFF_PASSES_PIPELINES_H_
#define QEFF_PASSES_PIPELINES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "passes/pass_pipeline.h"
#include "passes/transform_lm.h"

namespace qeff::passes {

// The KV rewrite first: it finds its sites by the builders' role names,
// which later fusions may rename; then the hot-spot custom ops.
void AddTransformLMPipeline(PassPipeline& p, const TransformLMOptions& o);

// Folding first: it removes shape arithmetic on static shapes and folds
// small constants; FP16 clip then sees the final initializers. A node whose
// constant inputs hold more than kExportFoldMaxInputBytes (a weight's Cast
// from f16/bf16, its Transpose) stays a node over the stored weight: folding
// it would hold an f32 (transposed) copy of every weight at once (an f16
// 1.1 B model exported at a 7.5 GB peak).
inline constexpr size_t kExportFoldMaxInputBytes = size_t{1} << 20;
void AddExportPipeline(PassPipeline& p, bool fp16_clip);

// The pass names of each, in order (for artifact keys).
std::vector<std::string> TransformLMPipelineNames(const TransformLMOptions& o);
std::vector<std::string> ExportPipelineNames(bool fp16_clip);

}  // namespace qeff::passes

#endif  // QEFF_PASSES_PIPELINES_H_
