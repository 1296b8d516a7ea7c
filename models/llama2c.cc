#include "models/llama2c.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/shape.h"

namespace qeff::models {
namespace {

constexpr uint32_t kLlama2cMagic = 0x616b3432;  // "ak42"

}  // namespace

const ir::Tensor* Llama2cCheckpoint::Find(absl::string_view name) const {
  for (const auto& [n, t] : weights) {
    if (n == name) return &t;
  }
  return nullptr;
}

absl::StatusOr<ir::Tensor> Llama2cCheckpoint::Get(
    absl::string_view name) const {
  const ir::Tensor* t = Find(name);
  if (t == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(path, ": no tensor named '", name, "'"));
  }
  return *t;
}

absl::StatusOr<Llama2cCheckpoint> ReadLlama2c(const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(auto file, ir::MappedFile::Open(path));
  auto bad = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", parts...));
  };
  if (file->size() < 8) {
    return bad("truncated: ", file->size(),
               " bytes, the llama2.c header needs 28");
  }
  uint32_t magic;
  std::memcpy(&magic, file->data(), 4);
  if (magic == kLlama2cMagic) {
    int32_t version;
    std::memcpy(&version, file->data() + 4, 4);
    return bad("llama2.c checkpoint version ", version,
               " (magic \"ak42\") is not supported; export the legacy "
               "version-0 format (export.py --version 0)");
  }
  if (file->size() < 28) {
    return bad("truncated: ", file->size(),
               " bytes, the llama2.c header needs 28");
  }
  int32_t h[7];
  std::memcpy(h, file->data(), sizeof(h));
  static const char* const kFields[7] = {"dim",     "hidden_dim", "n_layers",
                                         "n_heads", "n_kv_heads", "vocab_size",
                                         "seq_len"};
  for (int i = 0; i < 7; ++i) {
    // vocab_size < 0 marks an unshared classifier (INT32_MIN has no
    // negation: it is out of range like any other huge value).
    const int64_t v = i == 5 && h[i] < 0 ? -int64_t{h[i]} : h[i];
    if (v <= 0 || v > (1 << 24)) {
      return bad("header field ", kFields[i], " = ", h[i], " is out of range");
    }
  }
  Llama2cCheckpoint ck;
  ck.path = path;
  Llama2cConfig& c = ck.config;
  c.dim = h[0];
  c.hidden_dim = h[1];
  c.n_layers = h[2];
  c.n_heads = h[3];
  c.n_kv_heads = h[4];
  c.shared_classifier = h[5] > 0;
  c.vocab_size = h[5] > 0 ? h[5] : -h[5];
  c.seq_len = h[6];
  if (c.dim % c.n_heads != 0) {
    return bad("header field dim = ", c.dim,
               " is not a multiple of n_heads = ", c.n_heads);
  }
  if (c.head_size() % 2 != 0) {
    return bad("head size ", c.head_size(), " (dim / n_heads) is odd");
  }
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0) {
    return bad("header field n_kv_heads = ", c.n_kv_heads,
               " does not divide n_heads = ", c.n_heads);
  }

  const int64_t L = c.n_layers, D = c.dim, F = c.hidden_dim, V = c.vocab_size,
                KV = c.kv_dim(), S = c.seq_len, HS2 = c.head_size() / 2;
  struct Part {
    const char* field;
    std::vector<int64_t> dims;  // whole stacked array
  };
  std::vector<Part> parts = {
      {"token_embedding_table", {V, D}},
      {"rms_att_weight", {L, D}},
      {"wq", {L, D, D}},
      {"wk", {L, KV, D}},
      {"wv", {L, KV, D}},
      {"wo", {L, D, D}},
      {"rms_ffn_weight", {L, D}},
      {"w1", {L, F, D}},
      {"w2", {L, D, F}},
      {"w3", {L, F, D}},
      {"rms_final_weight", {D}},
      {"freq_cis_real", {S, HS2}},
      {"freq_cis_imag", {S, HS2}},
  };
  if (!c.shared_classifier) parts.push_back({"wcls", {V, D}});
  // Bytes of a part, saturating (header fields up to 2^24 multiply past
  // 2^64): a saturated size never fits the file.
  constexpr uint64_t kHuge = uint64_t{1} << 62;
  auto part_bytes = [&](const Part& p) {
    uint64_t n = 4;
    for (int64_t d : p.dims) {
      if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n) || n > kHuge)
        return kHuge;
    }
    return n;
  };
  uint64_t expected = 28;
  for (const Part& p : parts)
    expected = std::min(kHuge, expected + part_bytes(p));
  if (expected != file->size()) {
    // Name the first array that does not fit, or the surplus.
    uint64_t at = 28;
    for (const Part& p : parts) {
      uint64_t n = part_bytes(p);
      if (at + n > file->size()) {
        return bad("truncated: weight array ", p.field, " needs bytes [", at,
                   ", ", at + n, ") but the file has ", file->size(),
                   " bytes (header: dim=", c.dim, " hidden_dim=", c.hidden_dim,
                   " n_layers=", c.n_layers, " n_heads=", c.n_heads,
                   " n_kv_heads=", c.n_kv_heads, " vocab_size=", h[5],
                   " seq_len=", c.seq_len, ")");
      }
      at += n;
    }
    return bad("file has ", file->size(), " bytes but the header implies ",
               expected, " (", file->size() - expected,
               " trailing bytes after ", parts.back().field, ")");
  }

  uint64_t at = 28;
  // Slices `rows` of array `p`, layer `layer` (or the whole array if -1).
  auto slice = [&](const Part& p, int layer) -> absl::StatusOr<ir::Tensor> {
    std::vector<int64_t> dims = p.dims;
    uint64_t offset = at;
    if (layer >= 0) {
      dims.erase(dims.begin());
      offset += static_cast<uint64_t>(layer) * ir::NumElements(dims) * 4;
    }
    QEFF_ASSIGN_OR_RETURN(
        auto buffer,
        ir::Buffer::FromMapped(file, offset, ir::NumElements(dims) * 4));
    return ir::Tensor::FromBuffer(ir::DType::kF32, dims, std::move(buffer));
  };
  auto layer_name = [](int i, const char* suffix) {
    return absl::StrCat("model.layers.", i, ".", suffix);
  };
  const char* kLayerNames[] = {
      nullptr,
      "input_layernorm.weight",
      "self_attn.q_proj.weight",
      "self_attn.k_proj.weight",
      "self_attn.v_proj.weight",
      "self_attn.o_proj.weight",
      "post_attention_layernorm.weight",
      "mlp.gate_proj.weight",
      "mlp.down_proj.weight",
      "mlp.up_proj.weight",
  };
  // Layer-major order is friendlier to consumers; collect per part first.
  std::vector<std::vector<std::pair<std::string, ir::Tensor>>> per_layer(L);
  for (size_t pi = 0; pi < parts.size(); ++pi) {
    const Part& p = parts[pi];
    if (pi >= 1 && pi <= 9) {
      for (int i = 0; i < L; ++i) {
        QEFF_ASSIGN_OR_RETURN(ir::Tensor t, slice(p, i));
        per_layer[i].emplace_back(layer_name(i, kLayerNames[pi]), std::move(t));
      }
    } else {
      QEFF_ASSIGN_OR_RETURN(ir::Tensor t, slice(p, -1));
      std::string field = p.field;
      if (field == "token_embedding_table") {
        ck.weights.emplace_back("model.embed_tokens.weight", std::move(t));
      } else if (field == "rms_final_weight") {
        for (auto& layer : per_layer) {
          for (auto& w : layer) ck.weights.push_back(std::move(w));
        }
        ck.weights.emplace_back("model.norm.weight", std::move(t));
      } else if (field == "freq_cis_real") {
        ck.freq_cis_real = std::move(t);
      } else if (field == "freq_cis_imag") {
        ck.freq_cis_imag = std::move(t);
      } else if (field == "wcls") {
        ck.weights.emplace_back("lm_head.weight", std::move(t));
      }
    }
    at += ir::NumElements(p.dims) * 4;
  }
  return ck;
}

