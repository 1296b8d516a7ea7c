#include "passes/transform_lm.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/builder.h"
#include "ir/lm_roles.h"

namespace qeff::passes {
namespace {

using ir::Attribute;
using ir::Dim;
using ir::DType;
using ir::GraphBuilder;
using ir::LmRoles;
using ir::Shape;
using ir::ValueId;

// The live value produced by a node (not a constant or input) with `name`.
std::optional<ValueId> FindProduced(const ir::Graph& g,
                                    const std::string& name) {
  for (ValueId v = 0; v < g.num_values(); ++v) {
    const ir::Value& val = g.value(v);
    if (val.name == name && val.producer != ir::kNoNode &&
        !g.node(val.producer).dead)
      return v;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<bool> TransformLM::Run(ir::Graph& g) {
  if (g.FindInput("past_key.0")) {
    return absl::FailedPreconditionError(
        "transform_lm: the graph already has a retained-state cache "
        "(input past_key.0)");
  }
  auto input_ids = g.FindInput("input_ids");
  auto position_ids = g.FindInput("position_ids");
  if (!input_ids || !position_ids) {
    return absl::InvalidArgumentError(
        "transform_lm: the graph needs inputs input_ids and position_ids");
  }
  auto mask = FindProduced(g, ir::LmRoles::kCausalMask);
  auto final_hidden = FindProduced(g, ir::LmRoles::kFinalHidden);
  if (!mask || !final_hidden) {
    return absl::InvalidArgumentError(absl::StrCat(
        "transform_lm: no value named '",
        mask ? ir::LmRoles::kFinalHidden : ir::LmRoles::kCausalMask,
        "'; the graph was not built by a known architecture builder"));
  }
  GraphBuilder b(&g);
  const bool cb = options_.continuous_batching;
  ValueId pos = *position_ids;
  ValueId batch_index = ir::kNoValue;
  if (cb) {
    batch_index = b.Input("batch_index", DType::kI64,
                          Shape({Dim::Symbol("batch_size"), 1}));
  }
  const Dim cache_batch = Dim::Symbol(cb ? "full_batch_size" : "batch_size");
  const Dim ctx_len = Dim::Symbol("ctx_len");

  // Slot indices 0..ctx_len-1, taken from the first cache input's shape, and
  // the [batch, ctx_len] index matrix CtxGather reads.
  ValueId slots = ir::kNoValue, gather_idx = ir::kNoValue;

  int layers = 0;
  std::vector<ValueId> retained_outputs;
  for (int i = 0;; ++i) {
    auto k = FindProduced(g, ir::LmRoles::KeyRot(i));
    auto v = FindProduced(g, ir::LmRoles::Value(i));
    if (!k || !v) break;
    ++layers;
    const ir::TensorType kt =
        g.value(*k).type;  // a copy: adding values below reallocates
    // [B, n_kv, S, D]: the builder's shapes are known once inferred; the
    // cache's head count and head dim come from them.
    if (!kt.shape.ranked() || kt.shape.rank() != 4 ||
        !kt.shape[1].is_static() || !kt.shape[3].is_static()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "transform_lm: the key ", ir::LmRoles::KeyRot(i), " produced by ",
          g.Producer(*k)->Describe(), " has type ", kt.ToString(),
          "; the KV rewrite needs [batch, n_kv_heads, seq_len, head_dim] with "
          "static "
          "heads and head_dim (run shape inference first)"));
    }
    Shape cache_shape({cache_batch, kt.shape[1], ctx_len, kt.shape[3]});
    for (int kv = 0; kv < 2; ++kv) {
      const std::string role = kv == 0 ? "past_key" : "past_value";
      const std::string in_name = absl::StrCat(role, ".", i);
      ValueId cache = b.Input(in_name, kt.dtype, cache_shape);
      ValueId fresh = kv == 0 ? *k : *v;
      if (slots == ir::kNoValue) {
        ValueId shape = b.Op("Shape", {cache}, {}, "model.cache.shape");
        ValueId c = b.Op("Gather", {shape, b.ScalarI64(2)},
                         {{"axis", Attribute::Int(0)}}, "model.cache.ctx_len");
        slots = b.Op("Range", {b.ScalarI64(0), c, b.ScalarI64(1)}, {},
                     "model.cache.slots");
        ValueId batch = b.Op("Shape", {pos}, {{"end", Attribute::Int(1)}},
                             "model.cache.batch");
        ValueId rows = b.Op("Concat", {batch, b.ConstI64({1})},
                            {{"axis", Attribute::Int(0)}}, "model.cache.rows");
        gather_idx = b.Op("Expand", {b.Unsqueeze(slots, {0}), rows}, {},
                          "model.cache.gather_indices");
      }
      const std::string p =
          absl::StrCat("model.layers.", i, ".self_attn.", role);
      ValueId updated =
          cb ? b.Op("CtxScatterCB", {cache, batch_index, pos, fresh}, {},
                    in_name + "_RetainedState", std::string(ir::kQaicDomain))
             : b.Op("CtxScatter", {cache, pos, fresh}, {},
                    in_name + "_RetainedState", std::string(ir::kQaicDomain));
      ValueId all = cb ? b.Op("CtxGatherCB", {updated, batch_index, gather_idx},
                              {}, p + "_all", std::string(ir::kQaicDomain))
                       : b.Op("CtxGather", {updated, gather_idx}, {},
                              p + "_all", std::string(ir::kQaicDomain));
      // Every reader of the fresh keys/values now reads the whole cache.
      std::vector<ir::Use> uses = g.value(fresh).uses;
      for (const ir::Use& u : uses) {
        if (g.node(u.node).outputs[0] == updated) continue;
        g.SetNodeInput(u.node, u.input_index, all);
      }
      retained_outputs.push_back(updated);
    }
  }
  if (layers == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "transform_lm: no value named '", ir::LmRoles::KeyRot(0),
        "'; the graph was not built by a known architecture builder"));
  }

