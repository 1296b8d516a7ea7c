// The exported ONNX function bodies of qeff's custom ops, inlined on import
// and run by the reference evaluator, against the evaluator's native
// kernels: a full context, a padded last chunk (the chunk that writes slot
// C-1), idle continuous-batching rows, duplicate positions and broadcast
// position_ids / ctx_indices.
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ir/custom_ops.h"
#include "ir/evaluator.h"
#include "ir/graph.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"

namespace qeff::ir {
namespace {

using Inputs = absl::flat_hash_map<std::string, Tensor>;

Tensor Random(DType dt, std::vector<int64_t> dims, uint32_t seed) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  std::vector<float> v(n);
  uint32_t x = seed * 2654435761u + 12345;
  for (auto& f : v) {
    x = x * 1664525u + 1013904223u;
    f = static_cast<float>((x >> 8) % 2001) / 500.0f - 2.0f;
  }
  Tensor t = Tensor::F32(std::move(dims), v);
  if (dt == DType::kF32) return t;
  Tensor h = Tensor::Zeros(dt, t.dims());
  for (int64_t i = 0; i < n; ++i) {
    reinterpret_cast<uint16_t*>(h.mutable_raw())[i] =
        dt == DType::kF16 ? FloatToHalf(v[i]) : FloatToBFloat16(v[i]);
  }
  return h;
}

Tensor I64(std::vector<int64_t> dims, std::vector<int64_t> v) {
  return Tensor::I64(std::move(dims), v);
}

// One custom-op node over graph inputs named after `inputs` (in order).
Graph OneOp(absl::string_view domain, absl::string_view op,
            const std::vector<std::pair<std::string, Tensor>>& inputs,
            std::map<std::string, Attribute> attrs = {}) {
  Graph g;
  std::vector<ValueId> ins;
  for (const auto& [name, t] : inputs) {
    std::vector<Dim> dims(t.dims().begin(), t.dims().end());
    ins.push_back(g.AddInput(name, {t.dtype(), Shape(dims)}));
  }
  NodeId n = g.AddNode(std::string(op), ins, 1, std::move(attrs), "op",
                       std::string(domain));
  ValueId out = g.node(n).outputs[0];
  g.value(out).name = "out";
  // Output type: the cache's/x's dtype, rank 4 (or x's rank), unknown dims.
  const Tensor& first = inputs[0].second;
  g.value(out).type = {first.dtype(),
                       Shape(std::vector<Dim>(first.rank(), Dim::Unknown()))};
  g.AddOutput(out);
  return g;
}

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.dims() == b.dims() &&
         std::memcmp(a.raw(), b.raw(), a.byte_size()) == 0;
}

// The evaluator applies ScatterND's duplicate indices in order, onnxruntime
// in an unspecified one: so checks that every duplicate index of every
// ScatterND in `g` carries identical bytes (then any order gives the same
// result).
void CheckScatterNDDuplicatesAgree(const Graph& g, const Inputs& feed,
                                   int* duplicates) {
  auto all = Evaluator::RunAll(g, feed);
  ASSERT_TRUE(all.ok()) << all.status();
  for (NodeId id : g.LiveNodes()) {
    const Node& n = g.node(id);
    if (n.op_type != "ScatterND") continue;
    const Tensor& idx = all->at(n.inputs[1]);
    const Tensor& upd = all->at(n.inputs[2]);
    const int64_t k = idx.dims().back();
    const int64_t entries = idx.num_elements() / k;
    const size_t slice = upd.byte_size() / entries;
    std::map<std::vector<int64_t>, int64_t> first;
    for (int64_t e = 0; e < entries; ++e) {
      std::vector<int64_t> key(k);
      for (int64_t j = 0; j < k; ++j) key[j] = idx.GetInt(e * k + j);
      auto [it, fresh] = first.emplace(key, e);
      if (fresh) continue;
      ++*duplicates;
      EXPECT_EQ(std::memcmp(upd.raw() + it->second * slice,
                            upd.raw() + e * slice, slice),
                0)
          << "ScatterND entries " << it->second << " and " << e
          << " write the same element with different values";
    }
  }
}

