#include "tests/fuzz/fuzz_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace qeff::fuzz {

const std::string& ScratchDir() {
  static const std::string* dir = [] {
    struct stat st;
    const char* tmp = std::getenv("TEST_TMPDIR");
    if (!tmp) tmp = ::stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
    auto* d = new std::string(absl::StrCat(tmp, "/qeff-fuzz-", ::getpid()));
    ::mkdir(d->c_str(), 0700);
    return d;
  }();
  return *dir;
}

std::string WriteScratch(absl::string_view relative, const uint8_t* data,
                         size_t size) {
  std::string path = absl::StrCat(ScratchDir(), "/", relative);
  for (size_t i = ScratchDir().size() + 1; i < path.size(); ++i) {
    if (path[i] == '/') ::mkdir(path.substr(0, i).c_str(), 0700);
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();  // the scratch folder must be writable
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

volatile uint8_t g_touch_sink;  // keeps TouchTensor's reads

void TouchTensor(const ir::Tensor& t) {
  if (!t.has_storage() || t.byte_size() == 0) return;
  g_touch_sink = t.raw()[0];
  g_touch_sink = t.raw()[t.byte_size() - 1];
}

void ExerciseTokenizer(const models::Tokenizer& tok) {
  auto ids =
      tok.Encode("Hello world <s> caf\xc3\xa9 \xf0\x9f\x98\x80 12", true);
  if (ids.ok()) {
    (void)tok.Decode(*ids);
    for (int32_t id : *ids) (void)tok.DecodeToken(id);
  }
  for (int32_t id : {-1, 0, 1, 2, 255, 256, 1 << 30}) (void)tok.DecodeToken(id);
}

}  // namespace qeff::fuzz
