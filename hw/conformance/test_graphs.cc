#include "hw/conformance/test_graphs.h"

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/op_schema.h"
#include "ir/quant.h"
#include "models/arch/llama.h"
#include "models/arch/registry.h"
#include "models/test_model.h"
#include "passes/custom_rms_norm.h"
#include "passes/transform_lm.h"

namespace qeff::hw::testing {
namespace {

using ir::QuantFormat;

// Random well-formed K-quant blocks: small positive scales, random codes.
ir::Tensor RandomKQuant(QuantFormat f, std::vector<int64_t> dims,
                        std::mt19937& rng) {
  const ir::QuantBlockInfo qi = ir::QuantInfo(f);
  const int64_t blocks = ir::NumElements(dims) / qi.block_values;
  auto buf = ir::Buffer::Allocate(blocks * qi.block_bytes);
  uint8_t* p = buf->mutable_data();
  std::uniform_int_distribution<int> byte(0, 255);
  for (int64_t i = 0; i < blocks * qi.block_bytes; ++i)
    p[i] = static_cast<uint8_t>(byte(rng));
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t* blk = p + b * qi.block_bytes;
    const uint16_t d = ir::FloatToHalf(0.004f), dmin = ir::FloatToHalf(0.01f);
    if (f == QuantFormat::kQ6_K) {
      std::memcpy(blk + 208, &d, 2);
      for (int j = 0; j < 16; ++j)
        blk[192 + j] = static_cast<uint8_t>(byte(rng) % 16);
    } else {
      std::memcpy(blk, &d, 2);
      std::memcpy(blk + 2, &dmin, 2);
    }
  }
  return *ir::Tensor::FromQuantized(f, ir::DType::kF32, std::move(dims), buf);
}

absl::StatusOr<ir::Graph> Transformed(const models::LlamaConfig& c,
                                      const models::WeightMap& w) {
  QEFF_ASSIGN_OR_RETURN(ir::Graph g, models::BuildLlamaEager(c, w));
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  passes::TransformLM t(passes::TransformLMOptions{});
  auto changed = t.Run(g);
  if (!changed.ok()) return changed.status();
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  return g;
}

}  // namespace

absl::StatusOr<TinyLlama> MakeTinyLlama(const TinyLlamaOptions& o) {
  models::LlamaConfig c;
  c.hidden_size = o.hidden;
  c.intermediate_size = o.intermediate;
  c.num_hidden_layers = o.layers;
  c.num_attention_heads = o.heads;
  c.num_key_value_heads = o.kv_heads;
  c.vocab_size = o.vocab;
  c.tie_word_embeddings = o.tie_embeddings;
  const int64_t d = c.HeadDim();
  std::mt19937 rng(o.seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  auto dense = [&](std::vector<int64_t> dims, float sd) {
    ir::Tensor t = ir::Tensor::Zeros(ir::DType::kF32, dims);
    for (int64_t i = 0; i < t.num_elements(); ++i)
      t.mutable_data<float>()[i] = sd * nd(rng);
    return t;
  };
  auto linear = [&](std::vector<int64_t> dims) -> absl::StatusOr<ir::Tensor> {
    const float sd = 1.0f / std::sqrt(static_cast<float>(dims[1]));
    switch (o.weights) {
      case QuantFormat::kNone:
        return dense(dims, sd);
      case QuantFormat::kQ4_K:
      case QuantFormat::kQ5_K:
      case QuantFormat::kQ6_K:
        return RandomKQuant(o.weights, dims, rng);
      default:
        return ir::Quantize(dense(dims, sd), o.weights);
    }
  };
  models::WeightMap w;
  if (o.tie_embeddings) {
    QEFF_ASSIGN_OR_RETURN(w["model.embed_tokens.weight"],
                          linear({o.vocab, o.hidden}));
  } else {
    w["model.embed_tokens.weight"] = dense({o.vocab, o.hidden}, 1.0f);
    QEFF_ASSIGN_OR_RETURN(w["lm_head.weight"], linear({o.vocab, o.hidden}));
  }
  for (int64_t i = 0; i < o.layers; ++i) {
    const std::string p = absl::StrCat("model.layers.", i, ".");
    w[p + "input_layernorm.weight"] = dense({o.hidden}, 0.3f);
    w[p + "post_attention_layernorm.weight"] = dense({o.hidden}, 0.3f);
    for (int k = 0; k < o.hidden; ++k) {
      w[p + "input_layernorm.weight"].mutable_data<float>()[k] += 1.0f;
      w[p + "post_attention_layernorm.weight"].mutable_data<float>()[k] += 1.0f;
    }
    QEFF_ASSIGN_OR_RETURN(w[p + "self_attn.q_proj.weight"],
                          linear({o.heads * d, o.hidden}));
    QEFF_ASSIGN_OR_RETURN(w[p + "self_attn.k_proj.weight"],
                          linear({o.kv_heads * d, o.hidden}));
    QEFF_ASSIGN_OR_RETURN(w[p + "self_attn.v_proj.weight"],
                          linear({o.kv_heads * d, o.hidden}));
    QEFF_ASSIGN_OR_RETURN(w[p + "self_attn.o_proj.weight"],
                          linear({o.hidden, o.heads * d}));
    QEFF_ASSIGN_OR_RETURN(w[p + "mlp.gate_proj.weight"],
                          linear({o.intermediate, o.hidden}));
    QEFF_ASSIGN_OR_RETURN(w[p + "mlp.up_proj.weight"],
                          linear({o.intermediate, o.hidden}));
    QEFF_ASSIGN_OR_RETURN(w[p + "mlp.down_proj.weight"],
                          linear({o.hidden, o.intermediate}));
  }
  w["model.norm.weight"] = dense({o.hidden}, 0.1f);
  for (int k = 0; k < o.hidden; ++k)
    w["model.norm.weight"].mutable_data<float>()[k] += 1.0f;
  models::WeightMap deq;
  for (const auto& [name, t] : w) {
    if (t.is_quantized()) {
      QEFF_ASSIGN_OR_RETURN(deq[name], ir::Dequantize(t));
    } else {
      deq[name] = t;
    }
  }
  TinyLlama out;
  QEFF_ASSIGN_OR_RETURN(out.graph, Transformed(c, w));
  QEFF_ASSIGN_OR_RETURN(out.dequantized, Transformed(c, deq));
  return out;
}

absl::StatusOr<ir::Graph> MakeTestModelGraph(const std::string& arch) {
  models::TestModelSpec spec;
  spec.arch = arch;
  spec.seed = models::DefaultTestSeed(arch);
  QEFF_ASSIGN_OR_RETURN(models::TestModel m, models::MakeTestModel(spec));
  QEFF_ASSIGN_OR_RETURN(ir::Graph g, models::BuildEager(m.config, m.Weights()));
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  passes::TransformLM t(passes::TransformLMOptions{});
  QEFF_RETURN_IF_ERROR(t.Run(g).status());
  passes::CustomRMSNormFusion rms;
  QEFF_RETURN_IF_ERROR(rms.Run(g).status());
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  return g;
}

std::vector<int64_t> TestPrompt(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> id(1, vocab - 1);
  std::vector<int64_t> p(n);
  for (auto& t : p) t = id(rng);
  return p;
}

}  // namespace qeff::hw::testing
