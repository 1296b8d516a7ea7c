#include "engine/job.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/json.h"
#include "base/status_macros.h"

namespace qeff::engine {

bool JobState::finished() const {
  absl::MutexLock l(&mu_);
  return finished_;
}

void JobState::Finish(absl::Status status) {
  absl::MutexLock l(&mu_);
  if (finished_) return;
  finished_ = true;
  result_.status = std::move(status);
}

bool JobState::SkipIfNotLive(absl::string_view stage) {
  absl::MutexLock l(&mu_);
  if (finished_) return true;
  if (!cancel_.load(std::memory_order_relaxed)) return false;
  finished_ = true;
  result_.status = absl::CancelledError(
      absl::StrCat("job ", result_.id, ": cancelled before ", stage));
  return true;
}

void JobState::SetOnnx(const std::string& path, bool reused) {
  absl::MutexLock l(&mu_);
  result_.onnx_path = path;
  result_.onnx_reused = reused;
}

void JobState::SetProgram(const std::string& path, bool reused) {
  absl::MutexLock l(&mu_);
  result_.program_path = path;
  result_.program_reused = reused;
}

void JobState::AddTiming(absl::string_view stage, double seconds) {
  absl::MutexLock l(&mu_);
  result_.timings_s[std::string(stage)] += seconds;
}

JobResult JobState::Snapshot() const {
  absl::MutexLock l(&mu_);
  return result_;
}

std::vector<JobMsg> MakeJobs(std::vector<JobSpec> specs) {
  std::vector<JobMsg> out;
  out.reserve(specs.size());
  for (JobSpec& s : specs) {
    auto spec = std::make_shared<const JobSpec>(std::move(s));
    out.push_back({spec, std::make_shared<JobState>(spec->id)});
  }
  return out;
}

namespace {

using base::JsonValue;

// An int field: a JSON integer (or, for symbols, a decimal string as in
// specializations.json).
absl::StatusOr<int64_t> IntOf(const base::JsonValue& v, bool allow_string,
                              const std::string& where) {
  if (v.is_number()) {
    auto i = v.AsInt64();
    if (i.ok()) return *i;
  }
  int64_t i;
  if (allow_string && v.is_string() && absl::SimpleAtoi(v.string_value(), &i))
    return i;
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": expected an integer, got ",
                   base::JsonValue::KindName(v.kind())));
}

absl::StatusOr<bool> BoolOf(const base::JsonValue& v,
                            const std::string& where) {
  if (!v.is_bool())
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected true or false, got ",
                     base::JsonValue::KindName(v.kind())));
  return v.bool_value();
}

absl::StatusOr<std::string> StringOf(const base::JsonValue& v,
                                     const std::string& where) {
  if (!v.is_string() || v.string_value().empty())
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected a non-empty string"));
  return v.string_value();
}

