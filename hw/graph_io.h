// The I/O contract of a compiled graph, shared by drivers: which inputs are
// retained state (X with an output X_RetainedState), and each input's type
// bound to each specialization. Checks callers' tensors against it.
#ifndef QEFF_HW_GRAPH_IO_H_
#define QEFF_HW_GRAPH_IO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hw/driver.h"
#include "ir/graph.h"

namespace qeff::hw {

struct BoundIO {
  std::string name;
  ir::DType dtype;
  std::vector<int64_t> dims;
};

struct GraphIO {
  // Per specialization (same order as the program's), the non-state inputs.
  std::vector<std::vector<BoundIO>> inputs;
  // Retained state inputs; their dims must agree across specializations.
  std::vector<BoundIO> state;
  // Names of the non-state outputs, in graph order.
  std::vector<std::string> outputs;

  // Index of a specialization by name; error lists the known names.
  absl::StatusOr<int> FindSpecialization(
      const std::vector<Specialization>& specs, absl::string_view name) const;
  // Checks that `inputs` holds exactly the specialization's inputs with the
  // bound dtypes and dims.
  absl::Status CheckInputs(int spec, const TensorMap& inputs) const;
};

// Binds every graph input to every specialization; an unbound symbol in an
// input shape, or state whose shape differs between specializations, is an
// error naming the input and specialization.
absl::StatusOr<GraphIO> BindGraphIO(const ir::Graph& g,
                                    const std::vector<Specialization>& specs);

}  // namespace qeff::hw

#endif  // QEFF_HW_GRAPH_IO_H_
