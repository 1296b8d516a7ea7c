// The executor (engine/executor.h) against a hand-written greedy loop over
// single Prefill/Decode steps (engine::Generator's step API, no executor):
// three test models with three shapes (continuous batching, a static
// batch, batch 1) served at once to 8 concurrent submitters, on cpu and
// reference; routing by ctx_len; cancel; shutdown; seeded sampling; stop
// strings and streamed text on the real stories260K.
#include "engine/executor.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/generator.h"
#include "engine/generator_testing.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/device_registry.h"
#include "hw/driver.h"
#include "models/model_loader.h"
#include "models/test_model.h"
#include "tests/util/test_util.h"

namespace qeff::engine {
namespace {

constexpr int64_t kSeqLen = 4;
constexpr int64_t kCtxLen = 40;

// One test model compiled for batch 1 (the hand loop's program) and for
// the shape the executor serves.
struct TestLM {
  std::string name;
  int64_t vocab = 0;
  std::shared_ptr<const hw::Program> solo, served;
};

TestLM Build(hw::Device* device, const std::string& arch, int64_t batch,
             int64_t fbs, int64_t ctx_len = kCtxLen) {
  TestLM t;
  t.name = arch;
  models::TestModelSpec spec;
  spec.arch = arch;
  spec.seed = models::DefaultTestSeed(arch);
  auto m = models::MakeTestModel(spec);
  QEFF_CHECK(m.ok());
  t.vocab = m->config.vocab_size;
  auto eager = models::BuildEager(m->config, m->Weights());
  QEFF_CHECK(eager.ok());
  auto solo = TransformForDevice(*eager, {});
  QEFF_CHECK(solo.ok());
  auto sp = device->Compile(
      *solo, hw::CausalLMSpecializations(kSeqLen, ctx_len, 1, 0), {});
  QEFF_CHECK(sp.ok());
  t.solo = *sp;
  auto g = fbs > 0 ? TransformForDevice(*eager, {.continuous_batching = true})
                   : solo;
  QEFF_CHECK(g.ok());
  auto p = device->Compile(
      *g, hw::CausalLMSpecializations(kSeqLen, ctx_len, batch, fbs), {});
  QEFF_CHECK(p.ok());
  t.served = *p;
  return t;
}

// Greedy tokens by hand: Prefill, then Decode one token at a time.
std::vector<int64_t> HandGreedy(hw::Device* device, const TestLM& t,
                                const std::vector<int64_t>& prompt, int64_t n) {
  auto session = device->Load(t.solo);
  QEFF_CHECK(session.ok());
  Generator steps(session->get());
  GenerationOptions o;
  o.prefill_seq_len = kSeqLen;
  o.ctx_len = kCtxLen;
  auto logits = steps.Prefill(prompt, o);
  QEFF_CHECK(logits.ok());
  std::vector<int64_t> out = {Argmax(*logits)};
  while (static_cast<int64_t>(out.size()) < n) {
    logits = steps.Decode(out.back(),
                          static_cast<int64_t>(prompt.size() + out.size() - 1));
    QEFF_CHECK(logits.ok());
    out.push_back(Argmax(*logits));
  }
  return out;
}

ServedModel Serve(const TestLM& t, const std::string& device) {
  ServedModel m;
  m.name = t.name;
  m.vocab_size = t.vocab;
  ServedProgram p;
  p.program = t.served;
  p.devices = {device};
  m.programs.push_back(p);
  return m;
}

class ExecutorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExecutorTest, ThreeModelsEightSubmittersEqualSoloRuns) {
  auto device = hw::OpenDevice(GetParam());
  ASSERT_TRUE(device.ok());
  // llama: continuous batching over 3 slots; qwen2: static batches of 2;
  // gpt2: batch 1.
  std::vector<TestLM> lms = {Build(device->get(), "llama", 1, 3),
                             Build(device->get(), "qwen2", 2, 0),
                             Build(device->get(), "gpt2", 1, 0)};
  Executor ex;
  for (const TestLM& t : lms)
    ASSERT_TRUE(ex.AddModel(Serve(t, GetParam())).ok());