absl::StatusOr<JobSpec> ParseJob(const base::JsonValue& v,
                                 const std::string& where, size_t index) {
  if (!v.is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected an object"));
  JobSpec job;
  int64_t prompt_len = 32, ctx_len = 128, batch_size = 1, full_batch_size = 0;
  bool shorthand = false;
  const base::JsonValue* specs = nullptr;
  for (const auto& [key, val] : v.object()) {
    const std::string w = absl::StrCat(where, ".", key);
    if (key == "model") {
      QEFF_ASSIGN_OR_RETURN(job.model_path, StringOf(val, w));
    } else if (key == "id") {
      QEFF_ASSIGN_OR_RETURN(job.id, StringOf(val, w));
    } else if (key == "tokenizer") {
      QEFF_ASSIGN_OR_RETURN(job.tokenizer_path, StringOf(val, w));
    } else if (key == "device") {
      QEFF_ASSIGN_OR_RETURN(job.device, StringOf(val, w));
    } else if (key == "specializations") {
      specs = &val;
    } else if (key == "prompt_len" || key == "ctx_len" || key == "batch_size" ||
               key == "full_batch_size") {
      QEFF_ASSIGN_OR_RETURN(int64_t x, IntOf(val, /*allow_string=*/false, w));
      if (x <= 0)
        return absl::InvalidArgumentError(
            absl::StrCat(w, ": must be positive"));
      if (key == "prompt_len") prompt_len = x;
      if (key == "ctx_len") ctx_len = x;
      if (key == "batch_size") batch_size = x;
      if (key == "full_batch_size") full_batch_size = x;
      shorthand = shorthand || key != "full_batch_size";
    } else if (key == "num_cores") {
      QEFF_ASSIGN_OR_RETURN(int64_t x, IntOf(val, /*allow_string=*/false, w));
      if (x < 0 || x > 4096)
        return absl::InvalidArgumentError(
            absl::StrCat(w, ": must be in [0, 4096]"));
      job.compile.num_cores = static_cast<int>(x);
    } else if (key == "num_devices") {
      QEFF_ASSIGN_OR_RETURN(int64_t x, IntOf(val, /*allow_string=*/false, w));
      if (x < 1 || x > 1024)
        return absl::InvalidArgumentError(
            absl::StrCat(w, ": must be in [1, 1024]"));
      job.compile.num_devices = static_cast<int>(x);
    } else if (key == "mxfp6_matmul") {
      QEFF_ASSIGN_OR_RETURN(job.compile.mxfp6_matmul, BoolOf(val, w));
    } else if (key == "mxint8_kv_cache") {
      QEFF_ASSIGN_OR_RETURN(job.compile.mxint8_kv_cache, BoolOf(val, w));
    } else if (key == "weight_format") {
      QEFF_ASSIGN_OR_RETURN(std::string f, StringOf(val, w));
      auto q = ir::ParseQuantFormat(f);
      if (!q.ok() ||
          (*q != ir::QuantFormat::kQ8_0 && *q != ir::QuantFormat::kQ4_0 &&
           *q != ir::QuantFormat::kMXFP6))
        return absl::InvalidArgumentError(
            absl::StrCat(w, ": '", f, "' (use q8_0, q4_0 or mxfp6)"));
      job.compile.weight_format = *q;
    } else if (key == "weight_dtype") {
      QEFF_ASSIGN_OR_RETURN(std::string d, StringOf(val, w));
      if (d == "f16") {
        job.compile.weight_dtype = ir::DType::kF16;
      } else if (d == "bf16") {
        job.compile.weight_dtype = ir::DType::kBF16;
      } else if (d != "f32") {
        return absl::InvalidArgumentError(
            absl::StrCat(w, ": '", d, "' (use f32, f16 or bf16)"));
      }
    } else if (key == "all_logits") {
      QEFF_ASSIGN_OR_RETURN(job.transform.all_logits, BoolOf(val, w));
    } else if (key == "continuous_batching") {
      QEFF_ASSIGN_OR_RETURN(job.transform.continuous_batching, BoolOf(val, w));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown field '", key, "'"));
    }
  }
  if (job.model_path.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": missing \"model\""));
  if (job.id.empty()) job.id = absl::StrCat("job", index);
  if (specs != nullptr) {
    if (shorthand || full_batch_size)
      return absl::InvalidArgumentError(absl::StrCat(
          where,
          ": give either \"specializations\" or prompt_len/ctx_len/batch_size/"
          "full_batch_size, not both"));
    QEFF_ASSIGN_OR_RETURN(job.specializations,
                          hw::SpecializationsFromJson(
                              *specs, absl::StrCat(where, ".specializations")));
  } else {
    if (prompt_len > ctx_len)
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": prompt_len ", prompt_len, " exceeds ctx_len ", ctx_len));
    job.specializations = hw::CausalLMSpecializations(
        prompt_len, ctx_len, batch_size, full_batch_size);
    if (full_batch_size) {
      if (!job.transform.continuous_batching)
        return absl::InvalidArgumentError(absl::StrCat(
            where, ".full_batch_size: needs \"continuous_batching\": true"));
    } else if (job.transform.continuous_batching) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".continuous_batching: needs \"full_batch_size\""));
    }
  }
  return job;
}

}  // namespace

absl::StatusOr<std::vector<JobSpec>> ParseJobs(absl::string_view text,
                                               absl::string_view source) {
  std::vector<std::pair<std::string, base::JsonValue>> items;  // (where, value)
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (trimmed.empty())
    return absl::InvalidArgumentError(absl::StrCat(source, ": no jobs"));
  if (trimmed.front() == '[') {
    auto v = base::ParseJson(trimmed);
    if (!v.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": ", v.status().message()));
    for (size_t i = 0; i < v->array().size(); ++i)
      items.push_back({absl::StrCat(source, ": job ", i), v->array()[i]});
  } else {
    int line_no = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      ++line_no;
      line = absl::StripAsciiWhitespace(line);
      if (line.empty()) continue;
      auto v = base::ParseJson(line);
      const std::string where = absl::StrCat(source, ":", line_no);
      if (!v.ok())
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": ", v.status().message()));
      items.push_back({where, *std::move(v)});
    }
  }
  std::vector<JobSpec> jobs;
  std::set<std::string> ids;
  for (size_t i = 0; i < items.size(); ++i) {
    QEFF_ASSIGN_OR_RETURN(JobSpec job,
                          ParseJob(items[i].second, items[i].first, i));
    if (!ids.insert(job.id).second)
      return absl::InvalidArgumentError(
          absl::StrCat(items[i].first, ": duplicate job id '", job.id, "'"));
    jobs.push_back(std::move(job));
  }
  if (jobs.empty())
    return absl::InvalidArgumentError(absl::StrCat(source, ": no jobs"));
  return jobs;
}

}  // namespace qeff::engine
