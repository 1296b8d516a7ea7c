// Helpers of the model-family tests (gemma3_test, llama4_test): a path
// under the test's temporary folder, the eager graph's logits for one
// sequence on the reference evaluator, and config.json text parsed by the
// registry.
#ifndef QEFF_MODELS_FAMILY_TEST_UTIL_H_
#define QEFF_MODELS_FAMILY_TEST_UTIL_H_

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/json.h"
#include "gtest/gtest.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "models/arch/registry.h"

namespace qeff::models::testing {

inline std::string TmpDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

// Logits [1, S, vocab] (flattened) for `ids` at positions 0..S-1.
inline std::vector<float> Logits(ir::Graph g, const std::vector<int64_t>& ids) {
  EXPECT_TRUE(ir::InferShapes(g).ok());
  const int64_t s = static_cast<int64_t>(ids.size());
  std::vector<int64_t> pos(s);
  for (int64_t i = 0; i < s; ++i) pos[i] = i;
  auto r =
      ir::Evaluator::Run(g, {{"input_ids", ir::Tensor::I64({1, s}, ids)},
                             {"position_ids", ir::Tensor::I64({1, s}, pos)}});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? (*r)[0].ToFloats() : std::vector<float>{};
}

inline absl::StatusOr<ModelConfig> Parse(const std::string& json) {
  auto j = base::ParseJson(json);
  if (!j.ok()) return j.status();
  return ParseHfModelConfig(*j, "config.json");
}

}  // namespace qeff::models::testing

#endif  // QEFF_MODELS_FAMILY_TEST_UTIL_H_
