#include "tools/tool_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/json.h"

namespace qeff::tools {

std::string UserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
  return wd ? absl::StrCat(wd, "/", path) : path;
}

std::string EmbeddedModelPath(const std::string& argv0) {
  const std::string rel = "models/stories260K/stories260K.gguf";
  std::vector<std::string> candidates = {rel};
  if (const char* r = std::getenv("RUNFILES_DIR"))
    candidates.push_back(absl::StrCat(r, "/qeff/", rel));
  candidates.push_back(absl::StrCat(argv0, ".runfiles/qeff/", rel));
  for (const std::string& c : candidates) {
    struct stat st;
    if (::stat(c.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (c[0] == '/') return c;
      char* cwd = ::getcwd(nullptr, 0);
      std::string abs = cwd ? absl::StrCat(cwd, "/", c) : c;
      std::free(cwd);
      return abs;
    }
  }
  return candidates.back();
}

std::string JoinInts(const std::vector<int64_t>& v) {
  return absl::StrJoin(v, ",");
}

}  // namespace qeff::tools