  struct Job {
    int model;
    std::vector<int64_t> prompt;
    int64_t n;
    RequestResult result;
    std::vector<int64_t> streamed;
  };
  constexpr int kThreads = 8, kPerThread = 3;
  std::vector<Job> jobs(kThreads * kPerThread);
  for (int k = 0; k < static_cast<int>(jobs.size()); ++k) {
    Job& j = jobs[k];
    j.model = k % 3;
    j.prompt = testing::TestPrompt(k, 1 + (k * 5) % 11, lms[j.model].vocab);
    j.n = 1 + (k * 7) % 13;
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<RequestId> ids;
      for (int i = 0; i < kPerThread; ++i) {
        Job& j = jobs[t * kPerThread + i];
        Request q;
        q.model = lms[j.model].name;
        q.prompt_ids = j.prompt;
        q.generation_len = j.n;
        q.on_response = [&j](const Response& r) {
          j.streamed.insert(j.streamed.end(), r.token_ids.begin(),
                            r.token_ids.end());
        };
        auto id = ex.Enqueue(q);
        if (!id.ok()) ++failures;
        ids.push_back(id.ok() ? *id : 0);
      }
      for (int i = 0; i < kPerThread; ++i) {
        auto r = ex.Wait(ids[i]);
        if (!r.ok()) {
          ++failures;
          continue;
        }
        jobs[t * kPerThread + i].result = *r;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  for (size_t k = 0; k < jobs.size(); ++k) {
    const Job& j = jobs[k];
    const std::vector<int64_t> want =
        HandGreedy(device->get(), lms[j.model], j.prompt, j.n);
    EXPECT_EQ(j.result.token_ids, want) << "job " << k << " model " << j.model;
    EXPECT_EQ(j.streamed, want) << "job " << k;
    EXPECT_EQ(j.result.finish_reason, FinishReason::kLength);
    // One decode step message per generated token after the first.
    EXPECT_EQ(j.result.stats.decode_steps, j.n - 1) << "job " << k;
    const int64_t chunks =
        (static_cast<int64_t>(j.prompt.size()) + kSeqLen - 1) / kSeqLen;
    if (j.model == 1)  // a static group runs its longest prompt's chunks
      EXPECT_GE(j.result.stats.prefill_steps, chunks);
    else
      EXPECT_EQ(j.result.stats.prefill_steps, chunks) << "job " << k;
    EXPECT_EQ(j.result.stats.instance,
              absl::StrCat(lms[j.model].name, "@", (*device)->name()));
  }
  ex.Shutdown();
  ExecutorStats st = ex.stats();
  EXPECT_EQ(st.enqueued, static_cast<int64_t>(jobs.size()));
  EXPECT_EQ(st.completed, static_cast<int64_t>(jobs.size()));
  EXPECT_EQ(st.failed, 0);
  ASSERT_EQ(st.instances.size(), 3u);
  int64_t tokens = 0;
  for (const Job& j : jobs) tokens += j.n;
  EXPECT_EQ(st.generated_tokens, tokens);
  // Continuous batching ran several rows per decode step.
  EXPECT_GT(st.instances[0].mean_active_rows, 1.0);
}

TEST_P(ExecutorTest, RoutesToTheSmallestContextThatFits) {
  auto device = hw::OpenDevice(GetParam());
  ASSERT_TRUE(device.ok());
  TestLM small = Build(device->get(), "llama", 1, 0, 16);
  TestLM big = Build(device->get(), "llama", 1, 0, 40);
  Executor ex;
  ServedModel m = Serve(small, GetParam());
  ServedProgram p;
  p.program = big.served;
  p.devices = {GetParam()};
  m.programs.insert(m.programs.begin(), p);  // order given: big first
  ASSERT_TRUE(ex.AddModel(m).ok());
  auto run = [&](int64_t len, int64_t n, bool cap) {
    Request q;
    q.prompt_ids = testing::TestPrompt(1, len, small.vocab);
    q.generation_len = n;
    q.stop_at_ctx_len = cap;
    auto id = ex.Enqueue(q);
    QEFF_CHECK(id.ok());
    return ex.Wait(*id);
  };
  auto a = run(5, 12, false);  // 16 fits
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->stats.ctx_len, 16);
  auto b = run(5, 13, false);  // 17 > 16
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->stats.ctx_len, 40);
  EXPECT_EQ(b->token_ids, HandGreedy(device->get(), big, b->prompt_ids, 13));
  // Nothing fits: rejected before any work, naming what is compiled.
  auto c = run(5, 40, false);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("need ctx_len >= 44"), std::string::npos)
      << c.status();
  EXPECT_NE(c.status().message().find("compiled for ctx_len 16, 40"),
            std::string::npos)
      << c.status();
  // With stop_at_ctx_len the largest takes it and stops at its end.
  auto d = run(5, 40, true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->stats.ctx_len, 40);
  EXPECT_EQ(d->token_ids.size(), 36u);
  EXPECT_EQ(d->finish_reason, FinishReason::kContextLength);
  ExecutorStats st = ex.stats();
  EXPECT_EQ(st.failed, 1);
  EXPECT_EQ(st.completed, 3);
}

