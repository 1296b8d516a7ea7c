// Test support for the generators' tests: a real session that counts the
// calls it forwards (device calls, state resets), and distinct test prompts.
#ifndef QEFF_ENGINE_GENERATOR_TESTING_H_
#define QEFF_ENGINE_GENERATOR_TESTING_H_

#include <cstdint>
#include <vector>

#include "hw/driver.h"

namespace qeff::engine::testing {

class CountingSession : public hw::Session {
 public:
  explicit CountingSession(hw::Session* inner) : inner_(inner) {}
  absl::StatusOr<hw::TensorMap> Run(absl::string_view spec,
                                    const hw::TensorMap& inputs) override {
    ++runs;
    return inner_->Run(spec, inputs);
  }
  absl::Status ResetState() override {
    ++resets;
    return inner_->ResetState();
  }
  absl::Status ResetSlot(int64_t slot) override {
    ++slot_resets;
    return inner_->ResetSlot(slot);
  }
  int runs = 0;
  int resets = 0;
  int slot_resets = 0;

 private:
  hw::Session* inner_;
};

// Prompt k: `len` ids of the test vocabulary, BOS (1) first, distinct per k.
inline std::vector<int64_t> TestPrompt(int k, int len, int64_t vocab) {
  std::vector<int64_t> ids = {1};
  for (int j = 1; j < len; ++j)
    ids.push_back(3 + (k * 37 + j * 101) % (vocab - 3));
  return ids;
}

}  // namespace qeff::engine::testing

#endif  // QEFF_ENGINE_GENERATOR_TESTING_H_
