#include "passes/registry.h"

#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "passes/constant_fold.h"
#include "passes/custom_rms_norm.h"
#include "passes/fp16_clip.h"
#include "passes/pipelines.h"
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
      // The pipelines of passes/pipelines.h.
      {"transform_lm_pipeline",
       [](PassPipeline& p) { AddTransformLMPipeline(p, {}); }},
      {"transform_lm_cb_pipeline",
       [](PassPipeline& p) {
         AddTransformLMPipeline(p, TransformLMOptions{true});
       }},
      {"export_pipeline",
       [](PassPipeline& p) { AddExportPipeline(p, /*fp16_clip=*/true); }},
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
