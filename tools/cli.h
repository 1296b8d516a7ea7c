// QEfficient's command-line conventions, shared by infer, export, compile
// and execute: `-` and `_` are the same in flag names, `--device_group
// [k]` picks a card, `--num_cores` larger than the device uses what it has,
// qaic-only options are noted on host devices, prompts separated by `|`,
// prompts repeated to fill a batch (fix_prompts), and QEfficient's run
// report.
#ifndef QEFF_TOOLS_CLI_H_
#define QEFF_TOOLS_CLI_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/qeff_auto_model.h"

namespace qeff::tools {

// argv with every `--flag-name[=v]` spelled `--flag_name[=v]` (values are
// untouched). `storage` owns the strings the result points into.
std::vector<char*> NormalizeFlagNames(int argc, char** argv,
                                      std::vector<std::string>* storage);

// "[0]", "[0,1]", "0,1" -> ids; empty -> empty.
absl::StatusOr<std::vector<int>> ParseDeviceGroup(const std::string& text);

// The device spec for --device and --device_group: no group or [0] keeps
// `device`; [k] on "cpu:N" is card k ("cpu:N/k"); more than one id is
// num_devices > 1, refused by name on host devices. For Cloud AI 100
// devices the group is QEfficient's: "aic" with [k, ...] is "aic:k", "sim:*"
// is kept, and the caller sets num_devices to the group's size.
absl::StatusOr<std::string> DeviceForGroup(const std::string& device,
                                           const std::vector<int>& group);

// Applies the host-device meanings: num_cores above what the device owns
// becomes what it owns (one line on stdout says so); --mos /
// --aic_enable_depth_first given on the command line for a host device get
// one line saying they have no effect there (they stay recorded).
absl::Status FitToDevice(engine::CompileParams* params);

// The flag names NormalizeFlagNames saw (normalised, without "--").
std::set<std::string>& GivenFlags();
// Whether --mos or --aic_enable_depth_first was given on the command line.
bool AicOptionsGiven();

// Prompts from --prompt (split at `|`) or a file (one per line, blank lines
// skipped).
absl::StatusOr<std::vector<std::string>> ReadPrompts(
    const std::string& prompt, const std::string& prompts_file);

// QEfficient's fix_prompts: fewer prompts than `batch` are repeated to fill
// it (one warning line); otherwise the prompts as given (an incomplete last
// batch is padded by the generator and its extra rows discarded).
std::vector<std::string> FillBatch(std::vector<std::string> prompts,
                                   int64_t batch);

// QEfficient's generation_len default: fill the context after the longest
// prompt (ctx_len - its length), at least 1.
int64_t DefaultGenerationLen(const engine::QEFFAutoModelForCausalLM& model,
                             const std::vector<std::string>& prompts,
                             int64_t ctx_len);

// The run report: per prompt "Prompt : " / "Completion : " (the completion
// is skipped when it was streamed), then QEfficient's Performance Stats
// block (Decode and Total scaled by the batch size, as QEfficient's).
// The device's modelled performance of the model's program (the `sim`
// driver's report), labelled as modelled, after the host's measured times;
// nothing for devices that model none.
void PrintModelledReport(const engine::QEFFBaseModel& model,
                         const engine::GenerateResult& r);
void PrintRunReport(const engine::GenerateResult& result, int64_t batch,
                    bool streamed);

// --a or its alias --b (not both with different values).
template <typename T>
absl::StatusOr<T> Either(const absl::Flag<T>& a, const absl::Flag<T>& b,
                         const char* a_name, const char* b_name, T unset) {
  const T x = absl::GetFlag(a), y = absl::GetFlag(b);
  if (x != unset && y != unset && x != y)
    return absl::InvalidArgumentError(absl::StrCat(
        "--", a_name, " and --", b_name, " are the same flag; give one"));
  return x != unset ? x : y;
}

// What infer and execute run once the model has its program.
struct RunRequest {
  std::string model_path;      // for --output_json
  std::string prompt;          // split at '|'
  std::string prompts_file;    // instead of prompt
  std::string prompt_ids;      // "1,2|3,4": instead of text prompts
  int64_t generation_len = 0;  // 0: fill the context
  bool stop_at_eos = true;
  std::string output_json;          // empty: none
  engine::SamplingParams sampling;  // default: greedy
  std::string profile;              // --profile: Chrome trace path (empty: off)
};

// Generates for the request on the model's compiled program and prints the
// run report (one completion streamed when stdout is a terminal), the token
// ids, and writes --output_json (DESIGN.md's contract). With a profile
// path, the generation's device work is recorded (hw/profiler.h): the
// Chrome trace goes there and the per-kernel summary to stderr.
absl::Status GenerateAndReport(engine::QEFFAutoModelForCausalLM& model,
                               const RunRequest& request);

// Moves the folder `from` to `to` (build rules' declared outputs): `to` may
// exist empty (Bazel creates declared directories); anything else there is
// an error naming it.
absl::Status PublishExactly(const std::string& from, const std::string& to);

// Runs `body` with `scratch` removed before and after, whatever it
// returns: a failed build action leaves nothing beside its output.
absl::Status InScratchFolder(const std::string& scratch,
                             const std::function<absl::Status()>& body);

// --onnx_path as a file, or a folder holding exactly one *.onnx (a
// qeff_export output).
absl::StatusOr<std::string> OnnxFileOf(const std::string& path);

// A tool's main(): normalises flag names, parses them with Abseil (an
// unknown flag is its one-line error), rejects positional arguments, runs
// `run(argv[0])` and prints "<name>: <message>" on failure. Returns the
// exit code.
int RunTool(int argc, char** argv, const char* name, const char* usage,
            const std::function<absl::Status(const std::string&)>& run);

// Python's repr of round(x, 2) ("0.0", "12.5", "707.13").
std::string Round2(double x);

}  // namespace qeff::tools

#endif  // QEFF_TOOLS_CLI_H_
