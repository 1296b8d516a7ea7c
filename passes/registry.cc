#include "passes/registry.h"

#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "passes/constant_fold.h"
#include "passes/custom_rms_norm.h"
#include "passes/fp16_clip.h"
#include "passes/transform_lm.h"

namespace qeff::passes {
namespace {

using Adder = std::function<void(PassPipeline&)>;

const std::vector<std::pair<std::string, Adder>>& Table() {
  static const auto* table = new std::vector<std::pair<std::string, Adder>>{
      {"transform_lm", [](PassPipeline& p) { p.AddPass<TransformLM>(); }},
      {"transform_lm_cb",
       [](PassPipeline& p) {
         p.AddPass<TransformLM>(TransformLMOptions{true});
       }},
      {"custom_rms_norm",
       [](PassPipeline& p) { p.AddPass<CustomRMSNormFusion>(); }},
      {"constant_fold", [](PassPipeline& p) { p.AddPass<ConstantFolding>(); }},
      {"fp16_clip", [](PassPipeline& p) { p.AddPass<FP16Clip>(); }},
      // The same order engine::AddTransformLMPasses uses: the KV rewrite
      // finds its sites by role names that later fusions may rename.
      {"transform_lm_pipeline",
       [](PassPipeline& p) {
         p.AddPass<TransformLM>();
         p.AddPass<CustomRMSNormFusion>();
       }},
      {"transform_lm_cb_pipeline",
       [](PassPipeline& p) {
         p.AddPass<TransformLM>(TransformLMOptions{true});
         p.AddPass<CustomRMSNormFusion>();
       }},
      // passes::RunExportPasses' order: fold first, then clip the final
      // initializers.
      {"export_pipeline",
       [](PassPipeline& p) {
         p.AddPass<ConstantFolding>();
         p.AddPass<FP16Clip>();
       }},
  };
  return *table;
}

}  // namespace

std::vector<std::string> RegisteredPassNames() {
  std::vector<std::string> out;
  for (const auto& [name, adder] : Table()) out.push_back(name);
  return out;
}

absl::Status AddPassesByName(absl::string_view name, PassPipeline& pipeline) {
  for (const auto& [n, adder] : Table()) {
    if (n == name) {
      adder(pipeline);
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "unknown pass or pipeline '", name,
      "' (known: ", absl::StrJoin(RegisteredPassNames(), ", "), ")"));
}

}  // namespace qeff::passes
