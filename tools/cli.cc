#include "tools/cli.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <set>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "base/utf8.h"
#include "hw/device_registry.h"
#include "hw/profiler.h"
#include "hw/sim/ai100_model.h"

namespace qeff::tools {

std::set<std::string>& GivenFlags() {
  static std::set<std::string>* given = new std::set<std::string>;
  return *given;
}

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
    GivenFlags().insert(a.substr(2, end - 2));
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
  // Cloud AI 100 devices: the group is the card's device ids (QEfficient's
  // device_group); its size is num_devices (tensor slicing).
  if (device == "aic" && !group.empty()) return absl::StrCat("aic:", group[0]);
  if (absl::StartsWith(device, "sim") || absl::StartsWith(device, "aic"))
    return device;
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
  if (host && AicOptionsGiven()) {
    std::cout << "--mos / --aic_enable_depth_first are Cloud AI 100 compiler "
                 "options: recorded, no effect on "
              << d->kind() << "\n";
  }
  return absl::OkStatus();
}

bool AicOptionsGiven() {
  return GivenFlags().count("mos") > 0 ||
         GivenFlags().count("aic_enable_depth_first") > 0 ||
         GivenFlags().count("noaic_enable_depth_first") > 0;
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

namespace {

using base::JsonValue;

absl::StatusOr<std::vector<std::vector<int64_t>>> ParseIdLists(
    const std::string& flag) {
  std::vector<std::vector<int64_t>> out;
  for (absl::string_view list : absl::StrSplit(flag, '|')) {
    out.emplace_back();
    for (absl::string_view p : absl::StrSplit(list, ',')) {
      int64_t id;
      if (!absl::SimpleAtoi(p, &id))
        return absl::InvalidArgumentError(
            absl::StrCat("--prompt_ids: '", p, "' is not a token id"));
      out.back().push_back(id);
    }
  }
  return out;
}

JsonValue IdsJson(const std::vector<int64_t>& ids) {
  JsonValue a = JsonValue::Array();
  for (int64_t id : ids) a.Append(JsonValue::Int(id));
  return a;
}

absl::Status WriteOutputJson(const std::string& path,
                             const std::string& model_path,
                             const engine::QEFFAutoModelForCausalLM& model,
                             const engine::GenerateResult& r) {
  JsonValue results = JsonValue::Array();
  for (const engine::GeneratedText& g : r.outputs) {
    JsonValue stats = JsonValue::Object();
    stats.Set("ttft_s", JsonValue::Double(g.perf.prefill_time));
    stats.Set("decode_tok_s", JsonValue::Double(g.perf.decode_perf));
    stats.Set("total_tok_s", JsonValue::Double(g.perf.total_perf));
    stats.Set("e2e_s", JsonValue::Double(g.perf.total_time));
    JsonValue o = JsonValue::Object();
    o.Set("prompt",
          g.prompt ? JsonValue::String(*g.prompt) : JsonValue::Null());
    o.Set("prompt_ids", IdsJson(g.prompt_ids));
    // JSON readers need valid UTF-8: a lone byte token becomes U+FFFD.
    o.Set("completion", JsonValue::String(base::ValidUtf8(g.text)));
    o.Set("token_ids", IdsJson(g.token_ids));
    o.Set("stats", std::move(stats));
    results.Append(std::move(o));
  }
  JsonValue artifacts = JsonValue::Object();
  artifacts.Set("onnx", JsonValue::String(model.onnx_path()));
  artifacts.Set("program", JsonValue::String(model.qpc_path()));
  JsonValue summary = JsonValue::Object();
  summary.Set("prompts", JsonValue::Int(r.outputs.size()));
  summary.Set("batch_size", JsonValue::Int(model.compile_params().batch_size));
  summary.Set("full_batch_size",
              JsonValue::Int(model.compile_params().full_batch_size));
  summary.Set("generated_tokens", JsonValue::Int(r.generated_tokens));
  summary.Set("wall_s", JsonValue::Double(r.perf.total_time));
  summary.Set("generated_tok_s",
              JsonValue::Double(r.perf.total_time > 0
                                    ? r.generated_tokens / r.perf.total_time
                                    : 0));
  JsonValue doc = JsonValue::Object();
  doc.Set("model", JsonValue::String(model_path));
  doc.Set("device", JsonValue::String(model.device()->name()));
  doc.Set("artifacts", std::move(artifacts));
  doc.Set("results", std::move(results));
  doc.Set("summary", std::move(summary));
  base::JsonWriteOptions wo;
  wo.indent = 1;
  return base::WriteFileAtomically(path, base::WriteJson(doc, wo) + "\n");
}

}  // namespace

void PrintModelledReport(const engine::QEFFBaseModel& model,
                         const engine::GenerateResult& r) {
  if (!model.program()) return;
  const std::string json = model.program()->PerformanceReportJson();
  if (json.empty()) return;
  const int64_t prompt_len =
      r.outputs.empty() ? 0
                        : static_cast<int64_t>(r.outputs[0].prompt_ids.size());
  auto run = hw::sim::ModelledRunFromJson(json, prompt_len);
  if (!run.ok()) {
    std::cout << "Modelled report unreadable: " << run.status() << "\n";
    return;
  }
  std::cout << "Host times above: measured on the host (cpu driver).\n"
            << "Modelled on " << run->device << " (num_cores " << run->num_cores
            << ", num_devices " << run->num_devices
            << "; a bound from the datasheet, not a measurement):\n";
  for (const hw::sim::CallEstimate& c : run->calls)
    std::cout << absl::StrFormat(
        "  %s (batch %d x seq %d): %.4g ms per call, %.4g tokens/s "
        "[%s-bound]\n",
        c.specialization, c.batch_size, c.seq_len, 1e3 * c.seconds,
        c.tokens_per_s, c.bound);
  if (run->ttft_s > 0)
    std::cout << absl::StrFormat(
        "  Modelled TTFT (%d-token prompt): %.4g ms; modelled decode: %.4g "
        "tokens/s\n",
        prompt_len, 1e3 * run->ttft_s, run->decode_tokens_per_s);
}

// The generation of GenerateAndReport (from ids or prompts).
static absl::Status Generate(engine::QEFFAutoModelForCausalLM& model,
                             const RunRequest& req, int64_t batch,
                             engine::GenerateOptions* go_ptr,
                             engine::GenerateResult* r_ptr,
                             bool* streamed_ptr) {
  const engine::CompileParams& cp = model.compile_params();
  engine::GenerateOptions& go = *go_ptr;
  engine::GenerateResult& r = *r_ptr;
  bool& streamed = *streamed_ptr;
  if (!req.prompt_ids.empty()) {
    if (!req.prompts_file.empty())
      return absl::InvalidArgumentError(
          "--prompts_txt_file_path and --prompt_ids are exclusive");
    QEFF_ASSIGN_OR_RETURN(auto ids, ParseIdLists(req.prompt_ids));
    if (go.generation_len <= 0) {
      size_t longest = 0;
      for (const auto& p : ids) longest = std::max(longest, p.size());
      go.generation_len =
          std::max<int64_t>(1, cp.ctx_len - static_cast<int64_t>(longest));
    }
    QEFF_ASSIGN_OR_RETURN(r, model.GenerateIds(ids, go));
  } else {
    QEFF_ASSIGN_OR_RETURN(std::vector<std::string> prompts,
                          ReadPrompts(req.prompt, req.prompts_file));
    prompts = FillBatch(std::move(prompts), batch);
    if (go.generation_len <= 0)
      go.generation_len = DefaultGenerationLen(model, prompts, cp.ctx_len);
    // One prompt on a terminal: stream its completion as it comes.
    if (prompts.size() == 1 && ::isatty(1)) {
      streamed = true;
      std::cout << "Prompt : " << prompts[0] << "\nCompletion : " << std::flush;
      go.on_token = [](int64_t, int64_t, const std::string& text) {
        std::cout << text << std::flush;
      };
    }
    QEFF_ASSIGN_OR_RETURN(r, model.Generate(prompts, go));
    if (streamed) std::cout << "\n";
  }
  return absl::OkStatus();
}

absl::Status GenerateAndReport(engine::QEFFAutoModelForCausalLM& model,
                               const RunRequest& req) {
  const engine::CompileParams& cp = model.compile_params();
  const int64_t batch =
      cp.full_batch_size > 0 ? cp.full_batch_size : cp.batch_size;
  engine::GenerateOptions go;
  go.stop_at_eos = req.stop_at_eos;
  go.sampling = req.sampling;
  go.generation_len = req.generation_len;
  engine::GenerateResult r;
  bool streamed = false;
  if (!req.profile.empty()) {
    const size_t slash = req.profile.rfind('/');
    const std::string dir =
        slash == std::string::npos ? "." : req.profile.substr(0, slash + 1);
    if (!base::DirExists(dir))
      return absl::InvalidArgumentError(absl::StrCat(
          "--profile=", req.profile, ": the folder ", dir, " does not exist"));
    hw::Profiler::Global().Start();
  }
  absl::Status generated = Generate(model, req, batch, &go, &r, &streamed);
  if (!req.profile.empty()) {
    hw::Profiler& prof = hw::Profiler::Global();
    prof.Stop();
    QEFF_RETURN_IF_ERROR(generated);
    QEFF_RETURN_IF_ERROR(prof.WriteChromeTrace(req.profile));
    std::cerr << "Profile (" << model.device()->name() << ", trace "
              << req.profile << "):\n";
    if (prof.spans().empty())
      std::cerr << "  the device recorded no spans (the cpu driver records "
                   "kernel steps; other devices do not)\n";
    else
      std::cerr << prof.SummaryTable();
  }
  QEFF_RETURN_IF_ERROR(generated);
  PrintRunReport(r, batch, streamed);
  PrintModelledReport(model, r);
  for (const engine::GeneratedText& g : r.outputs)
    std::cout << "Token ids : " << absl::StrJoin(g.token_ids, ",") << "\n";
  if (!req.output_json.empty())
    QEFF_RETURN_IF_ERROR(
        WriteOutputJson(req.output_json, req.model_path, model, r));
  return absl::OkStatus();
}

absl::Status PublishExactly(const std::string& from, const std::string& to) {
  if (base::DirExists(to) && ::rmdir(to.c_str()) != 0)
    return absl::AlreadyExistsError(
        absl::StrCat(to, ": exists and is not empty"));
  if (std::rename(from.c_str(), to.c_str()) != 0)
    return absl::InternalError(absl::StrCat("cannot move ", from, " to ", to,
                                            ": ", std::strerror(errno)));
  return absl::OkStatus();
}

absl::Status InScratchFolder(const std::string& scratch,
                             const std::function<absl::Status()>& body) {
  QEFF_RETURN_IF_ERROR(base::RemoveAll(scratch));
  absl::Status s = body();
  absl::Status cleaned = base::RemoveAll(scratch);
  return s.ok() ? cleaned : s;
}

absl::StatusOr<std::string> OnnxFileOf(const std::string& path) {
  if (!base::DirExists(path)) return path;
  std::vector<std::string> found;
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (absl::EndsWith(n, ".onnx")) found.push_back(path + "/" + n);
    }
    ::closedir(d);
  }
  if (found.size() != 1)
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": a folder for --onnx_path must hold exactly one .onnx file "
        "(found ",
        found.size(), ")"));
  return found[0];
}

int RunTool(int argc, char** argv, const char* name, const char* usage,
            const std::function<absl::Status(const std::string&)>& run) {
  absl::SetProgramUsageMessage(usage);
  std::vector<std::string> storage;
  std::vector<char*> args = NormalizeFlagNames(argc, argv, &storage);
  std::vector<char*> rest =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (rest.size() > 1) {
    std::cerr << name << ": unexpected argument '" << rest[1] << "'\n";
    return 1;
  }
  absl::Status s = run(argv[0]);
  if (!s.ok()) {
    std::cerr << name << ": " << s.message() << "\n";
    return 1;
  }
  return 0;
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
      std::cout << "Prompt : "
                << (g.prompt ? *g.prompt : absl::StrJoin(g.prompt_ids, ","))
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
