// The `aic` driver: a Cloud AI 100 card through the vendor SDK. Device specs
// "aic" and "aic:N" (device id N). Opening needs the SDK (DetectSdk: root
// $QEFF_AIC_SDK_ROOT or /opt/qti-aic); without it the open fails with one
// error naming the root and the compiler paths looked for.
// Compile exports the graph as ONNX into a fresh folder, writes
// specializations.json and custom_io.yaml (and the partition config for
// num_devices > 1) as QEFFBaseModel._compile does, and runs qaic-exec with
// QEfficient's command line (hw/aic/aic_compile.h), blocking until it
// exits; a failing compiler is the compile's error, with its output. The
// program is the compiler's qpc/ folder; SaveProgram copies it.
// Load binds the SDK's runtime library at run time (hw/aic/aic_runtime.h)
// and runs the program on device N, the retained state kept on the card.
// Nothing here has run on a real card: the tests use a fake SDK root (a
// shell-script compiler and a fake runtime library built by the test).
#ifndef QEFF_HW_AIC_AIC_DRIVER_H_
#define QEFF_HW_AIC_AIC_DRIVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hw/driver.h"

namespace qeff::hw {

absl::StatusOr<std::unique_ptr<Device>> OpenAicDevice(absl::string_view spec);

}  // namespace qeff::hw

#endif  // QEFF_HW_AIC_AIC_DRIVER_H_