// Native kernel vs the exported function body (inlined), on `inputs`.
void CheckAgainstFunction(
    const std::string& label, absl::string_view domain, absl::string_view op,
    const std::vector<std::pair<std::string, Tensor>>& inputs,
    std::map<std::string, Attribute> attrs = {}, int* duplicates = nullptr) {
  SCOPED_TRACE(label);
  Graph g = OneOp(domain, op, inputs, std::move(attrs));
  Inputs feed;
  for (const auto& [name, t] : inputs) feed[name] = t;
  auto native = Evaluator::Run(g, feed);
  ASSERT_TRUE(native.ok()) << native.status();

  std::string path =
      absl::StrCat(::testing::TempDir(), "/fn_", op, "_", label, ".onnx");
  absl::Status s = ExportOnnx(g, path);
  ASSERT_TRUE(s.ok()) << s;
  ImportOptions opt;
  opt.inline_functions = true;
  auto inlined = ImportOnnx(path, opt);
  ASSERT_TRUE(inlined.ok()) << inlined.status();
  for (NodeId id : inlined->LiveNodes())
    ASSERT_TRUE(inlined->node(id).domain.empty())
        << inlined->node(id).Describe();
  int dups = 0;
  CheckScatterNDDuplicatesAgree(*inlined, feed, &dups);
  if (duplicates != nullptr) *duplicates = dups;
  auto decomposed = Evaluator::Run(*inlined, feed);
  ASSERT_TRUE(decomposed.ok()) << decomposed.status();
  ASSERT_EQ(decomposed->size(), 1u);
  EXPECT_TRUE(SameBytes((*native)[0], (*decomposed)[0]))
      << (*native)[0].TypeString() << " vs " << (*decomposed)[0].TypeString();
  if (!SameBytes((*native)[0], (*decomposed)[0]) &&
      (*native)[0].dims() == (*decomposed)[0].dims()) {
    for (int64_t i = 0; i < (*native)[0].num_elements(); ++i) {
      if ((*native)[0].GetDouble(i) != (*decomposed)[0].GetDouble(i)) {
        ADD_FAILURE() << "first difference at " << i << ": "
                      << (*native)[0].GetDouble(i) << " vs "
                      << (*decomposed)[0].GetDouble(i);
        break;
      }
    }
  }
}

constexpr int64_t H = 2, D = 3;

// Returns how many duplicate ScatterND indices the decomposition made.
int Scatter(const std::string& label, int64_t b, int64_t c,
            std::vector<int64_t> pos_dims, std::vector<int64_t> pos,
            DType dt = DType::kF32) {
  int64_t s = pos_dims[1];
  int duplicates = 0;
  CheckAgainstFunction(label, kQaicDomain, kCtxScatterOp,
                       {{"cache", Random(dt, {b, H, c, D}, 1)},
                        {"position_ids", I64(pos_dims, pos)},
                        {"updates", Random(dt, {b, H, s, D}, 2)}},
                       {}, &duplicates);
  return duplicates;
}

TEST(OnnxFunctions, CtxScatter) {
  // Full context: every slot written once.
  Scatter("full", 2, 4, {2, 4}, {0, 1, 2, 3, 0, 1, 2, 3});
  // A prompt of exactly ctx_len = 6 tokens in chunks of 4: the padded last
  // chunk writes slot C-1 = 5 while its padding entries are redirected.
  EXPECT_EQ(Scatter("full", 1, 3, {1, 3}, {0, 1, 2}), 0);
  // The hazard case: padding and a real write to C-1 in one call; they
  // become duplicate indices that carry the same value.
  EXPECT_GT(Scatter("padded_last_chunk", 1, 6, {1, 4}, {4, 5, -1, -1}), 0);
  Scatter("padded_two_rows", 2, 6, {2, 4}, {4, 5, -1, -1, 0, -1, -1, -1});
  // An idle continuous-batching row (all -1) next to a busy one.
  Scatter("idle_row", 2, 5, {2, 3}, {-1, -1, -1, 2, 3, 4});
  Scatter("all_idle", 2, 5, {2, 3}, {-1, -1, -1, -1, -1, -1});
  // Decode: one position per row.
  Scatter("decode", 3, 5, {3, 1}, {4, 0, -1});
  // Duplicate positions: the later entry wins.
  Scatter("duplicates", 2, 5, {2, 4}, {1, 1, 2, -1, 3, 4, 3, 3});
  // position_ids [1, S] broadcast over the batch.
  Scatter("broadcast_pos", 2, 5, {1, 3}, {2, 3, -1});
  Scatter("f16", 2, 6, {2, 4}, {4, 5, -1, -1, -1, -1, -1, -1}, DType::kF16);
}