TEST_P(ExecutorTest, TwoVirtualCardsShareTheLoad) {
  if (GetParam() != "cpu") GTEST_SKIP() << "virtual cards are a cpu notion";
  auto device = hw::OpenDevice("cpu:2/0");
  ASSERT_TRUE(device.ok());
  TestLM t = Build(device->get(), "llama", 1, 2);
  Executor ex;
  ServedModel m = Serve(t, "");
  m.programs[0].devices = {"cpu:2/0", "cpu:2/1"};
  ASSERT_TRUE(ex.AddModel(m).ok());
  std::vector<Request> qs;
  for (int k = 0; k < 8; ++k) {
    Request q;
    q.prompt_ids = testing::TestPrompt(k, 3 + k, t.vocab);
    q.generation_len = 6;
    qs.push_back(q);
  }
  auto ids = ex.EnqueueBatch(qs);
  ASSERT_TRUE(ids.ok());
  std::map<std::string, int> per_card;
  for (size_t k = 0; k < ids->size(); ++k) {
    auto r = ex.Wait((*ids)[k]);
    ASSERT_TRUE(r.ok()) << r.status();
    ++per_card[r->stats.instance];
    EXPECT_EQ(r->token_ids, HandGreedy(device->get(), t, qs[k].prompt_ids, 6));
  }
  EXPECT_EQ(per_card["llama@cpu:2/0"], 4);
  EXPECT_EQ(per_card["llama@cpu:2/1"], 4);
}

