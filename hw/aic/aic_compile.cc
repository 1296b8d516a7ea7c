#include "hw/aic/aic_compile.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"

extern char** environ;

namespace qeff::hw::aic {
namespace {

// QEfficient's DEFAULT_AIC_NUM_CORES.
constexpr int kDefaultNumCores = 16;

// The first <base_version>/<build_id> text of a versions/*.xml file.
std::string XmlVersion(const std::string& path) {
  auto text = base::ReadFile(path);
  if (!text.ok()) return "";
  std::smatch m;
  static const std::regex kBase(
      "<base_version>\\s*([^<\\s]+)\\s*</base_version>");
  static const std::regex kBuild("<build_id>\\s*([^<\\s]+)\\s*</build_id>");
  std::string v;
  if (std::regex_search(*text, m, kBase)) v = m[1];
  if (std::regex_search(*text, m, kBuild))
    v += (v.empty() ? "" : ".") + m[1].str();
  return v.empty() ? "unknown" : v;
}

int NumCores(const CompileOptions& o) {
  return o.num_cores > 0 ? o.num_cores : kDefaultNumCores;
}

}  // namespace

std::string Sdk::Describe() const {
  return absl::StrCat(
      "Cloud AI 100 SDK at ", root, ": compiler ", compiler, ", runtime ",
      runtime_lib.empty() ? "(not found)" : runtime_lib, ", apps ",
      apps_version.empty() ? "?" : apps_version, ", platform ",
      platform_version.empty() ? "?" : platform_version);
}

absl::StatusOr<Sdk> DetectSdk(const std::string& root_in) {
  std::string root = root_in;
  if (root.empty()) {
    const char* env = std::getenv("QEFF_AIC_SDK_ROOT");
    root = env && *env ? env : kDefaultSdkRoot;
  }
  Sdk sdk;
  sdk.root = root;
  const std::vector<std::string> compilers = {root + "/exec/qaic-exec",
                                              root + "/exec/qaic-compile"};
  for (const std::string& c : compilers) {
    if (base::FileExists(c) && ::access(c.c_str(), X_OK) == 0) {
      sdk.compiler = c;
      break;
    }
  }
  if (sdk.compiler.empty())
    return absl::FailedPreconditionError(
        absl::StrCat("no Cloud AI 100 SDK at ", root, ": no executable ",
                     absl::StrJoin(compilers, " or "),
                     " (install the SDK, or set QEFF_AIC_SDK_ROOT)"));
  for (const std::string& lib :
       {root + "/dev/lib/x86_64/libQAic.so", root + "/lib/libQAic.so"}) {
    if (base::FileExists(lib)) {
      sdk.runtime_lib = lib;
      break;
    }
  }
  if (base::FileExists(root + "/versions/apps.xml"))
    sdk.apps_version = XmlVersion(root + "/versions/apps.xml");
  if (base::FileExists(root + "/versions/platform.xml"))
    sdk.platform_version = XmlVersion(root + "/versions/platform.xml");
  return sdk;
}

std::string QeffSpecializationsJson(const std::vector<Specialization>& specs) {
  // Symbols in QEfficient's key order where it has one.
  static const char* kOrder[] = {"full_batch_size", "batch_size", "seq_len",
                                 "ctx_len"};
  std::vector<std::string> items;
  for (const Specialization& s : specs) {
    std::vector<std::string> kv;
    std::vector<std::string> done;
    for (const char* k : kOrder) {
      auto it = s.symbols.find(k);
      if (it == s.symbols.end()) continue;
      kv.push_back(
          absl::StrCat("            \"", k, "\": \"", it->second, "\""));
      done.push_back(k);
    }
    std::vector<std::pair<std::string, int64_t>> rest;
    for (const auto& [k, v] : s.symbols)
      if (std::find(done.begin(), done.end(), k) == done.end())
        rest.emplace_back(k, v);
    std::sort(rest.begin(), rest.end());
    for (const auto& [k, v] : rest)
      kv.push_back(absl::StrCat("            \"", k, "\": \"", v, "\""));
    items.push_back(
        absl::StrCat("        {\n", absl::StrJoin(kv, ",\n"), "\n        }"));
  }
  return absl::StrCat("{\n    \"specializations\": [\n",
                      absl::StrJoin(items, ",\n"), "\n    ]\n}");
}

std::string CustomIoYaml(const std::vector<std::string>& state,
                         bool mxint8_kv_cache) {
  const char* dtype = mxint8_kv_cache ? "mxint8" : "float16";
  std::string out;
  for (const char* suffix : {"", "_RetainedState"})
    for (const std::string& name : state)
      absl::StrAppend(&out, " - IOName: ", name, suffix,
                      "\n   Precision: ", dtype, "\n\n");
  return out;
}

std::string MdpPartitionJson(int num_devices, int num_cores) {
  std::vector<std::string> ids, devs;
  for (int i = 0; i < num_devices; ++i) {
    ids.push_back(absl::StrCat(i));
    devs.push_back(
        absl::StrCat("{\"deviceId\": ", i, ", \"numCores\": ", num_cores, "}"));
  }
  return absl::StrCat("{\"connections\": [{\"devices\": [",
                      absl::StrJoin(ids, ", "),
                      "], \"type\": \"p2p\"}], \"partitions\": [{\"name\": "
                      "\"Partition0\", \"devices\": [",
                      absl::StrJoin(devs, ", "), "]}]}");
}

std::vector<std::string> CompileCommand(CommandStyle style, const Sdk& sdk,
                                        const CompileFiles& f,
                                        const CompileOptions& o) {
  std::vector<std::string> cmd = {sdk.compiler};
  const std::string cores = absl::StrCat("-aic-num-cores=", NumCores(o));
  if (style == CommandStyle::kBaseModel) {
    cmd.insert(cmd.end(),
               {"-aic-hw", "-aic-hw-version=ai100", "-m=" + f.onnx,
                "-compile-only", "-retained-state", "-convert-to-fp16"});
    if (o.mxfp6_matmul) cmd.push_back("-mxfp6-matmul");
    cmd.push_back(cores);
    if (o.aic_mos >= 0) cmd.push_back(absl::StrCat("-mos=", o.aic_mos));
    if (o.aic_enable_depth_first) cmd.push_back("-aic-enable-depth-first");
    if (!f.mdp_json.empty())
      cmd.push_back("-mdp-load-partition-config=" + f.mdp_json);
    cmd.push_back("-network-specialization-config=" + f.specializations_json);
    cmd.push_back("-custom-IO-list-file=" + f.custom_io_yaml);
    cmd.push_back("-aic-binary-dir=" + f.binary_dir);
    return cmd;
  }
  cmd.insert(cmd.end(),
             {"-m=" + f.onnx, "-aic-hw", "-aic-hw-version=2.0",
              "-network-specialization-config=" + f.specializations_json,
              "-convert-to-fp16", "-retained-state", cores,
              "-custom-IO-list-file=" + f.custom_io_yaml, "-compile-only",
              "-aic-binary-dir=" + f.binary_dir});
  if (o.mxfp6_matmul) cmd.push_back("-mxfp6-matmul");
  if (o.aic_mos > 0) cmd.push_back(absl::StrCat("-mos=", o.aic_mos));
  if (o.aic_enable_depth_first) cmd.push_back("-aic-enable-depth-first");
  if (!f.mdp_json.empty())
    cmd.push_back("-mdp-load-partition-config=" + f.mdp_json);
  return cmd;
}

absl::StatusOr<CompileFiles> WriteCompileFiles(
    CommandStyle style, const std::string& dir, const std::string& onnx,
    const std::vector<Specialization>& specs,
    const std::vector<std::string>& state, const CompileOptions& o) {
  if (o.num_devices < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("num_devices=", o.num_devices, " must be >= 1"));
  QEFF_RETURN_IF_ERROR(base::MakeDirs(dir));
  CompileFiles f;
  f.onnx = onnx;
  f.specializations_json = dir + "/specializations.json";
  QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(
      f.specializations_json, QeffSpecializationsJson(specs)));
  // The legacy path reads custom_io_{int8,fp16}.yaml beside the ONNX; we
  // write it into the compile folder under that name.
  f.custom_io_yaml = style == CommandStyle::kBaseModel
                         ? dir + "/custom_io.yaml"
                         : dir + (o.mxint8_kv_cache ? "/custom_io_int8.yaml"
                                                    : "/custom_io_fp16.yaml");
  QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(
      f.custom_io_yaml, CustomIoYaml(state, o.mxint8_kv_cache)));
  if (o.num_devices > 1) {
    f.mdp_json = style == CommandStyle::kBaseModel
                     ? absl::StrCat(dir, "/mdp_ts_", o.num_devices, ".json")
                     : dir + "/mdp_ts_config.json";
    QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(
        f.mdp_json, MdpPartitionJson(o.num_devices, NumCores(o))));
  }
  f.binary_dir = dir + (style == CommandStyle::kBaseModel ? "/qpc" : "/qpcs");
  return f;
}

absl::Status RunCompiler(const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("empty command");
  int fds[2];
  if (::pipe(fds) != 0)
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc =
      ::posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  const std::string cmdline = absl::StrJoin(argv, " ");
  if (rc != 0) {
    ::close(fds[0]);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run the Cloud AI 100 compiler: ", cmdline, ": ",
                     std::strerror(rc)));
  }
  // The compiler's output, kept to its last 64 KiB.
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0 ||
         (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    if (out.size() > (64u << 10)) out.erase(0, out.size() - (64u << 10));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(
      "Cloud AI 100 compilation failed!\nCompiler command: ", cmdline,
      "\nCompiler exitcode: ",
      WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status),
      "\nCompiler output:\n", out));
}

}  // namespace qeff::hw::aic
