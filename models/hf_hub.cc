#include "models/hf_hub.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace qeff::models {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ValidPart(absl::string_view s) {
  if (s.empty() || s == "." || s == ".." || s[0] == '.') return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-'))
      return false;
  }
  return true;
}

}  // namespace

bool LooksLikeHubId(absl::string_view s) {
  absl::string_view repo = s;
  size_t at = s.find('@');
  if (at != absl::string_view::npos) {
    if (!ValidPart(s.substr(at + 1))) return false;
    repo = s.substr(0, at);
  }
  std::vector<absl::string_view> parts = absl::StrSplit(repo, '/');
  if (parts.size() > 2) return false;
  for (absl::string_view p : parts)
    if (!ValidPart(p)) return false;
  return true;
}

std::string DefaultHubCacheDir() {
  if (const char* c = std::getenv("HF_HUB_CACHE"); c && *c) return c;
  if (const char* h = std::getenv("HF_HOME"); h && *h)
    return absl::StrCat(h, "/hub");
  const char* home = std::getenv("HOME");
  return absl::StrCat(home ? home : "", "/.cache/huggingface/hub");
}

absl::StatusOr<std::string> ResolveHubSnapshot(absl::string_view id,
                                               const std::string& cache_dir) {
  if (!LooksLikeHubId(id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", id, "' is not a hub id (ORG/NAME[@REVISION])"));
  }
  std::string cache = cache_dir.empty() ? DefaultHubCacheDir() : cache_dir;
  std::string repo(id), revision = "main";
  if (size_t at = repo.find('@'); at != std::string::npos) {
    revision = repo.substr(at + 1);
    repo = repo.substr(0, at);
  }
  const std::string model_dir = absl::StrCat(
      cache, "/models--", absl::StrReplaceAll(repo, {{"/", "--"}}));
  if (!IsDir(model_dir)) {
    return absl::NotFoundError(
        absl::StrCat("hub model '", repo,
                     "' is not in the offline cache (no folder ", model_dir,
                     "); download it with huggingface-cli on a connected "
                     "machine or pass a folder"));
  }
  std::string commit = revision;
  const std::string ref_path = absl::StrCat(model_dir, "/refs/", revision);
  std::ifstream ref(ref_path);
  if (ref) {
    std::stringstream ss;
    ss << ref.rdbuf();
    commit = std::string(absl::StripAsciiWhitespace(ss.str()));
    if (!ValidPart(commit)) {
      return absl::InvalidArgumentError(
          absl::StrCat(ref_path, ": bad commit '", commit, "'"));
    }
  }
  const std::string snapshot = absl::StrCat(model_dir, "/snapshots/", commit);
  if (!IsDir(snapshot)) {
    return absl::NotFoundError(absl::StrCat(
        "hub model '", repo, "': revision '", revision, "' has no snapshot ",
        snapshot, ref ? "" : absl::StrCat(" (and no ", ref_path, ")")));
  }
  return snapshot;
}

}  // namespace qeff::models
