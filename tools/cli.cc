#include "tools/cli.h"

#include <cmath>
#include <cstdio>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "hw/device_registry.h"

namespace qeff::tools {

std::vector<char*> NormalizeFlagNames(int argc, char** argv,
                                      std::vector<std::string>* storage) {
  storage->assign(argv, argv + argc);
  bool after_double_dash = false;
  for (size_t i = 1; i < storage->size(); ++i) {
    std::string& a = (*storage)[i];
    if (after_double_dash || a == "--") {
      after_double_dash = true;
      continue;
    }
    if (a.size() < 3 || a[0] != '-' || a[1] != '-') continue;
    const size_t end = std::min(a.find('='), a.size());
    for (size_t k = 2; k < end; ++k)
      if (a[k] == '-') a[k] = '_';
  }
  std::vector<char*> out;
  for (std::string& s : *storage) out.push_back(s.data());
  return out;
}

absl::StatusOr<std::vector<int>> ParseDeviceGroup(const std::string& text) {
  std::vector<int> ids;
  absl::string_view t = absl::StripAsciiWhitespace(text);
  absl::ConsumePrefix(&t, "[");
  absl::ConsumeSuffix(&t, "]");
  if (absl::StripAsciiWhitespace(t).empty()) return ids;
  for (absl::string_view p : absl::StrSplit(t, ',')) {
    int id;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(p), &id) || id < 0)
      return absl::InvalidArgumentError(
          absl::StrCat("--device_group '", text, "': '", p,
                       "' is not a device id (use e.g. [0] or [0,1])"));
    ids.push_back(id);
  }
  return ids;
}

absl::StatusOr<std::string> DeviceForGroup(const std::string& device,
                                           const std::vector<int>& group) {
  if (group.size() > 1)
    return absl::UnimplementedError(absl::StrCat(
        "--device_group with ", group.size(),
        " devices (num_devices=", group.size(),
        ", tensor slicing across cards) is not supported yet; give one id"));
  if (group.empty() || group[0] == 0) return device;
  const int k = group[0];
  if (absl::StartsWith(device, "cpu:") &&
      device.find('/') == std::string::npos) {
    int n = 0;
    if (absl::SimpleAtoi(device.substr(4), &n) && k < n)
      return absl::StrCat(device, "/", k);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--device_group [", k, "]: device '", device, "' has no card ", k,
      " (split the host with --device=cpu:N to get "
      "cards 0..N-1)"));
}

absl::Status FitToDevice(engine::CompileParams* p) {
  QEFF_ASSIGN_OR_RETURN(std::unique_ptr<hw::Device> d,
                        hw::OpenDevice(p->device));
  const bool host = d->kind() == "cpu" || d->kind() == "reference";
  if (d->cores() > 0 && p->num_cores > d->cores()) {
    std::cout << "num_cores " << p->num_cores << ": " << d->name() << " has "
              << d->cores() << " cores; using " << d->cores() << "\n";
    p->num_cores = d->cores();
  }
  if (host && (p->mos != -1 || p->aic_enable_depth_first)) {
    std::cout << "--mos / --aic_enable_depth_first are Cloud AI 100 compiler "
                 "options: recorded, no effect on "
              << d->kind() << "\n";
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ReadPrompts(
    const std::string& prompt, const std::string& prompts_file) {
  std::vector<std::string> out;
  if (!prompts_file.empty()) {
    QEFF_ASSIGN_OR_RETURN(std::string text, base::ReadFile(prompts_file));
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      absl::ConsumeSuffix(&line, "\r");
      if (!line.empty()) out.emplace_back(line);
    }
    if (out.empty())
      return absl::InvalidArgumentError(
          absl::StrCat(prompts_file, ": no prompts (one per line)"));
    return out;
  }
  for (absl::string_view p : absl::StrSplit(prompt, '|')) out.emplace_back(p);
  return out;
}

std::vector<std::string> FillBatch(std::vector<std::string> prompts,
                                   int64_t batch) {
  const size_t n = prompts.size();
  if (batch > 1 && n < static_cast<size_t>(batch)) {
    std::cout << "Number of prompts (" << n << ") is less than the batch size ("
              << batch << "): repeating them to fill the batch\n";
    for (size_t i = n; i < static_cast<size_t>(batch); ++i)
      prompts.push_back(prompts[i % n]);
  }
  return prompts;
}

int64_t DefaultGenerationLen(const engine::QEFFAutoModelForCausalLM& model,
                             const std::vector<std::string>& prompts,
                             int64_t ctx_len) {
  int64_t longest = 0;
  if (model.model().tokenizer) {
    for (const std::string& p : prompts) {
      auto ids = model.model().tokenizer->EncodePrompt(p);
      if (ids.ok())
        longest = std::max<int64_t>(longest, static_cast<int64_t>(ids->size()));
    }
  }
  return std::max<int64_t>(1, ctx_len - longest);
}

std::string Round2(double x) {
  const double r = std::round(x * 100.0) / 100.0;
  std::string s = absl::StrFormat("%.2f", r);
  while (absl::EndsWith(s, "0") && !absl::EndsWith(s, ".0")) s.pop_back();
  return s;
}

void PrintRunReport(const engine::GenerateResult& r, int64_t batch,
                    bool streamed) {
  for (const engine::GeneratedText& g : r.outputs) {
    if (!streamed) {
      std::cout << "Prompt : " << (g.prompt ? *g.prompt : std::string())
                << "\nCompletion : " << g.text << "\n";
    }
  }
  const int64_t b = std::max<int64_t>(1, batch);
  std::cout
      << "========================= Performance Stats "
         "=========================\n"
      << "Average Prefill time a.k.a TTFT is= " << Round2(r.perf.prefill_time)
      << " sec\n"
      << "Decode is= " << Round2(r.perf.decode_perf * b) << " tokens/sec\n"
      << "Total is= " << Round2(r.perf.total_perf * b) << " tokens/sec\n"
      << "Total (E2E) inference time is= " << Round2(r.perf.total_time)
      << " sec\n"
      << "====================================================================="
         "\n";
}

}  // namespace qeff::tools
