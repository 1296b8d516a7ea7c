#include "engine/versions.h"

#include "absl/base/config.h"
#include "absl/strings/str_cat.h"
#include "engine/artifacts.h"
#include "google/protobuf/stubs/common.h"
#include "oneapi/tbb/version.h"
#include "onnx/common/version.h"

namespace qeff::engine {

std::string VersionsJson() {
  const int pb = GOOGLE_PROTOBUF_VERSION;
  return absl::StrCat("{\"qeff\":\"", kQeffVersion, "\",\"abseil\":\"",
                      ABSL_LTS_RELEASE_VERSION, "\",\"onetbb\":\"",
                      TBB_VERSION_STRING, "\",\"onetbb_runtime\":\"",
                      TBB_runtime_version(), "\",\"protobuf\":\"", pb / 1000000,
                      ".", pb / 1000 % 1000, ".", pb % 1000, "\",\"onnx\":\"",
                      onnx::LAST_RELEASE_VERSION, "\"}");
}

std::string ProgramProvenanceJson(const std::string& export_params_json) {
  return absl::StrCat(
      "{\"export\":", export_params_json.empty() ? "null" : export_params_json,
      ",\"versions\":", VersionsJson(), "}");
}

}  // namespace qeff::engine
