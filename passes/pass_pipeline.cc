#include "passes/pass_pipeline.h"

#include <chrono>
#include <cstdio>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "ir/op_schema.h"
#include "ir/text_format.h"
#include "ir/verifier.h"

namespace qeff::passes {
namespace {

absl::Status Prefix(const absl::Status& s, absl::string_view prefix) {
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

}  // namespace

std::vector<std::string> PassPipeline::PassNames() const {
  std::vector<std::string> out;
  for (const auto& p : passes_) out.emplace_back(p->name());
  return out;
}

absl::StatusOr<bool> PassPipeline::Run(ir::Graph& g) {
  timings_.clear();
  for (const std::string& s : options_.skip) {
    bool known = false;
    for (const auto& p : passes_) known |= p->name() == s;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot skip unknown pass '", s,
                       "' (pipeline: ", absl::StrJoin(PassNames(), ", "), ")"));
    }
  }
  std::optional<std::regex> dump;
  if (!options_.dump_regex.empty()) {
    try {
      dump.emplace(options_.dump_regex);
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad dump regex '", options_.dump_regex, "': ", e.what()));
    }
  }
  auto sink = options_.dump_sink
                  ? options_.dump_sink
                  : [](const std::string& s) { std::fputs(s.c_str(), stderr); };
  bool any = false;
  for (const auto& p : passes_) {
    std::string name(p->name());
    PassTiming t{name};
    if (options_.skip.count(name)) {
      t.skipped = true;
      timings_.push_back(t);
      continue;
    }
    bool dumping = dump && std::regex_match(name, *dump);
    if (dumping)
      sink(absl::StrCat("// ---- before ", name, " ----\n", ir::PrintGraph(g)));
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<bool> changed = p->Run(g);
    if (!changed.ok())
      return Prefix(changed.status(), absl::StrCat("in pass ", name, ": "));
    if (*changed && options_.verify) {
      absl::Status s;
      if (options_.backend_domains.empty()) {
        s = ir::InferShapes(g);
        if (s.ok()) s = ir::VerifyGraph(g);
      } else {
        s = ir::VerifyGraph(g, ir::VerifyOptions{options_.backend_domains});
      }
      if (!s.ok()) return Prefix(s, absl::StrCat("after pass ", name, ": "));
    }
    t.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    t.changed = *changed;
    any |= *changed;
    timings_.push_back(t);
    if (dumping)
      sink(absl::StrCat("// ---- after ", name, " ----\n", ir::PrintGraph(g)));
  }
  return any;
}

}  // namespace qeff::passes
