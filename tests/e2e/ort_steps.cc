#include "tests/e2e/ort_steps.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/util/test_util.h"

namespace qeff::testing {

hw::TensorMap OrtStep::Inputs() const {
  hw::TensorMap m = {{"input_ids", ir::Tensor::I64({rows, len}, ids)},
                     {"position_ids", ir::Tensor::I64({rows, len}, pos)}};
  if (!batch_index.empty())
    m["batch_index"] = ir::Tensor::I64({rows, 1}, batch_index);
  return m;
}

std::string OrtStep::Json() const {
  auto rows_json = [&](const std::vector<int64_t>& v, int64_t cols) {
    std::vector<std::string> r;
    for (int64_t i = 0; i < rows; ++i)
      r.push_back(absl::StrCat(
          "[",
          absl::StrJoin(v.begin() + i * cols, v.begin() + (i + 1) * cols, ","),
          "]"));
    return absl::StrCat("[", absl::StrJoin(r, ","), "]");
  };
  std::string s = absl::StrCat("{\"input_ids\": ", rows_json(ids, len),
                               ", \"position_ids\": ", rows_json(pos, len));
  if (!batch_index.empty())
    absl::StrAppend(&s, ", \"batch_index\": ", rows_json(batch_index, 1));
  return s + "}";
}

std::string OrtPeersDir(std::string* why) {
  return PeersDir("node_modules/onnxruntime-node/package.json", why);
}

std::vector<std::vector<float>> ParseOrtLogits(const std::string& json) {
  std::vector<std::vector<float>> out;
  size_t i = json.find("[[");
  if (i == std::string::npos) return out;
  i += 1;
  while (i < json.size() && json[i] == '[') {
    std::vector<float> row;
    ++i;
    while (i < json.size() && json[i] != ']') {
      char* end = nullptr;
      row.push_back(std::strtof(json.c_str() + i, &end));
      i = end - json.c_str();
      if (json[i] == ',') ++i;
    }
    out.push_back(std::move(row));
    i += 1;
    if (i < json.size() && json[i] == ',') ++i;
  }
  return out;
}

std::vector<std::vector<float>> RunOrtSteps(
    const std::string& peers, const std::string& onnx,
    const std::vector<hw::BoundIO>& state, const std::vector<OrtStep>& steps,
    std::string* error) {
  std::string plan = "{\"state\": [";
  for (size_t i = 0; i < state.size(); ++i) {
    absl::StrAppend(&plan, i ? "," : "", "{\"name\": \"", state[i].name,
                    "\", \"dims\": [", absl::StrJoin(state[i].dims, ","), "]}");
  }
  plan += "], \"steps\": [";
  for (size_t i = 0; i < steps.size(); ++i)
    absl::StrAppend(&plan, i ? "," : "", steps[i].Json());
  plan += "]}";
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string plan_path = absl::StrCat(tmp ? tmp : "/tmp", "/plan.json");
  std::ofstream(plan_path) << plan;
  int rc;
  std::string out = RunCommand(
      absl::StrCat("node ", Runfile("tests/e2e/peers/ort_run.mjs"), " '", peers,
                   "' '", onnx, "' '", plan_path, "' 2>&1"),
      &rc);
  auto logits = ParseOrtLogits(out);
  if (rc != 0 || logits.size() != steps.size()) {
    *error = absl::StrCat("onnxruntime peer failed (rc ", rc,
                          "): ", out.substr(0, 2000));
    return {};
  }
  return logits;
}

}  // namespace qeff::testing
