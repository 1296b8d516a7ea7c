#include "bench/bench_util.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/tensor.h"

namespace qeff::bench {
namespace {

// splitmix64: a fast, seeded stream of 64-bit values.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float Symmetric() {
    return static_cast<float>(Next() >> 40) * (2.0f / (1 << 24)) - 1.0f;
  }

 private:
  uint64_t s_;
};

ir::Tensor Random(Rng& rng, ir::DType dtype, std::vector<int64_t> dims,
                  float scale, float offset = 0.0f) {
  ir::Tensor t = ir::Tensor::Zeros(dtype, std::move(dims));
  const int64_t n = t.num_elements();
  if (dtype == ir::DType::kF16) {
    uint16_t* p = t.mutable_data<uint16_t>();
    for (int64_t i = 0; i < n; ++i)
      p[i] = ir::FloatToHalf(offset + scale * rng.Symmetric());
  } else {
    float* p = t.mutable_data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = offset + scale * rng.Symmetric();
  }
  return t;
}

}  // namespace

ProcMemory ReadProcMemory() {
  ProcMemory m;
  std::ifstream f("/proc/self/status");
  std::string line;
  auto field = [&](const char* key, long* out) {
    const size_t k = std::char_traits<char>::length(key);
    if (line.compare(0, k, key) == 0) *out = std::stol(line.substr(k));
  };
  while (std::getline(f, line)) {
    field("VmRSS:", &m.vm_rss);
    field("RssAnon:", &m.rss_anon);
    field("RssFile:", &m.rss_file);
    field("VmHWM:", &m.vm_hwm);
  }
  return m;
}

absl::Status ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.close();
  if (!f) return absl::InternalError("/proc/self/clear_refs: cannot write 5");
  return absl::OkStatus();
}

std::string PeersDir() {
  const char* p = std::getenv("QEFF_PEERS_DIR");
  if (p != nullptr && *p) return p;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/root") + "/.cache/qeff/peers";
}

double NowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

std::string ReadToEnd(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

absl::StatusOr<ChildResult> Wait(pid_t pid, int read_fd) {
  ChildResult r;
  r.out = ReadToEnd(read_fd);
  close(read_fd);
  int status = 0;
  struct rusage ru {};
  pid_t w;
  do {
    w = wait4(pid, &status, 0, &ru);
  } while (w < 0 && errno == EINTR);
  if (w < 0)
    return absl::InternalError(absl::StrCat("wait4: ", std::strerror(errno)));
  r.exit_code = WIFEXITED(status)     ? WEXITSTATUS(status)
                : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                      : -1;
  r.max_rss_kib = ru.ru_maxrss;
  return r;
}

}  // namespace

bool WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

absl::StatusOr<ChildResult> RunInChild(const std::function<int(int fd)>& fn) {
  int fds[2];
  if (pipe(fds) != 0)
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    close(fds[0]);
    const int rc = fn(fds[1]);
    close(fds[1]);
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(rc);
  }
  close(fds[1]);
  return Wait(pid, fds[0]);
}

absl::StatusOr<ChildResult> RunProcess(const std::vector<std::string>& argv,
                                       const std::string& stderr_path) {
  if (argv.empty()) return absl::InvalidArgumentError("RunProcess: no argv");
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  return RunInChild([&](int fd) {
    dup2(fd, 1);
    close(fd);
    const int err =
        stderr_path.empty()
            ? open("/dev/null", O_WRONLY)
            : open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) {
      dup2(err, 2);
      close(err);
    }
    execv(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    return 127;
  });
}

namespace {

typedef uint64_t U64x8 __attribute__((vector_size(64)));

// The sum of p[0, n) (p 64-byte aligned, n a multiple of 8), in 64-byte
// vectors with four independent accumulators; cloned per instruction set so
// that the loads, not the adds, bound it whatever the build's -march.
__attribute__((target_clones("avx512f", "avx2", "default"))) uint64_t
SumAligned(const uint64_t* p, size_t n) {
  const U64x8* v = reinterpret_cast<const U64x8*>(p);
  const size_t nv = n / 8;
  U64x8 a0 = {}, a1 = {}, a2 = {}, a3 = {};
  size_t i = 0;
  for (; i + 4 <= nv; i += 4) {
    a0 += v[i];
    a1 += v[i + 1];
    a2 += v[i + 2];
    a3 += v[i + 3];
  }
  for (; i < nv; ++i) a0 += v[i];
  const U64x8 s = a0 + a1 + a2 + a3;
  uint64_t r = 0;
  for (int k = 0; k < 8; ++k) r += s[k];
  return r;
}

}  // namespace

