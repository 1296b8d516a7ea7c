// Tokenizes text (or decodes ids) with a model's tokenizer.
//
//   bazel run //tools:tokenize -- --tokenizer=PATH --text="Once upon a time"
//   bazel run //tools:tokenize -- --tokenizer=PATH --decode=1,403,407
//
// PATH is any .gguf with a tokenizer (SentencePiece, byte-level BPE,
// WordPiece; vocab-only files too), a Hugging Face tokenizer.json (with
// tokenizer_config.json beside it when present), a llama2.c tokenizer.bin,
// or a folder holding one (an HF model folder).
// Prints the ids space-separated (BOS first when the tokenizer's config adds
// it, unless --no_bos), or {"ids":[...]} with --json; with --decode, prints
// the text (or {"text":"..."}).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/json.h"
#include "models/tokenizer_loader.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, tokenizer, "",
          "tokenizer: a .gguf, a tokenizer.json, a llama2.c tokenizer.bin, "
          "or a model folder");
ABSL_FLAG(std::string, text, "", "text to encode");
ABSL_FLAG(bool, json, false, "print JSON instead of plain text");
ABSL_FLAG(std::string, decode, "",
          "comma-separated token ids to decode instead of encoding --text");
ABSL_FLAG(bool, no_bos, false, "do not add BOS even if the tokenizer does");

namespace {

using qeff::base::JsonQuote;
using qeff::tools::UserPath;

absl::Status Run() {
  const std::string path = absl::GetFlag(FLAGS_tokenizer);
  if (path.empty()) {
    return absl::InvalidArgumentError("--tokenizer=PATH is required");
  }
  auto tok = qeff::models::LoadTokenizer(UserPath(path));
  if (!tok.ok()) return tok.status();
  const bool json = absl::GetFlag(FLAGS_json);
  const std::string decode = absl::GetFlag(FLAGS_decode);
  if (!decode.empty()) {
    if (!absl::GetFlag(FLAGS_text).empty()) {
      return absl::InvalidArgumentError("give --text or --decode, not both");
    }
    if (absl::GetFlag(FLAGS_no_bos)) {
      return absl::InvalidArgumentError("--no_bos applies to --text only");
    }
    std::vector<int32_t> ids;
    for (absl::string_view part : absl::StrSplit(decode, ',')) {
      int32_t id;
      if (!absl::SimpleAtoi(part, &id)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--decode: '", part, "' is not a token id"));
      }
      ids.push_back(id);
    }
    auto text = (*tok)->Decode(ids);
    if (!text.ok()) return text.status();
    if (json) {
      std::printf("{\"text\":%s}\n", JsonQuote(*text).c_str());
    } else {
      std::printf("%s\n", text->c_str());
    }
    return absl::OkStatus();
  }
  const bool add_bos =
      (*tok)->add_bos_by_default() && !absl::GetFlag(FLAGS_no_bos);
  auto ids = (*tok)->Encode(absl::GetFlag(FLAGS_text), add_bos);
  if (!ids.ok()) return ids.status();
  if (json) {
    std::printf("{\"ids\":[%s]}\n", absl::StrJoin(*ids, ",").c_str());
  } else {
    std::printf("%s\n", absl::StrJoin(*ids, " ").c_str());
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "tokenize --tokenizer=PATH (--text=TEXT [--no_bos] | --decode=1,2,3) "
      "[--json]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "tokenize: unexpected argument '%s'\n", rest[1]);
    return 2;
  }
  absl::Status s = Run();
  if (!s.ok()) {
    std::fprintf(stderr, "tokenize: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
