#include "passes/export.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "ir/digest.h"
#include "ir/status_macros.h"
#include "passes/constant_fold.h"
#include "passes/fp16_clip.h"
#include "passes/pass_pipeline.h"

namespace qeff::passes {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

absl::Status MakeDirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      std::string cur = dir.substr(0, i);
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        return absl::PermissionDeniedError(absl::StrCat(
            "cannot create directory ", cur, ": ", std::strerror(errno)));
      }
    }
  }
  return absl::OkStatus();
}

std::string OptionsJson(const ExportArtifactOptions& o) {
  return absl::StrCat(
      "{\"fp16_clip\":", o.fp16_clip ? "true" : "false",
      ",\"external_data_threshold\":", o.onnx.external_data_threshold,
      ",\"all_inline\":", o.onnx.all_inline ? "true" : "false",
      ",\"ir_version\":8,\"opset\":17}");
}

}  // namespace

absl::Status RunExportPasses(ir::Graph& g, bool fp16_clip) {
  PassPipeline p;
  // Folding first: it turns weight Transposes into initializers and removes
  // shape arithmetic on static shapes; FP16 clip then sees the final
  // initializers.
  p.AddPass<ConstantFolding>();
  if (fp16_clip) p.AddPass<FP16Clip>();
  auto changed = p.Run(g);
  if (!changed.ok()) return changed.status();
  g.RemoveDeadCode();
  return absl::OkStatus();
}

absl::StatusOr<ExportedArtifact> ExportArtifact(
    const ir::Graph& transformed, const ExportArtifactOptions& o) {
  if (o.qeff_home.empty() || o.architecture.empty() || o.model_class.empty())
    return absl::InvalidArgumentError(
        "export: qeff_home, architecture and model_class are required");
  const std::string params = absl::StrCat(
      "{\"model\":", o.params_json.empty() ? "null" : o.params_json,
      ",\"export\":", OptionsJson(o), "}");
  ExportedArtifact a;
  a.hash16 = ir::Sha256Hex(params).substr(0, 16);
  const std::string parent = absl::StrCat(o.qeff_home, "/", o.architecture);
  a.dir = absl::StrCat(parent, "/", o.model_class, "-", a.hash16);
  a.onnx_path = absl::StrCat(a.dir, "/", o.model_class, ".onnx");
  if (IsDir(a.dir)) {
    a.reused = true;
    return a;
  }
  QEFF_RETURN_IF_ERROR(MakeDirs(parent));
  const std::string tmp = absl::StrCat(a.dir, ".tmp-", ::getpid());
  if (::mkdir(tmp.c_str(), 0755) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "export: cannot create ", tmp, ": ", std::strerror(errno)));
  }
  const std::string onnx_name = absl::StrCat(o.model_class, ".onnx");
  const std::string json_name = "hashed_export_params.json";
  auto cleanup = [&]() {
    for (const std::string& f : {onnx_name, onnx_name + ".data", json_name})
      std::remove(absl::StrCat(tmp, "/", f).c_str());
    ::rmdir(tmp.c_str());
  };
  ir::Graph g = transformed;
  absl::Status s = RunExportPasses(g, o.fp16_clip);
  if (s.ok()) s = ir::ExportOnnx(g, absl::StrCat(tmp, "/", onnx_name), o.onnx);
  if (s.ok()) {
    std::ofstream f(absl::StrCat(tmp, "/", json_name));
    f << params << "\n";
    f.close();
    if (!f)
      s = absl::InternalError(
          absl::StrCat("export: cannot write ", tmp, "/", json_name));
  }
  if (s.ok() && ::rename(tmp.c_str(), a.dir.c_str()) != 0) {
    if (IsDir(a.dir)) {  // another process finished the same artifact first
      cleanup();
      a.reused = true;
      return a;
    }
    s = absl::InternalError(absl::StrCat("export: cannot rename ", tmp, " to ",
                                         a.dir, ": ", std::strerror(errno)));
  }
  if (!s.ok()) {
    cleanup();
    return s;
  }
  return a;
}

}  // namespace qeff::passes
