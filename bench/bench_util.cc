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

double ReadBandwidthGBs(size_t bytes, int threads, int tries) {
  const size_t n = bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buf(new uint64_t[n]);
  const size_t per = (n + threads - 1) / threads;
  auto each = [&](auto&& work) {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      const size_t b = std::min(n, t * per), e = std::min(n, b + per);
      ts.emplace_back([&work, b, e] { work(b, e); });
    }
    for (auto& t : ts) t.join();
  };
  // First touch by the thread that reads the range.
  each([&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) buf[i] = i;
  });
  std::vector<uint64_t> sums(threads);
  double best = 0;
  for (int k = 0; k < tries; ++k) {
    const double t0 = NowSeconds();
    each([&](size_t b, size_t e) {
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      size_t i = b;
      for (; i + 4 <= e; i += 4) {
        s0 += buf[i];
        s1 += buf[i + 1];
        s2 += buf[i + 2];
        s3 += buf[i + 3];
      }
      for (; i < e; ++i) s0 += buf[i];
      sums[b / per] = s0 + s1 + s2 + s3;
    });
    const double dt = NowSeconds() - t0;
    best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / dt / 1e9);
  }
  // The sums depend on every byte read; checking them keeps the loads.
  uint64_t total = 0;
  for (uint64_t s : sums) total += s;
  if (total != (n * (n - 1) / 2)) return -1;
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