double ReadBandwidthGBs(size_t bytes, int threads, int tries) {
  // Whole 64-byte lines per thread.
  const size_t per = (bytes / sizeof(uint64_t) / threads) / 8 * 8;
  const size_t n = per * threads;
  std::unique_ptr<uint64_t, decltype(&std::free)> mem(
      static_cast<uint64_t*>(std::aligned_alloc(64, n * sizeof(uint64_t))),
      &std::free);
  if (mem == nullptr || per == 0) return -1;
  uint64_t* buf = mem.get();
  auto each = [&](auto&& work) {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&work, t, per] { work(t, t * per, (t + 1) * per); });
    for (auto& t : ts) t.join();
  };
  // First touch by the thread that reads the range.
  each([&](int, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) buf[i] = i;
  });
  std::vector<uint64_t> sums(threads);
  double best = 0;
  for (int k = 0; k < tries; ++k) {
    const double t0 = NowSeconds();
    each([&](int t, size_t b, size_t e) {
      sums[t] = SumAligned(buf + b, e - b);
    });
    const double dt = NowSeconds() - t0;
    best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / dt / 1e9);
  }
  // The sums depend on every byte read; checking them keeps the loads.
  uint64_t total = 0;
  for (uint64_t s : sums) total += s;
  if (total != static_cast<uint64_t>(n) * (n - 1) / 2) return -1;
  return best;
}

int64_t LlamaParameterCount(const models::LlamaConfig& c) {
  const int64_t h = c.hidden_size, d = c.HeadDim(), f = c.intermediate_size;
  const int64_t layer = 2 * h + 2 * c.num_attention_heads * d * h +
                        2 * c.num_key_value_heads * d * h + 3 * f * h;
  return c.vocab_size * h * (c.tie_word_embeddings ? 1 : 2) +
         c.num_hidden_layers * layer + h;
}

absl::StatusOr<models::WeightMap> RandomLlamaWeights(
    const models::LlamaConfig& c, ir::DType dtype, uint64_t seed) {
  if (dtype != ir::DType::kF32 && dtype != ir::DType::kF16) {
    return absl::InvalidArgumentError(absl::StrCat("RandomLlamaWeights: dtype ",
                                                   ir::DTypeName(dtype),
                                                   " (want f32 or f16)"));
  }
  if (absl::Status s = c.Validate(); !s.ok()) return s;
  Rng rng(seed);
  const int64_t h = c.hidden_size, d = c.HeadDim(), f = c.intermediate_size;
  // Uniform [-a, a] has std a / sqrt(3): a = sqrt(3 / fan_in) gives 1/fan_in
  // variance.
  const float in_scale = std::sqrt(3.0f / h);
  const float f_scale = std::sqrt(3.0f / f);
  models::WeightMap w;
  w["model.embed_tokens.weight"] = Random(rng, dtype, {c.vocab_size, h}, 0.1f);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = absl::StrCat("model.layers.", i, ".");
    w[p + "input_layernorm.weight"] = Random(rng, dtype, {h}, 0.1f, 1.0f);
    w[p + "self_attn.q_proj.weight"] =
        Random(rng, dtype, {c.num_attention_heads * d, h}, in_scale);
    w[p + "self_attn.k_proj.weight"] =
        Random(rng, dtype, {c.num_key_value_heads * d, h}, in_scale);
    w[p + "self_attn.v_proj.weight"] =
        Random(rng, dtype, {c.num_key_value_heads * d, h}, in_scale);
    w[p + "self_attn.o_proj.weight"] =
        Random(rng, dtype, {h, c.num_attention_heads * d}, in_scale);
    w[p + "post_attention_layernorm.weight"] =
        Random(rng, dtype, {h}, 0.1f, 1.0f);
    w[p + "mlp.gate_proj.weight"] = Random(rng, dtype, {f, h}, in_scale);
    w[p + "mlp.up_proj.weight"] = Random(rng, dtype, {f, h}, in_scale);
    w[p + "mlp.down_proj.weight"] = Random(rng, dtype, {h, f}, f_scale);
  }
  w["model.norm.weight"] = Random(rng, dtype, {h}, 0.1f, 1.0f);
  if (!c.tie_word_embeddings)
    w["lm_head.weight"] = Random(rng, dtype, {c.vocab_size, h}, in_scale);
  return w;
}

}  // namespace qeff::bench
