#include "tests/util/test_util.h"

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace qeff::testing {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::string RunCommand(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    *rc = -1;
    return out;
  }
  std::array<char, 65536> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    out.append(buf.data(), n);
  *rc = ::pclose(p);
  return out;
}

std::string Runfile(const std::string& rel) {
  const char* src = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  if (src && ws) return std::string(src) + "/" + ws + "/" + rel;
  return rel;
}

std::string Stories260KGguf() {
  const std::string rel = "models/stories260K/stories260K.gguf";
  std::string path = Runfile(rel);
  return Exists(path) ? path : rel;
}

std::string SharedFile(const std::string& rel, std::string* why) {
  const char* dir = std::getenv("QEFF_SHARED_DIR");
  if (dir == nullptr || *dir == '\0') {
    *why = "QEFF_SHARED_DIR is not set (no ../shared beside the checkout)";
    return "";
  }
  std::string path = std::string(dir) + "/" + rel;
  if (!Exists(path)) {
    *why = path + " is absent";
    return "";
  }
  return path;
}

std::string PeersDir(const std::string& marker, std::string* why) {
  const char* dir = std::getenv("QEFF_PEERS_DIR");
  if (dir == nullptr || *dir == '\0') {
    *why = "QEFF_PEERS_DIR is not set (run ./setup.sh)";
    return "";
  }
  if (!Exists(std::string(dir) + "/" + marker)) {
    *why = std::string(marker) + " is not in " + dir + " (run ./setup.sh)";
    return "";
  }
  return dir;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

// test-tokenizer-0.cpp's read_tests.
std::vector<VocabCase> ReadLlamaCppVocabCases(const std::string& gguf) {
  std::string inp, out;
  if (!ReadFile(gguf + ".inp", &inp) || !ReadFile(gguf + ".out", &out))
    return {};
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t pos = 0;
  while (pos < inp.size()) {
    size_t next = inp.find(sep, pos);
    if (next == std::string::npos) {
      texts.push_back(inp.substr(pos));
      break;
    }
    texts.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::vector<VocabCase> cases;
  if (lines.size() != texts.size()) return cases;
  for (size_t i = 0; i < texts.size(); ++i) {
    VocabCase c;
    c.text = texts[i];
    for (absl::string_view t : absl::StrSplit(
             absl::StripAsciiWhitespace(lines[i]), ' ', absl::SkipEmpty())) {
      int32_t id;
      if (absl::SimpleAtoi(t, &id)) c.ids.push_back(id);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace qeff::testing
