// libFuzzer target: ONNX import from serialized ModelProto bytes (no external
// data folder). Any input must give a value or an error, never a crash,
// sanitizer report or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "ir/onnx_import.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ir::ImportOnnxFromBytes(fuzz::AsText(data, size),
                                "/nonexistent-qeff-fuzz-dir", {}, "m.onnx");
  return 0;
}
