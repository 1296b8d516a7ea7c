#include "models/safetensors.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"

namespace qeff::models {
namespace {

struct DTypeName {
  const char* name;
  ir::DType dtype;
};
constexpr DTypeName kDTypes[] = {
    {"F32", ir::DType::kF32},   {"F16", ir::DType::kF16},
    {"BF16", ir::DType::kBF16}, {"I64", ir::DType::kI64},
    {"I32", ir::DType::kI32},   {"I8", ir::DType::kI8},
    {"U8", ir::DType::kU8},     {"BOOL", ir::DType::kBool},
};

absl::Status FileError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<SafetensorsFile> ReadSafetensors(const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(std::shared_ptr<const ir::MappedFile> file,
                        ir::MappedFile::Open(path));
  const uint64_t size = file->size();
  if (size < 8) {
    return FileError(path, absl::StrCat("truncated: ", size,
                                        " bytes, no 8-byte header length"));
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file->data()[i];
  if (header_len > size - 8) {
    return FileError(path, absl::StrCat("header length ", header_len,
                                        " runs past the end of the file (",
                                        size, " bytes)"));
  }
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = size - data_start;
  absl::string_view header(reinterpret_cast<const char*>(file->data() + 8),
                           header_len);
  auto json = base::ParseJson(header);
  if (!json.ok()) {
    return FileError(path, absl::StrCat("header: ", json.status().message()));
  }
  if (!json->is_object()) return FileError(path, "header is not a JSON object");
  SafetensorsFile out;
  out.path = path;
  for (const auto& [name, entry] : json->object()) {
    const std::string where = absl::StrCat("tensor '", name, "': ");
    if (name == "__metadata__") {
      if (!entry.is_object())
        return FileError(path, "__metadata__ is not an object");
      for (const auto& [k, v] : entry.object()) {
        if (!v.is_string())
          return FileError(
              path, absl::StrCat("__metadata__.", k, " is not a string"));
        out.metadata.emplace_back(k, v.string_value());
      }
      continue;
    }
    if (!entry.is_object()) return FileError(path, where + "not an object");
    const base::JsonValue* dt = entry.Find("dtype");
    const base::JsonValue* shape = entry.Find("shape");
    const base::JsonValue* offsets = entry.Find("data_offsets");
    if (!dt || !dt->is_string())
      return FileError(path, where + "missing string field 'dtype'");
    if (!shape || !shape->is_array())
      return FileError(path, where + "missing array field 'shape'");
    if (!offsets || !offsets->is_array() || offsets->array().size() != 2)
      return FileError(path, where + "'data_offsets' must be [begin, end]");
    const ir::DType* dtype = nullptr;
    for (const auto& d : kDTypes)
      if (dt->string_value() == d.name) dtype = &d.dtype;
    if (dtype == nullptr) {
      std::vector<std::string> names;
      for (const auto& d : kDTypes) names.push_back(d.name);
      return absl::UnimplementedError(absl::StrCat(
          path, ": ", where, "dtype '", dt->string_value(),
          "' is not supported (supported: ", absl::StrJoin(names, ", "), ")"));
    }
    std::vector<int64_t> dims;
    // Element count with overflow checks (dims are untrusted).
    uint64_t elements = 1;
    for (const base::JsonValue& d : shape->array()) {
      auto v = d.AsInt64();
      if (!v.ok() || *v < 0)
        return FileError(path, where + "shape entries must be integers >= 0");
      if (*v > 0 && elements > (uint64_t{1} << 62) / static_cast<uint64_t>(*v))
        return FileError(path, where + "shape is absurdly large");
      elements *= static_cast<uint64_t>(*v);
      dims.push_back(*v);
    }
    auto b = offsets->array()[0].AsInt64();
    auto e = offsets->array()[1].AsInt64();
    if (!b.ok() || !e.ok() || *b < 0 || *e < *b)
      return FileError(path, where + "data_offsets must be 0 <= begin <= end");
    if (static_cast<uint64_t>(*e) > data_size) {
      return FileError(path, absl::StrCat(where, "data_offsets [", *b, ", ", *e,
                                          "] run past the data section (",
                                          data_size, " bytes)"));
    }
    const uint64_t bytes = elements * ir::DTypeSize(*dtype);
    if (bytes != static_cast<uint64_t>(*e - *b)) {
      return FileError(
          path, absl::StrCat(where, "shape [", absl::StrJoin(dims, ", "),
                             "] of ", dt->string_value(), " needs ", bytes,
                             " bytes, data_offsets span ", *e - *b));
    }
    QEFF_ASSIGN_OR_RETURN(std::shared_ptr<ir::Buffer> buf,
                          ir::Buffer::FromMapped(file, data_start + *b, bytes));
    auto t = ir::Tensor::FromBuffer(*dtype, dims, std::move(buf));
    if (!t.ok())
      return FileError(path, where + std::string(t.status().message()));
    out.tensors.emplace_back(name, *std::move(t));
  }
  return out;
}

absl::StatusOr<absl::flat_hash_map<std::string, ir::Tensor>>
ReadSafetensorsFolder(const std::string& dir) {
  absl::flat_hash_map<std::string, ir::Tensor> out;
  const std::string index_path = dir + "/model.safetensors.index.json";
  if (!base::FileExists(index_path)) {
    const std::string single = dir + "/model.safetensors";
    if (!base::FileExists(single)) {
      return absl::NotFoundError(absl::StrCat(
          dir, ": no model.safetensors or model.safetensors.index.json"));
    }
    QEFF_ASSIGN_OR_RETURN(SafetensorsFile f, ReadSafetensors(single));
    for (auto& [n, t] : f.tensors) out[n] = std::move(t);
    return out;
  }
  QEFF_ASSIGN_OR_RETURN(std::string text, ReadText(index_path));
  auto json = base::ParseJson(text);
  if (!json.ok())
    return FileError(index_path, std::string(json.status().message()));
  const base::JsonValue* map = json->Find("weight_map");
  if (!map || !map->is_object())
    return FileError(index_path, "missing object field 'weight_map'");
  // Shard file -> tensors the index assigns to it.
  std::vector<std::string> shards;
  absl::flat_hash_map<std::string, std::vector<std::string>> wanted;
  for (const auto& [tensor, shard] : map->object()) {
    if (!shard.is_string())
      return FileError(index_path,
                       absl::StrCat("weight_map.", tensor, " is not a string"));
    const std::string& s = shard.string_value();
    if (s.empty() || s.find('/') != std::string::npos || s == "..") {
      return FileError(index_path, absl::StrCat("weight_map.", tensor,
                                                ": bad shard name '", s, "'"));
    }
    if (!wanted.contains(s)) shards.push_back(s);
    wanted[s].push_back(tensor);
  }
  for (const std::string& s : shards) {
    const std::string shard_path = dir + "/" + s;
    if (!base::FileExists(shard_path)) {
      return absl::NotFoundError(absl::StrCat(index_path, ": shard '", s,
                                              "' (holding '", wanted[s][0],
                                              "') is missing"));
    }
    QEFF_ASSIGN_OR_RETURN(SafetensorsFile f, ReadSafetensors(shard_path));
    absl::flat_hash_map<std::string, ir::Tensor> in_shard;
    for (auto& [n, t] : f.tensors) in_shard[n] = std::move(t);
    for (const std::string& n : wanted[s]) {
      auto it = in_shard.find(n);
      if (it == in_shard.end()) {
        return FileError(
            shard_path, absl::StrCat("tensor '", n, "' named by ",
                                     "model.safetensors.index.json is absent"));
      }
      out[n] = it->second;
    }
  }
  return out;
}

absl::StatusOr<std::string> SerializeSafetensors(
    const std::vector<std::pair<std::string, ir::Tensor>>& tensors,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (size_t i = 0; i < metadata.size(); ++i) {
      if (i) header += ",";
      header += base::JsonQuote(metadata[i].first) + ":" +
                base::JsonQuote(metadata[i].second);
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    if (t.is_quantized() || !t.has_storage()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "safetensors: tensor '", name, "' is quantized or has no data"));
    }
    const char* dt = nullptr;
    for (const auto& d : kDTypes)
      if (d.dtype == t.dtype()) dt = d.name;
    if (dt == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("safetensors: tensor '", name, "' has unsupported type ",
                       t.TypeString()));
    }
    if (i || !metadata.empty()) header += ",";
    header += absl::StrCat(base::JsonQuote(name), ":{\"dtype\":\"", dt,
                           "\",\"shape\":[", absl::StrJoin(t.dims(), ","),
                           "],\"data_offsets\":[", offset, ",",
                           offset + t.byte_size(), "]}");
    offset += t.byte_size();
  }
  header += "}";
  while ((8 + header.size()) % 8 != 0) header += ' ';
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  out += header;
  for (const auto& [name, t] : tensors)
    out.append(reinterpret_cast<const char*>(t.raw()), t.byte_size());
  return out;
}

}  // namespace qeff::models