  // Mask over cache slots: slot j masked for a query at p when j > p.
  ValueId qpos = b.Unsqueeze(pos, {1, 3}, "model.cache_mask.query_pos");
  ValueId kpos = b.Unsqueeze(slots, {0, 1, 2}, "model.cache_mask.slot_pos");
  ValueId cache_mask = b.Op("Greater", {kpos, qpos}, {}, "model.cache_mask");
  g.ReplaceAllUsesWith(*mask, cache_mask);

  // Sliding-window layers (full-length cache, window applied as a mask):
  // slot j is also masked when j <= p - W.
  if (auto window_mask = FindProduced(g, ir::LmRoles::kSlidingWindowMask)) {
    std::optional<ValueId> window;
    for (ValueId v = 0; v < g.num_values(); ++v) {
      if (g.value(v).name == ir::LmRoles::kSlidingWindow &&
          g.value(v).is_constant())
        window = v;
    }
    if (!window) {
      return absl::InvalidArgumentError(absl::StrCat(
          "transform_lm: the graph has '", ir::LmRoles::kSlidingWindowMask,
          "' but no constant '", ir::LmRoles::kSlidingWindow, "'"));
    }
    ValueId edge = b.Op("Sub", {qpos, *window}, {}, "model.window_mask.edge");
    ValueId too_old =
        b.Op("LessOrEqual", {kpos, edge}, {}, "model.window_mask.too_old");
    ValueId windowed =
        b.Op("Or", {cache_mask, too_old}, {}, "model.window_mask");
    g.ReplaceAllUsesWith(*window_mask, windowed);
  }

  // Chunked-attention layers (Llama 4; full-length cache, the chunk applied
  // as a mask): slot j is also masked when j < (p / C) * C.
  if (auto chunk_mask = FindProduced(g, ir::LmRoles::kChunkedMask)) {
    std::optional<ValueId> chunk;
    for (ValueId v = 0; v < g.num_values(); ++v) {
      if (g.value(v).name == ir::LmRoles::kAttentionChunk &&
          g.value(v).is_constant())
        chunk = v;
    }
    if (!chunk) {
      return absl::InvalidArgumentError(absl::StrCat(
          "transform_lm: the graph has '", ir::LmRoles::kChunkedMask,
          "' but no constant '", ir::LmRoles::kAttentionChunk, "'"));
    }
    ValueId start =
        b.Mul(b.Op("Div", {qpos, *chunk}, {}, "model.chunk_mask.index"), *chunk,
              "model.chunk_mask.start");
    ValueId before =
        b.Op("Less", {kpos, start}, {}, "model.chunk_mask.before_start");
    ValueId chunked = b.Op("Or", {cache_mask, before}, {}, "model.chunk_mask");
    g.ReplaceAllUsesWith(*chunk_mask, chunked);
  }

  // Hidden state at the last valid position of each row: [B, 1, H] (all
  // positions are kept with all_logits).
  if (!options_.all_logits) {
    ValueId last =
        b.Op("ArgMax", {pos},
             {{"axis", Attribute::Int(1)}, {"keepdims", Attribute::Int(1)}},
             "model.last_position");
    ValueId picked =
        b.Op("GatherND", {*final_hidden, last},
             {{"batch_dims", Attribute::Int(1)}}, "model.norm_out_last");
    ValueId last_hidden = b.Unsqueeze(picked, {1}, "model.norm_out_last_unsq");
    std::vector<ir::Use> uses = g.value(*final_hidden).uses;
    for (const ir::Use& u : uses) {
      if (g.node(u.node).outputs[0] == picked) continue;
      g.SetNodeInput(u.node, u.input_index, last_hidden);
    }
  }

  // Outputs: logits, then the retained state in input order.
  std::vector<ValueId> outs = g.outputs();
  for (ValueId r : retained_outputs) outs.push_back(r);
  g.SetOutputs(outs);
  g.RemoveDeadCode();
  return true;
}

}  // namespace qeff::passes
