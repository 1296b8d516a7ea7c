// Running qeff's exported ONNX in stock onnxruntime (the onnxruntime-node
// peer, tests/e2e/peers/ort_run.mjs) as a QEfficient user's runtime would:
// a plan of prefill/decode calls whose *_RetainedState outputs feed the
// next call. Shared by the onnxruntime peer tests.
#ifndef QEFF_TESTS_E2E_ORT_STEPS_H_
#define QEFF_TESTS_E2E_ORT_STEPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "hw/driver.h"
#include "hw/graph_io.h"

namespace qeff::testing {

// One call: rows x len tokens; `batch_index` empty unless continuous
// batching; `live` marks the rows whose logits count (idle rows don't).
struct OrtStep {
  std::string spec;
  int64_t rows = 1, len = 1;
  std::vector<int64_t> ids, pos, batch_index;
  std::vector<bool> live;

  hw::TensorMap Inputs() const;  // for a qeff device session
  std::string Json() const;      // for the plan
};

// $QEFF_PEERS_DIR with onnxruntime-node, or "" and the reason in *why.
std::string OrtPeersDir(std::string* why);

// The rows of a {"logits": [[...], ...]} line.
std::vector<std::vector<float>> ParseOrtLogits(const std::string& json);

// Runs `steps` on `onnx` (retained state `state` zero-initialised); each
// step's logits, flattened. On a failure of the peer, *error gets its
// output and the result is empty.
std::vector<std::vector<float>> RunOrtSteps(
    const std::string& peers, const std::string& onnx,
    const std::vector<hw::BoundIO>& state, const std::vector<OrtStep>& steps,
    std::string* error);

}  // namespace qeff::testing

#endif  // QEFF_TESTS_E2E_ORT_STEPS_H_