TEST(OnnxFunctions, CtxScatterCB) {
  const int64_t fb = 4, c = 6;
  auto run = [&](const std::string& label, std::vector<int64_t> rows,
                 std::vector<int64_t> pos, int64_t s) {
    int64_t b = static_cast<int64_t>(rows.size());
    CheckAgainstFunction(label, kQaicDomain, kCtxScatterCBOp,
                         {{"cache", Random(DType::kF32, {fb, H, c, D}, 3)},
                          {"batch_index", I64({b, 1}, rows)},
                          {"position_ids", I64({b, s}, pos)},
                          {"updates", Random(DType::kF32, {b, H, s, D}, 4)}});
  };
  run("decode_with_idle", {2, 0, 3}, {5, -1, 1}, 1);
  run("padded_last_chunk", {3, 1}, {4, 5, -1, -1, -1, -1, -1, -1}, 4);
  run("full", {1, 2}, {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}, 6);
  run("duplicates", {0, 2}, {2, 2, -1, 5, 5, 4}, 3);
}

TEST(OnnxFunctions, CtxGather) {
  const int64_t b = 2, c = 5;
  auto run = [&](const std::string& label, std::vector<int64_t> dims,
                 std::vector<int64_t> idx) {
    CheckAgainstFunction(label, kQaicDomain, kCtxGatherOp,
                         {{"cache", Random(DType::kF32, {b, H, c, D}, 5)},
                          {"ctx_indices", I64(dims, idx)}});
  };
  run("full_context", {1, 5}, {0, 1, 2, 3, 4});
  run("per_row", {2, 3}, {4, 0, 2, 1, 1, 3});
  run("rank1", {4}, {3, 3, 0, 4});
}

TEST(OnnxFunctions, CtxGatherCB) {
  const int64_t fb = 4, c = 5;
  auto run = [&](const std::string& label, std::vector<int64_t> rows,
                 std::vector<int64_t> dims, std::vector<int64_t> idx) {
    int64_t b = static_cast<int64_t>(rows.size());
    CheckAgainstFunction(label, kQaicDomain, kCtxGatherCBOp,
                         {{"cache", Random(DType::kF32, {fb, H, c, D}, 6)},
                          {"batch_index", I64({b, 1}, rows)},
                          {"ctx_indices", I64(dims, idx)}});
  };
  run("full_context", {3, 1}, {1, 5}, {0, 1, 2, 3, 4});
  run("per_row", {0, 2, 1}, {3, 2}, {4, 0, 2, 1, 1, 3});
  run("rank1", {2}, {3}, {1, 0, 4});
}

TEST(OnnxFunctions, CustomRMSNorm) {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    CheckAgainstFunction(
        absl::StrCat("eps_", DTypeName(dt)), kQtiDomain, kCustomRMSNormOp,
        {{"x", Random(dt, {2, 3, 8}, 7)}, {"weight", Random(dt, {8}, 8)}},
        {{"epsilon", Attribute::Float(1e-5f)}});
  }
  // No epsilon: the export writes the specification's default.
  CheckAgainstFunction("default_eps", kQtiDomain, kCustomRMSNormOp,
                       {{"x", Random(DType::kF32, {4, 16}, 9)},
                        {"weight", Random(DType::kF32, {16}, 10)}});
  EXPECT_EQ(kCustomRMSNormDefaultEpsilon, 1e-6f);
}

}  // namespace
}  // namespace qeff::ir
