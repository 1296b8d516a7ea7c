#include "engine/artifacts.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
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
#include "base/params_hash.h"
#include "base/status_macros.h"
#include "passes/pipelines.h"

namespace qeff::engine {
namespace {

std::string Basename(const std::string& p) {
  size_t s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

}  // namespace

std::string DefaultQeffHome() {
  const char* h = std::getenv("QEFF_HOME");
  if (h && *h) return h;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) return absl::StrCat(xdg, "/qeff_models");
  const char* home = std::getenv("HOME");
  return absl::StrCat(home ? home : "/tmp", "/.cache/qeff_models");
}

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

absl::StatusOr<base::JsonValue> ExportParams(
    const std::string& qeff_home, const std::string& source,
    const std::string& architecture,
    const passes::TransformLMOptions& transform) {
  using base::JsonValue;
  QEFF_ASSIGN_OR_RETURN(std::vector<std::string> files,
                        ModelSourceFiles(source));
  JsonValue list = JsonValue::Array();
  for (const std::string& f : files) {
    QEFF_ASSIGN_OR_RETURN(std::string digest, CachedFileDigest(qeff_home, f));
    JsonValue e = JsonValue::Object();
    e.Set("name", JsonValue::String(Basename(f)));
    e.Set("sha256", JsonValue::String(digest));
    list.Append(std::move(e));
  }
  JsonValue passes = JsonValue::Array();
  for (const std::string& n : passes::TransformLMPipelineNames(transform))
    passes.Append(JsonValue::String(n));
  JsonValue t = JsonValue::Object();
  t.Set("continuous_batching", JsonValue::Bool(transform.continuous_batching));
  // Only when set, so the keys of last-position exports stay as they were.
  if (transform.all_logits) t.Set("all_logits", JsonValue::Bool(true));
  t.Set("passes", std::move(passes));
  JsonValue d = JsonValue::Object();
  d.Set("qeff_version", JsonValue::String(kQeffVersion));
  d.Set("architecture", JsonValue::String(architecture));
  d.Set("files", std::move(list));
  d.Set("transform", std::move(t));
  return d;
}

base::JsonValue CompileHashParams(const std::string& export_hash16,
                                  const std::vector<hw::Specialization>& specs,
                                  const hw::Device& device,
                                  const hw::CompileOptions& options) {
  using base::JsonValue;
  JsonValue d = JsonValue::Object();
  d.Set("export_hash", JsonValue::String(export_hash16));
  d.Set("device", JsonValue::String(device.kind()));
  d.Set("target", JsonValue::String(device.target()));
  // The device's own JSON: parsed back so it is part of the dict.
  auto co = base::ParseJson(device.ProgramKeyOptionsJson(options));
  d.Set("compile_options", co.ok() ? *std::move(co) : JsonValue::Null());
  // The list itself (specializations.json wraps it in an object).
  auto sp = base::ParseJson(hw::SpecializationsToJson(specs));
  const JsonValue* list = sp.ok() ? sp->Find("specializations") : nullptr;
  d.Set("specializations", list ? *list : JsonValue::Null());
  d.Set("qeff_version", JsonValue::String(kQeffVersion));
  return d;
}

std::string ProgramDir(const std::string& compile_dir,
                       const base::JsonValue& compile_params) {
  return absl::StrCat(compile_dir, "/qpc-", base::HashParams(compile_params));
}

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

absl::StatusOr<std::shared_ptr<const hw::Program>> LoadProgramDir(
    hw::Device& device, const std::string& dir) {
  auto p = device.LoadProgram(dir);
  if (!p.ok())
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " exists but cannot be loaded (",
                     p.status().message(), "); remove it to rebuild"));
  return p;
}

absl::StatusOr<bool> SaveProgramDir(hw::Device& device,
                                    const hw::Program& program,
                                    const std::string& dir,
                                    const base::JsonValue& compile_params,
                                    const std::string& provenance_json) {
  return base::PublishDirectory(dir, [&](const std::string& tmp) {
    QEFF_RETURN_IF_ERROR(device.SaveProgram(program, tmp, provenance_json));
    return base::WriteFileAtomically(tmp + "/hashed_compile_params.json",
                                     base::ParamsFileText(compile_params));
  });
}

}  // namespace qeff::engine
