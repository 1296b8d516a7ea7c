// A graph pass: one rewrite with a name. Run() returns whether it changed
// the graph; errors name what was wrong. Passes never see malformed
// attributes (the IR validates on import) and may assume a verified graph.
#ifndef QEFF_PASSES_PASS_H_
#define QEFF_PASSES_PASS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ir/graph.h"

namespace qeff::passes {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual absl::string_view name() const = 0;
  virtual absl::StatusOr<bool> Run(ir::Graph& g) = 0;
};

}  // namespace qeff::passes

#endif  // QEFF_PASSES_PASS_H_
