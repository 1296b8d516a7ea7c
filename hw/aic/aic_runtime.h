// The Cloud AI 100 runtime's C library (libQAic.so, the SDK's QAicApi.h)
// bound at run time with dlopen, so qeff builds and tests without the SDK.
// The subset used is the one the SDK's own samples use to run a compiled
// program: qaicCreateContext, qaicCreateQueue, qaicOpenQpcFile,
// qaicProgramPropertiesInitDefault, qaicCreateProgram, qaicLoadProgram,
// qaicRunActivationCmd, qaicProgramGetIoDescriptor, qaicCreateExecObj,
// qaicProgramGetIoBufferInfo, qaicExecObjSetData, qaicEnqueueExecObj,
// qaicExecObjWaitForCompletion and the matching release calls. Struct
// layouts (QBuffer, QData, QAicIoBufferInfo, QAicBufferMappings) follow the
// SDK's published headers (quic/software-kit-for-qualcomm-cloud-ai-100,
// QAicRuntimeTypes.h).
//
// Retained state: as QEfficient's QAICInferenceSession does (skip_buffers),
// the retained-state inputs (past_*) and their *_RetainedState outputs are
// bound as zero-sized buffers, so the card keeps them between calls; only
// the other inputs and outputs cross PCIe.
//
// Not verified here: no card and no SDK are on this machine. The tests bind
// a fake library built in the test that exports the same symbols; that
// shows the call sequence, the buffer binding and the retained-state
// handling, not the real library's behaviour (in particular how a
// multi-specialization program picks its specialization from the bound
// sizes).
#ifndef QEFF_HW_AIC_AIC_RUNTIME_H_
#define QEFF_HW_AIC_AIC_RUNTIME_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace qeff::hw::aic {

struct RuntimeApi;  // the bound function table (aic_runtime.cc)

// One IO buffer of a program, as the runtime describes it.
struct Binding {
  std::string name;
  uint32_t index = 0;
  int io_type = 0;    // 1 input, 2 output (QAicBufferIoTypeEnum)
  uint32_t size = 0;  // bytes
  bool partial_allowed = false;
  int data_type = 0;      // QAicBufferDataTypeEnum: 0 f32, 1 f16, 6 i32, 7 i64
  bool retained = false;  // past_* / *_RetainedState: stays on the card
};

// A program loaded, activated and ready to run on one device.
class LoadedProgram {
 public:
  ~LoadedProgram();
  const std::vector<Binding>& bindings() const { return bindings_; }
  // Binds `inputs` (name -> bytes; retained-state buffers are never passed)
  // and the outputs, runs once and returns the non-retained outputs. An
  // input missing, unknown or of the wrong size is an error naming it.
  absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> Run(
      const std::map<std::string, std::vector<uint8_t>>& inputs);

 private:
  friend class Runtime;
  LoadedProgram() = default;
  std::shared_ptr<const RuntimeApi> api_;
  void* context_ = nullptr;
  void* queue_ = nullptr;
  void* qpc_ = nullptr;
  void* program_ = nullptr;
  void* exec_ = nullptr;
  bool loaded_ = false, active_ = false;
  std::vector<Binding> bindings_;
};

class Runtime {
 public:
  // dlopens `library` and binds every symbol; a missing library or symbol
  // is FailedPrecondition naming it.
  static absl::StatusOr<std::shared_ptr<Runtime>> Open(
      const std::string& library);
  // Opens `qpc_dir`/programqpc.bin and makes it runnable on device `id`.
  // Any runtime call that fails is an error naming the call and its status.
  absl::StatusOr<std::unique_ptr<LoadedProgram>> Load(
      const std::string& qpc_dir, int device_id) const;

 private:
  std::shared_ptr<const RuntimeApi> api_;
};

}  // namespace qeff::hw::aic

#endif  // QEFF_HW_AIC_AIC_RUNTIME_H_
