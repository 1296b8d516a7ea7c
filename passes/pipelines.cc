#include "passes/pipelines.h"

#include "passes/constant_fold.h"
#include "passes/custom_rms_norm.h"
#include "passes/fp16_clip.h"

namespace qeff::passes {

void AddTransformLMPipeline(PassPipeline& p, const TransformLMOptions& o) {
  p.AddPass<TransformLM>(o);
  p.AddPass<CustomRMSNormFusion>();
}

void AddExportPipeline(PassPipeline& p, bool fp16_clip) {
  ConstantFoldingOptions fold;
  fold.max_input_bytes = kExportFoldMaxInputBytes;
  p.AddPass<ConstantFolding>(fold);
  if (fp16_clip) p.AddPass<FP16Clip>();
}

std::vector<std::string> TransformLMPipelineNames(const TransformLMOptions& o) {
  PassPipeline p;
  AddTransformLMPipeline(p, o);
  return p.PassNames();
}

std::vector<std::string> ExportPipelineNames(bool fp16_clip) {
  PassPipeline p;
  AddExportPipeline(p, fp16_clip);
  return p.PassNames();
}

}  // namespace qeff::passes
