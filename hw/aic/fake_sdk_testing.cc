#include "hw/aic/fake_sdk_testing.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "base/files.h"

namespace qeff::hw::aic::testing {

std::string MakeFakeSdk(const std::string& root,
                        const std::string& runtime_lib) {
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/exec");
  std::filesystem::create_directories(root + "/versions");
  const std::string script = R"(#!/bin/sh
here="$(dirname "$0")/.."
echo "$@" > "$here/last_args"
if [ -n "$FAKE_QAIC_FAIL" ]; then echo "$FAKE_QAIC_FAIL" >&2; exit 3; fi
out=""
for a in "$@"; do
  case "$a" in
    -network-specialization-config=*) cp "${a#*=}" "$here/last_specs" || exit 4 ;;
    -custom-IO-list-file=*) cp "${a#*=}" "$here/last_custom_io" || exit 4 ;;
    -m=*) [ -s "${a#*=}" ] || { echo "missing or empty ${a#*=}" >&2; exit 4; } ;;
    -aic-binary-dir=*) out="${a#*=}" ;;
  esac
done
mkdir -p "$out" && echo qpc > "$out/programqpc.bin"
)";
  (void)base::WriteFileAtomically(root + "/exec/qaic-exec", script);
  ::chmod((root + "/exec/qaic-exec").c_str(), 0755);
  (void)base::WriteFileAtomically(
      root + "/versions/apps.xml",
      "<versions><ci_build><base_version>1.19</base_version>"
      "<build_id>6</build_id></ci_build></versions>");
  if (!runtime_lib.empty()) {
    std::filesystem::create_directories(root + "/lib");
    std::filesystem::copy_file(
        runtime_lib, root + "/lib/libQAic.so",
        std::filesystem::copy_options::overwrite_existing);
  }
  return root;
}

std::string FakeRuntimeLibrary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  std::string base = srcdir && ws ? std::string(srcdir) + "/" + ws + "/" : "";
  return base + "hw/aic/libfake_qaic.so";
}

}  // namespace qeff::hw::aic::testing
