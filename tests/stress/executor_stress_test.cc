// Stress: many concurrent requests across virtual cards (cpu:2/0, cpu:2/1)
// for a bounded time (QEFF_STRESS_SECONDS, default 4), with random
// cancellations and injected failures: device calls that fail (a session
// wrapper that fails Run at random, before the real call), prompt ids
// outside the vocabulary, prompts no program can hold. Asserts: every
// request ends (a watchdog fails the test on a deadlock), every completed
// request's tokens equal the serial run's, a cancelled one's are a prefix
// of them, every failure is the injected one, the executor's counters add
// up, and RSS after the run is within 64 MiB of RSS after a warm-up run.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/executor.h"
#include "engine/generator_testing.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/device_registry.h"
#include "hw/driver.h"
#include "models/test_model.h"

namespace qeff::engine {
namespace {

constexpr int64_t kSeqLen = 4, kCtxLen = 40, kSlots = 3;

// The real session, failing Run with probability `p` (seeded) before the
// call, so the state it keeps is never half-updated by the injection.
class FlakySession : public hw::Session {
 public:
  FlakySession(std::unique_ptr<hw::Session> s, double p, uint32_t seed)
      : s_(std::move(s)), p_(p), rng_(seed) {}
  absl::StatusOr<hw::TensorMap> Run(absl::string_view spec,
                                    const hw::TensorMap& in) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (std::uniform_real_distribution<double>(0, 1)(rng_) < p_) {
        ++injected_;
        return absl::UnavailableError("injected device failure");
      }
    }
    return s_->Run(spec, in);
  }
  absl::Status ResetState() override { return s_->ResetState(); }
  absl::Status ResetSlot(int64_t slot) override { return s_->ResetSlot(slot); }
  int64_t injected() const { return injected_; }

 private:
  std::unique_ptr<hw::Session> s_;
  double p_;
  std::mt19937 rng_;
  std::mutex mu_;
  std::atomic<int64_t> injected_{0};
};

int64_t RssBytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  long long kib = 0;
  while (f && std::fgets(line, sizeof(line), f))
    if (std::sscanf(line, "VmRSS: %lld kB", &kib) == 1) break;
  if (f) std::fclose(f);
  return kib * 1024;
}

