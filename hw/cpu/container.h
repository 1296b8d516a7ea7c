// The cpu driver's program container on disk (DESIGN.md "Contracts"):
//
//   <dir>/                    e.g. .../qpc-<hash16>/
//     specializations.json    the named specializations
//     custom_io.yaml          one entry per retained-state I/O
//     qconfig.json            device, format version, target,
//                             compile options, specializations
//     qpc/program.bin         the program
//
// program.bin (little-endian):
//   header (kHeaderBytes = 128): magic "QEFFCPU\0"; u32 format version;
//     u32 header size; char[32] target (NUL-padded, e.g. "x86_64/kabi-1":
//     instruction set and kernel ABI version); u64 plan offset, plan size,
//     weights offset, weights size;
//     u64 checksum = FNV-1a-64 over the header (checksum field zeroed) and
//     the plan bytes; zero padding.
//   plan: specializations, I/O contract, options, per-specialization slots,
//     steps and arena plan, and the constants table (dtype, format, dims,
//     offset and size in the weights section).
//   weights: each constant's bytes, 64-byte aligned, exactly as kernels
//     read them (packed [N, K] Linear weights, GGUF/MX blocks as is).
//
// The directory is written under a temporary name and renamed into place,
// so a half-written container never exists. ReadProgram mmaps program.bin
// and points every constant into the mapping (no weight copies); a file that
// is truncated, of another format version or target, names a kernel this
// build lacks, or whose
// checksum fails is rejected with an error naming the file and the reason.
#ifndef QEFF_HW_CPU_CONTAINER_H_
#define QEFF_HW_CPU_CONTAINER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "hw/driver.h"

namespace qeff::hw::cpu {

inline constexpr uint32_t kProgramFormatVersion = 1;
inline constexpr size_t kHeaderBytes = 128;

// The instruction set this build's programs are for ("x86_64", "aarch64").
std::string ProgramIsa();
// What a program must match to load: "<isa>/kabi-<kKernelAbiVersion>".
std::string ProgramTarget();

// Writes a program compiled by the cpu driver to `dir`
// (base::PublishDirectory: a folder that exists is reused as it is).
// `provenance_json`, when given, is a JSON object the caller knows and the
// driver does not (the model's identity, the transforms applied, library
// versions); it is stored as qconfig.json's "provenance" field.
absl::Status WriteProgram(const Program& program, const std::string& dir,
                          const std::string& provenance_json = "");

// The same files written into `dir`, an existing (empty) folder whose
// publication the caller owns (Device::SaveProgram).
absl::Status WriteProgramFiles(const Program& program, const std::string& dir,
                               const std::string& provenance_json,
                               const std::string& target);

// WriteProgram with another target in the header (tests of the loader's
// checks: a program of another kernel ABI must not load).
absl::Status WriteProgramForTarget(const Program& program,
                                   const std::string& dir,
                                   const std::string& provenance_json,
                                   const std::string& target);

// Also checks that every step's kernel exists in this build.
absl::StatusOr<std::shared_ptr<const Program>> ReadProgram(
    const std::string& dir);

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_CONTAINER_H_
