// Small helpers shared by the command-line tools.
#ifndef QEFF_TOOLS_TOOL_UTIL_H_
#define QEFF_TOOLS_TOOL_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace qeff::tools {

// A user's path, resolved against BUILD_WORKING_DIRECTORY under `bazel run`.
std::string UserPath(const std::string& path);
// The embedded default model (models/stories260K/stories260K.gguf) in this
// binary's runfiles (the tool's BUILD target lists it as data).
std::string EmbeddedModelPath(const std::string& argv0);
std::string JoinInts(const std::vector<int64_t>& v);

}  // namespace qeff::tools

#endif  // QEFF_TOOLS_TOOL_UTIL_H_
