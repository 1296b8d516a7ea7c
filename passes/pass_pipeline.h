// PassPipeline: runs passes in order. After each pass that changed the graph
// it re-infers shapes and verifies the graph; it times every pass; it can
// dump the graph text before/after passes whose name matches a regex, and
// skip passes by name. Errors are prefixed with the failing pass
// ("after pass X: ..." / "in pass X: ...").
#ifndef QEFF_PASSES_PASS_PIPELINE_H_
#define QEFF_PASSES_PASS_PIPELINE_H_

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "passes/pass.h"

namespace qeff::passes {

struct PipelineOptions {
  // Dump the graph text around passes whose name fully matches this regex
  // (empty: no dumps) to `dump_sink` (default: stderr).
  std::string dump_regex;
  std::function<void(const std::string&)> dump_sink;
  // Pass names to skip (each must name a pass in the pipeline).
  std::set<std::string> skip;
  // Re-infer shapes and verify after every changing pass (on by default).
  bool verify = true;
  // Domains of a backend's own ops (no ONNX schema; e.g. "qeff.cpu"). When
  // set, a changing pass is followed by ir::VerifyGraph with these as
  // backend domains and no shape re-inference: a backend pipeline works on
  // a graph its first pass made static, and its ops carry their own types.
  std::set<std::string> backend_domains;
};

struct PassTiming {
  std::string pass;
  double seconds = 0;
  bool changed = false;
  bool skipped = false;
};

class PassPipeline {
 public:
  explicit PassPipeline(PipelineOptions options = {})
      : options_(std::move(options)) {}

  template <typename P, typename... Args>
  P& AddPass(Args&&... args) {
    auto p = std::make_unique<P>(std::forward<Args>(args)...);
    P& ref = *p;
    passes_.push_back(std::move(p));
    return ref;
  }
  void Add(std::unique_ptr<Pass> p) { passes_.push_back(std::move(p)); }

  // Runs every pass; returns whether any changed the graph.
  absl::StatusOr<bool> Run(ir::Graph& g);
  const std::vector<PassTiming>& timings() const { return timings_; }
  std::vector<std::string> PassNames() const;

 private:
  PipelineOptions options_;
  std::vector<std::unique_ptr<Pass>> passes_;
  std::vector<PassTiming> timings_;
};

}  // namespace qeff::passes

#endif  // QEFF_PASSES_PASS_PIPELINE_H_
