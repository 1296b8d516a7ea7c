// Test support: a real session that counts the calls it forwards (how many
// device calls and state resets a generator made).
#ifndef QEFF_ENGINE_COUNTING_SESSION_H_
#define QEFF_ENGINE_COUNTING_SESSION_H_

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

}  // namespace qeff::engine::testing

#endif  // QEFF_ENGINE_COUNTING_SESSION_H_
