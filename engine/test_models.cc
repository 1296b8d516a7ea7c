#include "engine/test_models.h"

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "models/test_model.h"

namespace qeff::engine {

absl::StatusOr<std::string> DefaultTestModel(const std::string& qeff_home) {
  const std::string dir = absl::StrCat(qeff_home, "/test-models");
  const std::string path = absl::StrCat(dir, "/qeff-test-llama-seed42.gguf");
  if (base::FileExists(path)) return path;
  QEFF_RETURN_IF_ERROR(base::MakeDirs(dir));
  QEFF_RETURN_IF_ERROR(
      models::WriteTestModelGguf(models::TestModelSpec{}, path));
  return path;
}

}  // namespace qeff::engine