TEST_P(ExecutorTest, CancelShutdownAndBadRequests) {
  auto device = hw::OpenDevice(GetParam());
  ASSERT_TRUE(device.ok());
  TestLM t = Build(device->get(), "llama", 1, 2);
  Executor ex;
  ASSERT_TRUE(ex.AddModel(Serve(t, GetParam())).ok());
  EXPECT_EQ(ex.AddModel(Serve(t, GetParam())).code(),
            absl::StatusCode::kAlreadyExists);
  // Cancel after the first token: fewer tokens, reason cancelled.
  Request q;
  q.prompt_ids = testing::TestPrompt(0, 3, t.vocab);
  q.generation_len = 36;
  std::atomic<bool> cancelled{false};
  RequestId id = 0;
  q.on_response = [&](const Response& r) {
    if (!r.token_ids.empty() && !cancelled.exchange(true)) ex.Cancel(id);
  };
  // The callback reads `id` only after Enqueue returned it: hold the graph
  // back by enqueueing under a batch whose first request is long.
  auto ids = ex.EnqueueBatch({q});
  ASSERT_TRUE(ids.ok());
  id = (*ids)[0];
  auto r = ex.Wait(id);
  ASSERT_TRUE(r.ok()) << r.status();
  if (r->finish_reason == FinishReason::kCancelled) {
    EXPECT_LT(r->token_ids.size(), 36u);
  }
  EXPECT_FALSE(ex.Cancel(id));  // already ended
  EXPECT_FALSE(ex.Cancel(12345));

  // Requests wrong before any work.
  Request none;
  EXPECT_EQ(ex.Enqueue(none).status().code(),
            absl::StatusCode::kInvalidArgument);
  Request unknown = q;
  unknown.on_response = nullptr;
  unknown.model = "nope";
  auto u = ex.Enqueue(unknown);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("no model 'nope'; the executor serves 1 "
                                      "model(s): llama"),
            std::string::npos)
      << u.status();
  Request bad = unknown;
  bad.model = "";
  bad.sampling.temperature = -1;
  EXPECT_EQ(ex.Enqueue(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  Request empty_stop = bad;
  empty_stop.sampling = {};
  empty_stop.stop_strings = {"ok", ""};
  EXPECT_EQ(ex.Enqueue(empty_stop).status().code(),
            absl::StatusCode::kInvalidArgument);
  Request out_of_vocab = bad;
  out_of_vocab.sampling = {};
  out_of_vocab.prompt_ids = {1, t.vocab};
  auto ov = ex.Enqueue(out_of_vocab);
  ASSERT_TRUE(ov.ok());
  auto ovr = ex.Wait(*ov);
  ASSERT_FALSE(ovr.ok());
  EXPECT_NE(ovr.status().message().find("is not a token id"),
            std::string::npos);
  Request text = out_of_vocab;
  text.prompt = "hello";
  auto tx = ex.Enqueue(text);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(ex.Wait(*tx).status().code(),
            absl::StatusCode::kFailedPrecondition);  // no tokenizer

  // Abort: queued and running requests end as cancelled; nothing after.
  std::vector<Request> many;
  for (int k = 0; k < 6; ++k) {
    Request m = unknown;
    m.model = "";
    m.prompt_ids = testing::TestPrompt(k, 2, t.vocab);
    m.generation_len = 30;
    many.push_back(m);
  }
  auto mids = ex.EnqueueBatch(many);
  ASSERT_TRUE(mids.ok());
  ex.Shutdown(ShutdownMode::kAbort);
  int cancelled_n = 0;
  for (RequestId m : *mids) {
    auto mr = ex.Wait(m);
    ASSERT_TRUE(mr.ok()) << mr.status();
    cancelled_n += mr->finish_reason == FinishReason::kCancelled;
  }
  EXPECT_GT(cancelled_n, 0);
  EXPECT_EQ(ex.Enqueue(many[0]).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_P(ExecutorTest, SeededSamplingIsReproducibleUnderLoad) {
  auto device = hw::OpenDevice(GetParam());
  ASSERT_TRUE(device.ok());
  TestLM t = Build(device->get(), "llama", 1, 3);
  auto run = [&](int extra) {
    Executor ex;
    QEFF_CHECK(ex.AddModel(Serve(t, GetParam())).ok());
    std::vector<Request> qs;
    for (int k = 0; k < 3 + extra; ++k) {
      Request q;
      q.prompt_ids = testing::TestPrompt(k, 4, t.vocab);
      q.generation_len = 12;
      q.sampling.temperature = 1.3f;
      q.sampling.top_k = 20;
      q.sampling.top_p = 0.9f;
      q.sampling.seed = 7 + k;
      qs.push_back(q);
    }
    auto ids = ex.EnqueueBatch(qs);
    QEFF_CHECK(ids.ok());
    std::vector<std::vector<int64_t>> out;
    for (RequestId id : *ids) out.push_back(ex.Wait(id)->token_ids);
    return out;
  };
  auto a = run(0), b = run(4);  // more requests sharing the slots
  for (int k = 0; k < 3; ++k) EXPECT_EQ(a[k], b[k]) << "request " << k;
  EXPECT_NE(a[0], a[1]);
}

INSTANTIATE_TEST_SUITE_P(Devices, ExecutorTest,
                         ::testing::Values("cpu", "reference"));

// Stop strings and streamed text on a real model with a tokenizer.
TEST(ExecutorStories, StopStringsAndStreamedText) {
  auto model = models::Load(qeff::testing::Stories260KGguf());
  ASSERT_TRUE(model.ok()) << model.status();
  auto device = hw::OpenDevice("cpu");
  ASSERT_TRUE(device.ok());
  auto g = TransformForDevice(model->eager, {.continuous_batching = true});
  ASSERT_TRUE(g.ok());
  auto p =
      (*device)->Compile(*g, hw::CausalLMSpecializations(16, 128, 1, 2), {});
  ASSERT_TRUE(p.ok()) << p.status();
  auto shared = std::make_shared<models::LoadedModel>(*std::move(model));
  Executor ex;
  ServedModel m;
  m.name = "stories260K";
  m.tokenizer =
      std::shared_ptr<const models::Tokenizer>(shared, shared->tokenizer.get());
  ServedProgram sp;
  sp.program = *p;
  m.programs.push_back(sp);
  ASSERT_TRUE(ex.AddModel(m).ok());

  Request q;
  q.prompt = "Once upon a time";
  q.generation_len = 60;
  std::string streamed;
  q.on_response = [&](const Response& r) { streamed += r.text; };
  auto id = ex.Enqueue(q);
  ASSERT_TRUE(id.ok());
  auto full = ex.Wait(*id);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(streamed, full->text);
  std::vector<int32_t> ids(full->token_ids.begin(), full->token_ids.end());
  EXPECT_EQ(shared->tokenizer->Decode(ids).value(), full->text);
  ASSERT_GT(full->text.size(), 40u) << full->text;

  // A stop string from the middle of that text: the completion ends right
  // before it, its tokens at the one that completed it; text that might
  // begin a stop string was held back, never streamed past it.
  const std::string stop = full->text.substr(20, 6);
  const size_t at = full->text.find(stop);
  Request s = q;
  s.stop_strings = {"never appears", stop};
  streamed.clear();
  s.on_response = [&](const Response& r) { streamed += r.text; };
  auto sid = ex.Enqueue(s);
  ASSERT_TRUE(sid.ok());
  auto cut = ex.Wait(*sid);
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_EQ(cut->finish_reason, FinishReason::kStopString);
  EXPECT_EQ(cut->text, full->text.substr(0, at));
  EXPECT_EQ(streamed, cut->text);
  ASSERT_LE(cut->token_ids.size(), full->token_ids.size());
  std::vector<int32_t> upto(cut->token_ids.begin(), cut->token_ids.end());
  std::vector<int32_t> before(upto.begin(), upto.end() - 1);
  const std::string with = shared->tokenizer->Decode(upto).value();
  const std::string without = shared->tokenizer->Decode(before).value();
  EXPECT_NE(with.find(stop), std::string::npos);
  EXPECT_EQ(without.find(stop), std::string::npos);
  EXPECT_TRUE(std::equal(cut->token_ids.begin(), cut->token_ids.end(),
                         full->token_ids.begin()));
}

}  // namespace
}  // namespace qeff::engine
