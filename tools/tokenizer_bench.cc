// Encode throughput of a tokenizer.
//
//   bazel run -c opt //tools:tokenizer_bench -- --tokenizer=PATH
//       --text_file=FILE [--repeat=3]
//
// Encodes the whole file (no BOS) --repeat times and prints the best run:
// bytes, tokens, seconds, tokens/s and MB/s. Without --text_file, the
// text is the built-in multilingual paragraph repeated to --size bytes.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "models/tokenizer_loader.h"

ABSL_FLAG(std::string, tokenizer, "", "tokenizer path (see //tools:tokenize)");
ABSL_FLAG(std::string, text_file, "", "UTF-8 text to encode");
ABSL_FLAG(int, size, 1 << 20, "bytes of built-in text when no --text_file");
ABSL_FLAG(int, repeat, 3, "runs; the fastest is reported");

namespace {

constexpr char kParagraph[] =
    "Once upon a time, there was a little girl named Lily. She loved to play "
    "outside in the park with her friends, 3 dogs and 12 cats.\n"
    "Der schnelle braune Fuchs springt über den faulen Hund. "
    "Съешь же ещё этих мягких французских булок. 你好，世界！ "
    "こんにちは世界 🦙🚀 int main() { return 0; }\n";

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string path = absl::GetFlag(FLAGS_tokenizer);
  if (path.empty()) {
    std::fprintf(stderr, "tokenizer_bench: --tokenizer=PATH is required\n");
    return 2;
  }
  auto tok = qeff::models::LoadTokenizer(path);
  if (!tok.ok()) {
    std::fprintf(stderr, "tokenizer_bench: %s\n",
                 std::string(tok.status().message()).c_str());
    return 1;
  }
  std::string text;
  const std::string file = absl::GetFlag(FLAGS_text_file);
  if (!file.empty()) {
    std::ifstream f(file, std::ios::binary);
    if (!f) {
      std::fprintf(stderr, "tokenizer_bench: cannot read %s\n", file.c_str());
      return 1;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  } else {
    while (text.size() < static_cast<size_t>(absl::GetFlag(FLAGS_size))) {
      text += kParagraph;
    }
  }
  double best = 1e30;
  size_t n_tokens = 0;
  for (int r = 0; r < std::max(1, absl::GetFlag(FLAGS_repeat)); ++r) {
    auto t0 = std::chrono::steady_clock::now();
    auto ids = (*tok)->Encode(text, false);
    auto t1 = std::chrono::steady_clock::now();
    if (!ids.ok()) {
      std::fprintf(stderr, "tokenizer_bench: %s\n",
                   std::string(ids.status().message()).c_str());
      return 1;
    }
    n_tokens = ids->size();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  std::printf(
      "bytes=%zu tokens=%zu seconds=%.3f tokens_per_s=%.0f MB_per_s=%.2f\n",
      text.size(), n_tokens, best, n_tokens / best, text.size() / best / 1e6);
  return 0;
}
