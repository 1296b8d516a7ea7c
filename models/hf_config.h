// Hugging Face model folders: config.json (→ ModelConfig, via the
// architecture registry), generation_config.json and tokenizer_config.json.
// Every error names the file and the field.
#ifndef QEFF_MODELS_HF_CONFIG_H_
#define QEFF_MODELS_HF_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "models/arch/registry.h"

namespace qeff::models {

// generation_config.json: the fields qeff's generator uses. Absent fields
// keep their "unset" values.
struct GenerationConfig {
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // int or list in the file
  std::optional<int64_t> pad_token_id;
  bool do_sample = false;
  std::optional<float> temperature;
  std::optional<int64_t> top_k;
  std::optional<float> top_p;
  std::optional<int64_t> max_new_tokens;
  std::optional<int64_t> max_length;
};

// tokenizer_config.json: the fields that change how prompts are encoded.
struct TokenizerConfig {
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;
  std::string bos_token;  // content of a string or AddedToken object
  std::string eos_token;
  std::string unk_token;
  std::string pad_token;
  std::string tokenizer_class;
  std::optional<int64_t> model_max_length;
  std::string chat_template;
};

// Reads and parses a JSON file; errors name the file.
absl::StatusOr<base::JsonValue> ReadJsonFile(const std::string& path);

absl::StatusOr<GenerationConfig> ParseGenerationConfig(
    const base::JsonValue& j, const std::string& source);
absl::StatusOr<TokenizerConfig> ParseTokenizerConfig(const base::JsonValue& j,
                                                     const std::string& source);

struct HfFolderConfigs {
  ModelConfig model;
  std::optional<GenerationConfig> generation;  // when the file exists
  std::optional<TokenizerConfig> tokenizer;    // when the file exists
};
// `dir`/config.json (required) and the optional two others.
absl::StatusOr<HfFolderConfigs> ReadHfFolderConfigs(const std::string& dir);

}  // namespace qeff::models

#endif  // QEFF_MODELS_HF_CONFIG_H_
