#include "passes/decoder_embedding.h"

#include <numeric>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/builder.h"
#include "ir/lm_roles.h"

namespace qeff::passes {

using ir::Attribute;
using ir::ValueId;

absl::StatusOr<bool> DecoderAsEncoder::Run(ir::Graph& g) {
  const auto ids = g.FindInput("input_ids");
  const auto pos = g.FindInput("position_ids");
  std::optional<ValueId> hidden;
  for (ValueId v = 0; v < g.num_values() && !hidden; ++v) {
    const ir::Value& val = g.value(v);
    if (val.name == ir::LmRoles::kFinalHidden && val.producer != ir::kNoNode &&
        !g.node(val.producer).dead)
      hidden = v;
  }
  if (!ids || !pos || !hidden)
    return absl::InvalidArgumentError(absl::StrCat(
        "decoder_as_encoder: the graph needs inputs input_ids and "
        "position_ids and a value named '",
        ir::LmRoles::kFinalHidden, "' (a causal-LM builder's graph)"));
  if (max_positions_ <= 0)
    return absl::InvalidArgumentError(
        absl::StrCat("decoder_as_encoder: max_positions must be positive, got ",
                     max_positions_));
  ir::GraphBuilder b(&g);
  ValueId mask =
      b.Input("attention_mask", ir::DType::kI64, g.value(*ids).type.shape);
  // positions[b, s] = s: rows 0..seq_len-1 of an arange table, broadcast
  // over the batch through the mask's shape.
  std::vector<int64_t> arange(max_positions_);
  std::iota(arange.begin(), arange.end(), 0);
  ValueId table = b.Const("embed.positions_table",
                          ir::Tensor::I64({max_positions_}, arange));
  ValueId len = b.Op("Shape", {*ids},
                     {{"start", Attribute::Int(1)}, {"end", Attribute::Int(2)}},
                     "embed.seq_len");
  ValueId row = b.Op("Slice", {table, b.ConstI64({0}), len, b.ConstI64({0})},
                     {}, "embed.positions_row");
  ValueId positions =
      b.Add(b.Mul(mask, b.ScalarI64(0), "embed.zeros"), row, "embed.positions");
  g.ReplaceAllUsesWith(*pos, positions);
  std::vector<ValueId> inputs;
  for (ValueId v : g.inputs())
    if (v != *pos) inputs.push_back(v);
  g.SetInputs(inputs);
  g.SetOutputs({b.Op("Identity", {*hidden}, {}, "last_hidden_state")});
  g.RemoveDeadCode();
  return true;
}

}  // namespace qeff::passes
