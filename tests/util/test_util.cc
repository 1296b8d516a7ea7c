#include "tests/util/test_util.h"

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <cstdlib>

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

}  // namespace qeff::testing
