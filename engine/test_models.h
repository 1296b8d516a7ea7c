// The seeded test model the quick start runs when no model is given: a
// small random-weight Llama GGUF (models/test_model.h, seed 42), generated
// once under <qeff_home>/test-models and reused. Its text is gibberish.
#ifndef QEFF_ENGINE_TEST_MODELS_H_
#define QEFF_ENGINE_TEST_MODELS_H_

#include <string>

#include "absl/status/statusor.h"

namespace qeff::engine {

// The path of the default test model, written first when absent.
absl::StatusOr<std::string> DefaultTestModel(const std::string& qeff_home);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_TEST_MODELS_H_
