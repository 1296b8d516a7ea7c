// The Cloud AI 100 compile step as QEfficient performs it: find the SDK,
// write specializations.json, custom_io.yaml and the multi-device partition
// config, build the compiler command line, run the compiler.
//
// Two command lines, each the one QEfficient builds (quic/efficient-
// transformers; read, not copied):
//  - kBaseModel: QEFFBaseModel._compile (QEfficient/base/modeling_qeff.py)
//    with the options QEFFAutoModelForCausalLM.compile passes
//    (QEfficient/transformers/models/modeling_auto.py):
//      <root>/exec/qaic-exec -aic-hw -aic-hw-version=ai100 -m=<onnx>
//      -compile-only -retained-state -convert-to-fp16 [-mxfp6-matmul]
//      -aic-num-cores=<n> [-mos=<m>] [-aic-enable-depth-first]
//      [-mdp-load-partition-config=<dir>/mdp_ts_<N>.json]
//      -network-specialization-config=<dir>/specializations.json
//      -custom-IO-list-file=<dir>/custom_io.yaml -aic-binary-dir=<dir>/qpc
//    (constants.COMPILER = [".../qaic-exec", "-aic-hw"],
//    DEFAULT_AIC_HW_VERSION = "ai100"; compiler_options become flags in
//    the order given, booleans only when true).
//  - kLegacy: QEfficient.compile / cloud.compile (QEfficient/compile/
//    compile_helper.py compile_kv_model_on_cloud_ai_100):
//      <root>/exec/qaic-exec -m=<onnx> -aic-hw -aic-hw-version=2.0
//      -network-specialization-config=<qpc>/specializations.json
//      -convert-to-fp16 -retained-state -aic-num-cores=<n>
//      -custom-IO-list-file=<custom io> -compile-only
//      -aic-binary-dir=<qpc>/qpcs [-mxfp6-matmul] [-mos=<m> when m > 0]
//      [-aic-enable-depth-first]
//      [-mdp-load-partition-config=<qpc>/mdp_ts_config.json]
// The compiler is `exec/qaic-exec` as QEfficient names it; an SDK that has
// only `exec/qaic-compile` gets that one (same options).
// custom_io.yaml: every retained-state input and its _RetainedState output
// (past_key.i / past_value.i, layer by layer, inputs first) at the KV
// precision: "mxint8" with mxint8_kv_cache, else "float16" (QEfficient
// writes the file for both; bf16 models are not produced here).
#ifndef QEFF_HW_AIC_AIC_COMPILE_H_
#define QEFF_HW_AIC_AIC_COMPILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hw/driver.h"
#include "hw/specialization.h"

namespace qeff::hw::aic {

inline constexpr char kDefaultSdkRoot[] = "/opt/qti-aic";

// What an SDK root holds.
struct Sdk {
  std::string root;
  std::string compiler;          // absolute path of exec/qaic-exec|qaic-compile
  std::string runtime_lib;       // dev/lib/x86_64/libQAic.so or lib/libQAic.so
  std::string apps_version;      // versions/apps.xml, "" if absent
  std::string platform_version;  // versions/platform.xml, "" if absent
  std::string Describe() const;  // one line for reports
};

// Looks under `root` (empty: $QEFF_AIC_SDK_ROOT, else /opt/qti-aic). No
// compiler found is FailedPrecondition naming the root and the paths
// looked for.
absl::StatusOr<Sdk> DetectSdk(const std::string& root = "");

enum class CommandStyle { kBaseModel, kLegacy };

struct CompileFiles {
  std::string onnx;                  // the exported model
  std::string specializations_json;  // written by WriteCompileFiles
  std::string custom_io_yaml;
  std::string mdp_json;  // empty when num_devices == 1
  std::string binary_dir;
};

// QEfficient's specializations.json: {"specializations": [{"batch_size":
// "1", "seq_len": "32", "ctx_len": "128"}, ...]} (values as strings, the
// symbols of each specialization; no names).
std::string QeffSpecializationsJson(const std::vector<Specialization>& specs);
// custom_io.yaml for the retained-state inputs `state` (in graph order).
std::string CustomIoYaml(const std::vector<std::string>& state,
                         bool mxint8_kv_cache);
// The tensor-slicing partition config for `num_devices` devices of
// `num_cores` cores (QEfficient's generate_mdp_partition_config).
std::string MdpPartitionJson(int num_devices, int num_cores);

// The compiler's argv (argv[0] = sdk.compiler).
std::vector<std::string> CompileCommand(CommandStyle style, const Sdk& sdk,
                                        const CompileFiles& files,
                                        const CompileOptions& options);

// Writes the three files into `dir` for `style` and returns their paths
// (binary_dir under dir: qpc/ or qpcs/).
absl::StatusOr<CompileFiles> WriteCompileFiles(
    CommandStyle style, const std::string& dir, const std::string& onnx,
    const std::vector<Specialization>& specs,
    const std::vector<std::string>& state, const CompileOptions& options);

// Runs argv (blocking) and waits. A non-zero exit is an Internal error
// holding the command line, the exit code and the compiler's stderr.
absl::Status RunCompiler(const std::vector<std::string>& argv);

}  // namespace qeff::hw::aic

#endif  // QEFF_HW_AIC_AIC_COMPILE_H_
