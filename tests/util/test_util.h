// Helpers for cross-layer tests: running a peer command, finding a data file
// in the runfiles (the in-repo stories260K.gguf among them), and the files
// outside the workspace (../shared, the peers cache) that tests reach through
// QEFF_SHARED_DIR / QEFF_PEERS_DIR.
#ifndef QEFF_TESTS_UTIL_TEST_UTIL_H_
#define QEFF_TESTS_UTIL_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace qeff::testing {

// Runs `cmd` with /bin/sh; returns its stdout and sets *rc to the exit status
// (-1 when it could not be started).
std::string RunCommand(const std::string& cmd, int* rc);

// Absolute path of a workspace-relative data file in the test's runfiles.
std::string Runfile(const std::string& workspace_relative);

// The real trained model shipped in the repository,
// models/stories260K/stories260K.gguf: its runfiles path when that exists,
// else the workspace-relative path (Bazel runs tests in the workspace's
// runfiles folder). A test that reads it needs
// data = ["//models/stories260K"].
std::string Stories260KGguf();

// $QEFF_SHARED_DIR/<rel> when that variable is set and the file exists; ""
// otherwise, with the reason in *why (for GTEST_SKIP).
std::string SharedFile(const std::string& rel, std::string* why);

// $QEFF_PEERS_DIR when set and `marker` (relative to it) exists; "" otherwise
// with the reason in *why.
std::string PeersDir(const std::string& marker, std::string* why);

// The whole file into *out; false when it cannot be read.
bool ReadFile(const std::string& path, std::string* out);

// One case of llama.cpp's tokenizer test vectors.
struct VocabCase {
  std::string text;
  std::vector<int32_t> ids;
};

// The cases of `<gguf>.inp` / `<gguf>.out` (llama.cpp's
// tests/test-tokenizer-0.cpp read_tests format); empty when the files are
// missing or their counts disagree.
std::vector<VocabCase> ReadLlamaCppVocabCases(const std::string& gguf);

}  // namespace qeff::testing

#endif  // QEFF_TESTS_UTIL_TEST_UTIL_H_
