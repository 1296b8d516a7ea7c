// The device layer: Driver (enumerates and opens devices) → Device (compiles
// a graph for its specializations into a Program; loads a Program into a
// Session) → Session (runs one specialization at a time; retained-state
// buffers stay on the device between calls).
//
// Retained state: a graph input X whose graph output `X_RetainedState`
// exists is state. Callers never pass it: the session starts it zeroed and
// feeds each call's `X_RetainedState` back as the next call's X. Run returns
// only the other outputs (e.g. logits).
#ifndef QEFF_HW_DRIVER_H_
#define QEFF_HW_DRIVER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hw/specialization.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace qeff::hw {

using TensorMap = std::map<std::string, ir::Tensor>;

// Compile options (QEfficient's names). Every field is implemented by a
// driver or rejected by it with a clear error.
struct CompileOptions {
  int num_cores = 0;    // 0: the device's default
  int num_devices = 1;  // tensor slicing across cards; >1 not yet supported
  bool mxfp6_matmul = false;
  bool mxint8_kv_cache = false;
  // Linear weights re-quantized at compile to this block format (kQ8_0,
  // kQ4_0 or kMXFP6; mxfp6_matmul is QEfficient's spelling of kMXFP6).
  // Weights whose K is not a multiple of 32, or already quantized, keep
  // theirs. kNone: weights as the model gives them.
  ir::QuantFormat weight_format = ir::QuantFormat::kNone;
  // Linear weights stored as f16 or bf16 (f32 weights rounded to nearest
  // even at compile; kF32: as given). Ignored when weight_format is set.
  ir::DType weight_dtype = ir::DType::kF32;
  // qaic-compile's -mos and -aic-enable-depth-first: recorded in
  // qconfig.json and passed to the `aic` driver; they change nothing on
  // host devices (the one kind of option that is neither implemented nor
  // rejected there; DESIGN.md).
  int aic_mos = -1;
  bool aic_enable_depth_first = false;
  // Debugging only, not part of any artifact key: dump the graph around each
  // compiler pass whose name fully matches this regex (e.g. "cpu_.*") to
  // stderr. Empty: no dumps.
  std::string pass_dump_regex;
};

// Compiled form of one graph for a set of specializations.
class Program {
 public:
  virtual ~Program() = default;
  virtual const std::vector<Specialization>& specializations() const = 0;
  virtual std::string device_kind() const = 0;
  // A device's modelled performance of this program as a JSON object (the
  // `sim` driver: hw/sim/sim_driver.h); empty when the device models none.
  virtual std::string PerformanceReportJson() const { return ""; }
};

class Session {
 public:
  virtual ~Session() = default;
  // Runs the named specialization. `inputs` are the non-state graph inputs;
  // their shapes must match the specialization. Returns non-state outputs.
  virtual absl::StatusOr<TensorMap> Run(absl::string_view specialization,
                                        const TensorMap& inputs) = 0;
  // Zeroes all retained state (a new sequence).
  virtual absl::Status ResetState() = 0;
  // Zeroes one row (batch index `slot`, the first dimension) of every
  // retained-state buffer: a continuous-batching slot taking a new request
  // (DESIGN.md "Custom ops": buffers are zeroed when a slot is reset). A slot
  // outside the state's batch is an error naming it.
  virtual absl::Status ResetSlot(int64_t slot) = 0;
};

// Zeroes row `slot` of each tensor (all batch-major); for drivers.
absl::Status ZeroStateRows(std::vector<ir::Tensor*> state, int64_t slot);

// A device compiles graphs into programs, saves and loads its own programs
// (the `qpc-<hash16>/` folder of DESIGN.md "Contracts"; its program files
// under `qpc/`), and loads programs into sessions. It states the target its
// programs run on and which compile options change a program, so that
// artifact keys hold exactly what makes two programs differ.
class Device {
 public:
  virtual ~Device() = default;
  virtual std::string name() const = 0;  // e.g. "reference:0"
  virtual std::string kind() const = 0;  // e.g. "reference"
  // The compute cores this device owns (cpu: its card's share of the
  // host); 0 when the notion does not apply.
  virtual int cores() const { return 0; }
  // What a saved program must match to load here: instruction set and
  // kernel ABI version for the cpu ("x86_64/kabi-1"), a format version for
  // the reference ("reference/1").
  virtual std::string target() const = 0;
  // The compile options that change this device's program, as a JSON
  // object (e.g. {"mxfp6_matmul":false,...}); only these enter program keys.
  // Options a device ignores or only records (the cpu's num_cores) are not
  // in it.
  virtual std::string ProgramKeyOptionsJson(
      const CompileOptions& options) const = 0;
  virtual absl::StatusOr<std::shared_ptr<const Program>> Compile(
      const ir::Graph& graph, const std::vector<Specialization>& specs,
      const CompileOptions& options) = 0;
  // True when Compile mostly waits on an external process (the `aic`
  // driver's vendor compiler): the compile graph then runs it on its
  // blocking pool instead of holding a oneTBB worker.
  virtual bool CompileBlocks() const { return false; }
  // Writes `program` (compiled by a device of this kind) into `dir`, an
  // existing empty folder: qconfig.json, specializations.json and the
  // program under qpc/. The caller publishes the folder
  // (base::PublishDirectory), with its own files beside. `provenance_json` (a
  // JSON object or empty) is what the caller knows and the device does not (the
  // model's identity, the transforms applied); it is stored in qconfig.json.
  virtual absl::Status SaveProgram(const Program& program,
                                   const std::string& dir,
                                   const std::string& provenance_json) = 0;
  // Reads a folder SaveProgram wrote. A program of another target, a
  // corrupt file or one naming an op this build does not have fails with an
  // error naming the file and the reason.
  virtual absl::StatusOr<std::shared_ptr<const Program>> LoadProgram(
      const std::string& dir) = 0;
  virtual absl::StatusOr<std::unique_ptr<Session>> Load(
      std::shared_ptr<const Program> program) = 0;
  // Load with run-time choices that are not part of the program:
  // `num_cores` > 0 runs on that many of the device's cores (a saved program
  // is reused whatever cores it was compiled with); 0 keeps the program's.
  struct LoadOptions {
    int num_cores = 0;
  };
  virtual absl::StatusOr<std::unique_ptr<Session>> Load(
      std::shared_ptr<const Program> program, const LoadOptions& options) {
    (void)options;
    return Load(std::move(program));
  }
};

}  // namespace qeff::hw

#endif  // QEFF_HW_DRIVER_H_
