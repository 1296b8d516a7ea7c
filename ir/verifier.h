// The graph verifier: checks the invariants every pass must keep. The pass
// manager runs it after each pass that changed the graph.
#ifndef QEFF_IR_VERIFIER_H_
#define QEFF_IR_VERIFIER_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "ir/graph.h"

namespace qeff::ir {

// OK when:
// - every live node's op has a schema, and the node fits it (arity,
//   attribute names and kinds);
// - node inputs refer to existing values that are live (a graph input, a
//   constant, or the output of a live node); node outputs point back at
//   their node;
// - use lists agree with node inputs both ways;
// - graph inputs/outputs exist, their flags agree, and every output is live;
// - the graph has no cycle;
// - every node output's stored type agrees with re-inferred types: same
//   dtype, and the stored shape equals the inferred one or is more specific
//   (a known dim where inference says `?`, a rank where it says unranked);
// - constants have no producer and their type matches their tensor.
// Errors name the node and the value.
absl::Status VerifyGraph(const Graph& g);

// Options for graphs that hold a backend's own ops (e.g. the cpu compiler's
// `qeff.cpu` fused kernels, which have no ONNX schema): nodes of a domain in
// `backend_domains` get every structural check above, but no schema check or
// type re-inference; their outputs must carry a ranked type (the backend
// pass sets it). Nodes of other domains are checked in full,
// reading those stored types.
struct VerifyOptions {
  std::set<std::string> backend_domains;
};
absl::Status VerifyGraph(const Graph& g, const VerifyOptions& options);

}  // namespace qeff::ir

#endif  // QEFF_IR_VERIFIER_H_