TEST(ExecutorStress, VirtualCardsCancellationsAndInjectedFailures) {
  const char* env = std::getenv("QEFF_STRESS_SECONDS");
  const double seconds = env ? std::atof(env) : 4.0;
  auto card0 = hw::OpenDevice("cpu:2/0");
  auto card1 = hw::OpenDevice("cpu:2/1");
  ASSERT_TRUE(card0.ok() && card1.ok());
  models::TestModelSpec spec;
  spec.arch = "llama";
  spec.seed = models::DefaultTestSeed("llama");
  auto m = models::MakeTestModel(spec);
  ASSERT_TRUE(m.ok()) << m.status();
  const int64_t vocab = m->config.vocab_size;
  auto eager = models::BuildEager(m->config, m->Weights());
  ASSERT_TRUE(eager.ok());
  auto g = TransformForDevice(*eager, {.continuous_batching = true});
  ASSERT_TRUE(g.ok());
  auto program = (*card0)->Compile(
      *g, hw::CausalLMSpecializations(kSeqLen, kCtxLen, 1, kSlots), {});
  ASSERT_TRUE(program.ok()) << program.status();

  // The prompts, and their tokens from a serial run (one request at a
  // time on one card).
  constexpr int kPrompts = 12;
  constexpr int64_t kGen = 8;
  std::vector<std::vector<int64_t>> prompts;
  for (int k = 0; k < kPrompts; ++k)
    prompts.push_back(testing::TestPrompt(k, 1 + (k * 5) % 11, vocab));
  std::vector<std::vector<int64_t>> serial(kPrompts);
  {
    Executor ex;
    ServedModel sm;
    sm.name = "llama";
    sm.vocab_size = vocab;
    ServedProgram sp;
    sp.program = *program;
    sp.devices = {"cpu:2/0"};
    sm.programs.push_back(sp);
    ASSERT_TRUE(ex.AddModel(sm).ok());
    for (int k = 0; k < kPrompts; ++k) {
      Request q;
      q.prompt_ids = prompts[k];
      q.generation_len = kGen;
      auto id = ex.Enqueue(q);
      ASSERT_TRUE(id.ok());
      auto r = ex.Wait(*id);
      ASSERT_TRUE(r.ok()) << r.status();
      serial[k] = r->token_ids;
      ASSERT_EQ(serial[k].size(), static_cast<size_t>(kGen));
    }
  }

  Executor ex;
  ServedModel good;
  good.name = "llama";
  good.vocab_size = vocab;
  ServedProgram both;
  both.program = *program;
  both.devices = {"cpu:2/0", "cpu:2/1"};
  good.programs.push_back(both);
  ASSERT_TRUE(ex.AddModel(good).ok());
  auto s1 = (*card1)->Load(*program);
  ASSERT_TRUE(s1.ok());
  FlakySession flaky(std::move(*s1), 0.05, 7);
  ServedModel bad = good;
  bad.name = "flaky";
  bad.programs[0].devices = {};
  bad.programs[0].session = &flaky;
  bad.programs[0].label = "cpu:2/1 (flaky)";
  ASSERT_TRUE(ex.AddModel(bad).ok());

  struct Tally {
    std::atomic<int64_t> run{0}, completed{0}, cancelled{0}, failed{0},
        rejected{0}, mismatched{0};
  } tally;
  std::atomic<bool> done{false};
  std::atomic<int64_t> rss_warm{0};
  auto worker = [&](uint32_t seed, double seconds) {
    std::mt19937 rng(seed);
    const auto start = std::chrono::steady_clock::now();
    for (int64_t round = 0;; ++round) {
      const double t = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      if (t > seconds) break;
      const int k = static_cast<int>(rng() % kPrompts);
      const int kind = static_cast<int>(rng() % 20);
      Request q;
      q.model = (rng() % 3 == 0) ? "flaky" : "llama";
      q.prompt_ids = prompts[k];
      q.generation_len = kGen;
      if (kind == 0) q.prompt_ids.push_back(vocab + 5);    // out of vocab
      if (kind == 1) q.prompt_ids.assign(kCtxLen + 3, 1);  // fits nothing
      auto id = ex.Enqueue(q);
      ++tally.run;
      if (!id.ok()) {
        ++tally.rejected;
        continue;
      }
      if (rng() % 4 == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
        ex.Cancel(*id);
      }
      auto r = ex.Wait(*id);
      if (!r.ok()) {
        ++tally.failed;
        const std::string msg(r.status().message());
        const bool expected =
            (kind <= 1) ||
            msg.find("injected device failure") != std::string::npos;
        if (!expected) {
          ADD_FAILURE() << "unexpected failure: " << r.status();
        }
        continue;
      }
      const auto& want = serial[k];
      const auto& got = r->token_ids;
      const bool prefix = got.size() <= want.size() &&
                          std::equal(got.begin(), got.end(), want.begin());
      if (r->finish_reason == FinishReason::kCancelled) {
        ++tally.cancelled;
        if (!prefix) ++tally.mismatched;
      } else {
        ++tally.completed;
        if (got != want) ++tally.mismatched;
      }
    }
  };
  // Warm-up (allocators, arenas, sessions), then the timed run.
  worker(99, 1.0);
  rss_warm = RssBytes();
  std::thread watchdog([&] {
    const auto limit =
        std::chrono::steady_clock::now() +
        std::chrono::seconds(static_cast<int64_t>(seconds) + 120);
    while (!done) {
      if (std::chrono::steady_clock::now() > limit) {
        std::fprintf(stderr, "stress: deadlock (no progress past the limit)\n");
        std::abort();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 6; ++t) threads.emplace_back(worker, t + 1, seconds);
  for (auto& th : threads) th.join();
  done = true;
  watchdog.join();
  ex.Shutdown();
  const int64_t rss_end = RssBytes();

  std::printf(
      "stress: %lld requests (1 s on 1 thread, then %.1f s on 6): %lld "
      "completed, %lld "
      "cancelled, %lld failed (%lld injected device failures), %lld rejected "
      "at enqueue; RSS %lld -> %lld MiB\n",
      static_cast<long long>(tally.run.load()), seconds,
      static_cast<long long>(tally.completed.load()),
      static_cast<long long>(tally.cancelled.load()),
      static_cast<long long>(tally.failed.load()),
      static_cast<long long>(flaky.injected()),
      static_cast<long long>(tally.rejected.load()),
      static_cast<long long>(rss_warm.load() >> 20),
      static_cast<long long>(rss_end >> 20));
  EXPECT_EQ(tally.mismatched.load(), 0);
  EXPECT_GT(tally.completed.load(), 0);
  EXPECT_GT(tally.failed.load(), 0);
  const ExecutorStats st = ex.stats();
  EXPECT_EQ(st.enqueued, st.completed + st.failed + st.cancelled);
  EXPECT_LT(rss_end - rss_warm.load(), int64_t{64} << 20);
  // Both cards served the good model.
  int used = 0;
  for (const InstanceStats& i : st.instances)
    if (i.name.rfind("llama@", 0) == 0 && i.decode_steps > 0) ++used;
  EXPECT_EQ(used, 2);
}

}  // namespace
}  // namespace qeff::engine
