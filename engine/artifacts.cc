#include "engine/artifacts.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/digest.h"
#include "base/files.h"
#include "base/status_macros.h"

namespace qeff::engine {
namespace {

std::string Basename(const std::string& p) {
  size_t s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

}  // namespace

absl::StatusOr<std::string> CachedFileDigest(const std::string& qeff_home,
                                             const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot stat: ", std::strerror(errno)));
  }
  const std::string abs = base::AbsolutePath(path);
  const std::string size = absl::StrCat(st.st_size);
  const std::string mtime =
      absl::StrCat(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                   st.st_mtim.tv_nsec);
  const std::string cache = absl::StrCat(qeff_home, "/file_digests.tsv");
  std::vector<std::string> lines;
  {
    std::ifstream f(cache);
    std::string line;
    while (std::getline(f, line)) {
      std::vector<std::string> cols = absl::StrSplit(line, '\t');
      if (cols.size() != 4) continue;  // a damaged line is just recomputed
      if (cols[0] == abs && cols[1] == size && cols[2] == mtime &&
          cols[3].size() == 64)
        return cols[3];
      if (cols[0] != abs) lines.push_back(line);
    }
  }
  QEFF_ASSIGN_OR_RETURN(std::string digest, base::Sha256File(path));
  lines.push_back(absl::StrCat(abs, "\t", size, "\t", mtime, "\t", digest));
  // Best effort: a read-only cache only costs recomputation.
  if (base::MakeDirs(qeff_home).ok())
    (void)base::WriteFileAtomically(
        cache, absl::StrCat(absl::StrJoin(lines, "\n"), "\n"));
  return digest;
}

absl::StatusOr<std::vector<std::string>> ModelSourceFiles(
    const std::string& source) {
  struct stat st;
  if (::stat(source.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat(source, ": cannot stat: ", std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) return std::vector<std::string>{source};
  std::vector<std::string> out;
  DIR* d = ::opendir(source.c_str());
  if (!d) return absl::NotFoundError(absl::StrCat(source, ": cannot list"));
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (absl::EndsWith(n, ".json") || absl::EndsWith(n, ".safetensors"))
      out.push_back(absl::StrCat(source, "/", n));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  if (out.empty())
    return absl::NotFoundError(absl::StrCat(source, ": no model files"));
  return out;
}

absl::StatusOr<std::string> ExportParamsJson(
    const std::string& qeff_home, const std::string& source,
    const std::string& architecture,
    const passes::TransformLMOptions& transform) {
  QEFF_ASSIGN_OR_RETURN(std::vector<std::string> files,
                        ModelSourceFiles(source));
  std::string out =
      absl::StrCat("{\"qeff_version\":\"", kQeffVersion,
                   "\",\"architecture\":\"", architecture, "\",\"files\":[");
  for (size_t i = 0; i < files.size(); ++i) {
    QEFF_ASSIGN_OR_RETURN(std::string digest,
                          CachedFileDigest(qeff_home, files[i]));
    absl::StrAppend(&out, i ? "," : "", "{\"name\":\"", Basename(files[i]),
                    "\",\"sha256\":\"", digest, "\"}");
  }
  absl::StrAppend(&out, "],\"transform\":{\"continuous_batching\":",
                  transform.continuous_batching ? "true" : "false",
                  ",\"passes\":[\"transform_lm\",\"custom_rms_norm\"]}}");
  return out;
}

std::string ProgramArtifactDir(const std::string& onnx_path,
                               const std::string& export_hash16,
                               const std::vector<hw::Specialization>& specs,
                               const std::string& device_kind,
                               const std::string& isa,
                               const hw::CompileOptions& options) {
  std::string key =
      absl::StrCat(export_hash16, "|", hw::SpecializationsToJson(specs), "|",
                   device_kind, "|", isa, "|cores=", options.num_cores,
                   "|mxfp6=", options.mxfp6_matmul, "|v=", kQeffVersion);
  if (options.num_devices != 1)
    absl::StrAppend(&key, "|devices=", options.num_devices);
  if (options.mxint8_kv_cache) absl::StrAppend(&key, "|mxint8_kv_cache=1");
  const size_t slash = onnx_path.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : onnx_path.substr(0, slash);
  return absl::StrCat(dir, "/qpc-", base::Sha256Hex(key).substr(0, 16));
}

}  // namespace qeff::engine
