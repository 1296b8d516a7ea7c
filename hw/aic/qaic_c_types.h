// The layouts of the Cloud AI 100 runtime's C types that qeff binds
// (QAicRuntimeTypes.h / QAicApi.h of the SDK; published in
// quic/software-kit-for-qualcomm-cloud-ai-100), in one place for the
// binding (aic_runtime.cc) and the tests' fake library.
#ifndef QEFF_HW_AIC_QAIC_C_TYPES_H_
#define QEFF_HW_AIC_QAIC_C_TYPES_H_

#include <cstddef>
#include <cstdint>

namespace qeff::hw::aic::c {

struct QBuffer {
  size_t size;
  uint8_t* buf;
  uint64_t handle;
  uint32_t offset;
  uint32_t type;  // QBUFFER_TYPE_HEAP = 0
};
struct QData {
  size_t size;
  uint8_t* data;
};
struct QAicBufferMappings {
  char* bufferName;
  uint32_t index;
  int32_t ioType;  // 1 input, 2 output
  uint32_t size;
  bool isPartialBufferAllowed;
  int32_t dataType;  // 0 f32, 1 f16, 6 i32, 7 i64
};
struct QAicIoBufferInfo {
  uint32_t numBufferMappings;
  QAicBufferMappings* bufferMappings;
};
using QStatus = int32_t;  // QS_SUCCESS = 0, QS_INVAL = 6
constexpr int32_t kActivateFull = 0, kDeactivateFull = 1;

}  // namespace qeff::hw::aic::c

#endif  // QEFF_HW_AIC_QAIC_C_TYPES_H_
