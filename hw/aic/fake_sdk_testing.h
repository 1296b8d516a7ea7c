// A fake Cloud AI 100 SDK root for tests (no SDK is on this machine):
// exec/qaic-exec is a shell script that records its arguments in
// <root>/last_args, copies the specializations and custom-IO files it is
// given to <root>/last_specs and <root>/last_custom_io, checks that the ONNX
// exists and is not empty, and writes <binary dir>/programqpc.bin — or, when
// $FAKE_QAIC_FAIL is set, prints it to stderr and exits 3, like a failing
// compiler. versions/apps.xml says 1.19.6. With `runtime_lib`, that file is
// copied to lib/libQAic.so (a fake runtime: fake_qaic_runtime.cc).
#ifndef QEFF_HW_AIC_FAKE_SDK_TESTING_H_
#define QEFF_HW_AIC_FAKE_SDK_TESTING_H_

#include <string>

namespace qeff::hw::aic::testing {

// Creates the fake root at `root` (replacing what was there); returns it.
std::string MakeFakeSdk(const std::string& root,
                        const std::string& runtime_lib = "");

// The fake runtime library built for the tests (//hw/aic:libfake_qaic.so).
std::string FakeRuntimeLibrary();

}  // namespace qeff::hw::aic::testing

#endif  // QEFF_HW_AIC_FAKE_SDK_TESTING_H_
