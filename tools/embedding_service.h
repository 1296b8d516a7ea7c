// POST /v1/embeddings for //tools:serve: OpenAI's embeddings API over
// QEFFAutoModel (engine/qeff_auto_model_embedding.h). No HTTP here.
//
// Accepted: model (required), input (a string, an array of strings, an
// array of token ids or an array of token-id arrays; at most 2048 entries),
// encoding_format ("float" only: "base64" is an error naming it),
// dimensions (only the model's own size), user (ignored). Any other field
// is an error naming it. Answers {"object": "list", "data": [{"object":
// "embedding", "index": i, "embedding": [...]}], "model", "usage":
// {"prompt_tokens", "total_tokens"}}. Calls on one model run one at a time
// (its session is not shared); models do not wait on each other.
#ifndef QEFF_TOOLS_EMBEDDING_SERVICE_H_
#define QEFF_TOOLS_EMBEDDING_SERVICE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/qeff_auto_model_embedding.h"
#include "tools/completion_service.h"

namespace qeff::tools {

struct EmbeddingServiceOptions {
  passes::PoolingOptions pooling;
  std::vector<int64_t> seq_lens = {32, 128};
  int64_t batch_size = 1;
  std::string device = "cpu";
  int num_cores = 0;
  bool truncate = false;  // cut inputs past the largest seq_len
};

class EmbeddingService {
 public:
  explicit EmbeddingService(EmbeddingServiceOptions options)
      : options_(std::move(options)) {}
  // Loads and compiles every model (artifacts reused from $QEFF_HOME).
  absl::Status Load(const std::vector<ModelSpec>& specs);
  std::vector<std::string> model_ids() const;
  // POST /v1/embeddings.
  CompletionService::Reply Embed(const std::string& body);

 private:
  struct Served {
    std::string name;
    std::unique_ptr<engine::QEFFAutoModel> model;
    std::unique_ptr<std::mutex> mu;
  };
  EmbeddingServiceOptions options_;
  std::vector<Served> served_;
};

}  // namespace qeff::tools

#endif  // QEFF_TOOLS_EMBEDDING_SERVICE_H_
