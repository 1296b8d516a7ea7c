#include "hw/graph_io.h"

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"

namespace qeff::hw {

absl::StatusOr<GraphIO> BindGraphIO(const ir::Graph& g,
                                    const std::vector<Specialization>& specs) {
  if (specs.empty())
    return absl::InvalidArgumentError("no specializations given");
  GraphIO io;
  std::vector<std::string> output_names;
  for (ir::ValueId o : g.outputs()) output_names.push_back(g.value(o).name);
  auto is_state = [&](const std::string& name) {
    for (const auto& o : output_names)
      if (o == name + "_RetainedState") return true;
    return false;
  };
  for (const auto& o : output_names) {
    if (!absl::EndsWith(o, "_RetainedState")) io.outputs.push_back(o);
  }
  for (size_t s = 0; s < specs.size(); ++s) {
    std::vector<BoundIO> ins;
    for (ir::ValueId v : g.inputs()) {
      const ir::Value& val = g.value(v);
      if (!val.type.shape.ranked())
        return absl::InvalidArgumentError(
            absl::StrCat("input '", val.name, "' has no rank"));
      BoundIO b{val.name, val.type.dtype, {}};
      for (const ir::Dim& d : val.type.shape.dims()) {
        auto n = d.Evaluate(specs[s].symbols);
        if (!n.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "specialization '", specs[s].name, "': input '", val.name, "' ",
              val.type.ToString(), ": ", n.status().message()));
        }
        b.dims.push_back(*n);
      }
      if (!is_state(val.name)) {
        ins.push_back(std::move(b));
      } else if (s == 0) {
        io.state.push_back(std::move(b));
      } else {
        for (const BoundIO& st : io.state) {
          if (st.name == b.name && st.dims != b.dims) {
            return absl::InvalidArgumentError(absl::StrCat(
                "retained state '", b.name, "' is [",
                absl::StrJoin(st.dims, ", "), "] in specialization '",
                specs[0].name, "' but [", absl::StrJoin(b.dims, ", "), "] in '",
                specs[s].name,
                "'; every specialization must share ctx_len and cache batch"));
          }
        }
      }
    }
    io.inputs.push_back(std::move(ins));
  }
  return io;
}

absl::StatusOr<int> GraphIO::FindSpecialization(
    const std::vector<Specialization>& specs, absl::string_view name) const {
  std::vector<std::string> names;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name == name) return static_cast<int>(i);
    names.push_back(specs[i].name);
  }
  return absl::NotFoundError(
      absl::StrCat("no specialization named '", name,
                   "' (have: ", absl::StrJoin(names, ", "), ")"));
}

absl::Status GraphIO::CheckInputs(int spec, const TensorMap& given) const {
  const auto& want = inputs[spec];
  for (const BoundIO& b : want) {
    auto it = given.find(b.name);
    if (it == given.end())
      return absl::InvalidArgumentError(
          absl::StrCat("missing input '", b.name, "'"));
    if (it->second.dtype() != b.dtype || it->second.dims() != b.dims) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", b.name, "' is ", it->second.TypeString(), ", expected ",
          ir::DTypeName(b.dtype), "[", absl::StrJoin(b.dims, ", "), "]"));
    }
  }
  if (given.size() != want.size()) {
    for (const auto& [name, t] : given) {
      bool known = false;
      for (const BoundIO& b : want) known |= b.name == name;
      if (!known)
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected input '", name,
                         "' (retained state is kept by the session)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ZeroStateRows(std::vector<ir::Tensor*> state, int64_t slot) {
  for (ir::Tensor* t : state) {
    const int64_t rows = t->rank() > 0 ? t->dims()[0] : 1;
    if (slot < 0 || slot >= rows) {
      return absl::OutOfRangeError(absl::StrCat(
          "slot ", slot, " is outside the retained state's ", rows, " rows"));
    }
    const size_t row_bytes = t->byte_size() / static_cast<size_t>(rows);
    std::memset(t->mutable_raw() + slot * row_bytes, 0, row_bytes);
  }
  return absl::OkStatus();
}

}  // namespace qeff::hw