absl::StatusOr<Llama2cVocab> ReadLlama2cTokenizer(const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(auto file, ir::MappedFile::Open(path));
  auto bad = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", parts...));
  };
  Llama2cVocab v;
  v.path = path;
  const uint8_t* d = file->data();
  const uint64_t size = file->size();
  if (size < 4) {
    return bad("truncated: max_token_length needs 4 bytes, file has ", size);
  }
  std::memcpy(&v.max_token_length, d, 4);
  if (v.max_token_length <= 0 || v.max_token_length > (1 << 20)) {
    return bad("max_token_length = ", v.max_token_length, " is out of range");
  }
  uint64_t at = 4;
  while (at < size) {
    size_t id = v.tokens.size();
    if (size - at < 8) {
      return bad("truncated: token #", id, " needs score and length at offset ",
                 at, " but the file has ", size, " bytes");
    }
    Llama2cToken t;
    int32_t len;
    std::memcpy(&t.score, d + at, 4);
    std::memcpy(&len, d + at + 4, 4);
    at += 8;
    if (len < 0 || len > v.max_token_length) {
      return bad("token #", id, ": length ", len,
                 " is outside [0, max_token_length = ", v.max_token_length,
                 "]");
    }
    if (size - at < static_cast<uint64_t>(len)) {
      return bad("truncated: token #", id, " needs ", len, " bytes at offset ",
                 at, " but the file has ", size, " bytes");
    }
    t.piece.assign(reinterpret_cast<const char*>(d + at), len);
    at += len;
    v.tokens.push_back(std::move(t));
  }
  if (v.tokens.empty()) return bad("no tokens");
  return v;
}

}  // namespace qeff::models
