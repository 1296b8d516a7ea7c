#include "engine/executor.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "engine/generation_common.h"
#include "hw/device_registry.h"
#include "oneapi/tbb/flow_graph.h"

namespace qeff::engine {
namespace {

using Clock = std::chrono::steady_clock;
namespace flow = tbb::flow;

struct Instance;
struct Model;

// A request in flight: its Sequence (the step node's part) and what the
// other nodes keep.
struct RequestState : Sequence {
  Request request;
  Model* model = nullptr;
  Instance* instance = nullptr;
  Clock::time_point enqueued;
  // Before admission: the status that ends it in tokenize/route.
  // Stream node only:
  std::optional<models::StreamingDecoder> decoder;
  std::string delivered;  // text sent
  std::string held;       // text that may begin a stop string
  int64_t streamed = 0;   // tokens seen
  std::vector<int64_t> tokens;
  bool finalized = false;
  // Under Impl::mu: responses not yet awaited.
  std::deque<Response> responses;
  bool final_queued = false;
};
using RequestPtr = std::shared_ptr<RequestState>;

struct Work {
  std::vector<RequestPtr> requests;
};
using Events = std::vector<StepEvent>;
struct StepMsg {
  std::vector<SequencePtr> admit;
  bool step = false;  // run the instance's next step
};
using StepNode = flow::multifunction_node<StepMsg, std::tuple<StepMsg, Events>>;

struct Instance {
  std::string name;
  Model* model = nullptr;
  std::unique_ptr<hw::Session> owned;
  std::unique_ptr<InstanceScheduler> scheduler;
  std::unique_ptr<StepNode> node;
  bool step_posted = false;      // step node only
  std::atomic<int64_t> load{0};  // routed and not finished
  mutable std::mutex counters_mu;
  InstanceScheduler::Counters counters;  // a copy after each step
};

struct Model {
  std::string name;
  std::shared_ptr<const models::Tokenizer> tokenizer;
  int64_t vocab_size = 0, eos_id = -1;
  // Programs by ctx_len (ascending); each has its instances.
  std::vector<std::vector<Instance*>> programs;
};

}  // namespace

// Fairness: a step node sends its next step to itself, and a worker runs
// the tasks it spawned first; without priorities one instance would run its
// sequences to the end before the graph admits what was enqueued meanwhile.
// Admission (tokenize, route) comes before streaming, streaming before
// steps.
constexpr flow::node_priority_t kAdmitPriority = 2;
constexpr flow::node_priority_t kStreamPriority = 1;

struct Executor::Impl {
  Impl()
      : tokenize(
            graph, flow::unlimited,
            [this](Work w) { return Tokenize(std::move(w)); }, kAdmitPriority),
        route(
            graph, flow::serial,
            [this](const Work& w) {
              Route(w);
              return flow::continue_msg();
            },
            kAdmitPriority),
        stream(
            graph, flow::serial,
            [this](const Events& e) {
              Stream(e);
              return flow::continue_msg();
            },
            kStreamPriority) {
    flow::make_edge(tokenize, route);
  }

  Work Tokenize(Work w);
  void Route(const Work& w);
  void Stream(const Events& events);
  void StepBody(Instance* inst, const StepMsg& m,
                StepNode::output_ports_type& p);
  // Ends `r` before admission (tokenize, route) through the stream node.
  void EndEarly(const RequestPtr& r, FinishReason reason, absl::Status status);
  void Deliver(RequestState* r, Response response);
  // Sends r's final response. The step node's end of it (seq fields) unless
  // the stream node ended it itself (`own`: a stop string or an internal
  // error), which the step node learns later.
  struct OwnEnd {
    FinishReason reason;
    absl::Status status;
  };
  void Finalize(RequestState* r, std::optional<OwnEnd> own = std::nullopt);
  absl::StatusOr<Model*> FindModel(const std::string& name);
  absl::StatusOr<hw::Device*> PoolDevice(const std::string& spec);

  flow::graph graph;
  flow::function_node<Work, Work> tokenize;
  flow::function_node<Work, flow::continue_msg> route;
  flow::function_node<Events, flow::continue_msg> stream;

  mutable std::mutex mu;  // models, devices, requests, counters
  std::condition_variable cv;
  std::vector<std::unique_ptr<Model>> models;
  // Devices outlive the sessions loaded on them.
  std::map<std::string, std::unique_ptr<hw::Device>> devices;
  std::vector<std::unique_ptr<Instance>> instances;
  std::map<RequestId, RequestPtr> requests;
  RequestId next_id = 1;
  bool accepting = true;
  ExecutorStats counts;  // enqueued..generated_tokens
};

// ---- tokenize ----

Work Executor::Impl::Tokenize(Work w) {
  Work live;
  for (RequestPtr& r : w.requests) {
    const Request& q = r->request;
    if (q.prompt) {
      if (!r->model->tokenizer) {
        EndEarly(r, FinishReason::kError,
                 absl::FailedPreconditionError(
                     absl::StrCat("model '", r->model->name,
                                  "' has no tokenizer: give prompt ids")));
        continue;
      }
      auto ids = r->model->tokenizer->EncodePrompt(*q.prompt);
      if (!ids.ok()) {
        EndEarly(r, FinishReason::kError, ids.status());
        continue;
      }
      r->prompt.assign(ids->begin(), ids->end());
    } else {
      r->prompt = q.prompt_ids;
    }
    if (r->prompt.empty()) {
      EndEarly(r, FinishReason::kError,
               absl::InvalidArgumentError("the prompt has no tokens"));
      continue;
    }
    bool ok = true;
    for (size_t j = 0; j < r->prompt.size() && ok; ++j) {
      const int64_t id = r->prompt[j];
      if (id < 0 || (r->model->vocab_size > 0 && id >= r->model->vocab_size)) {
        EndEarly(r, FinishReason::kError,
                 absl::InvalidArgumentError(absl::StrCat(
                     "prompt id ", id, " at index ", j,
                     " is not a token id in [0, ", r->model->vocab_size, ")")));
        ok = false;
      }
    }
    if (ok) live.requests.push_back(std::move(r));
  }
  return live;
}

// ---- route ----

void Executor::Impl::Route(const Work& w) {
  // Requests for one instance go in one admission message, in order.
  std::vector<std::pair<Instance*, std::vector<SequencePtr>>> batches;
  for (const RequestPtr& r : w.requests) {
    if (r->stop_requested.load()) {
      EndEarly(r, FinishReason::kCancelled, absl::OkStatus());
      continue;
    }
    const Request& q = r->request;
    const int64_t L = static_cast<int64_t>(r->prompt.size());
    Model* m = r->model;
    // The smallest ctx_len that holds the whole generation; with
    // stop_at_ctx_len, else the largest that holds the prompt.
    const std::vector<Instance*>* chosen = nullptr;
    int64_t limit = 0;
    for (const auto& prog : m->programs) {
      const int64_t ctx = prog[0]->scheduler->shape().ctx_len;
      if (TokensWithinCapacity(L, q.generation_len, ctx).ok()) {
        chosen = &prog;
        limit = q.generation_len;
        break;
      }
    }
    if (!chosen && q.stop_at_ctx_len) {
      for (auto it = m->programs.rbegin(); it != m->programs.rend(); ++it) {
        auto n = TokensWithinCapacity(
            L, q.generation_len, (*it)[0]->scheduler->shape().ctx_len, true);
        if (n.ok()) {
          chosen = &*it;
          limit = *n;
          break;
        }
      }
    }
    if (!chosen) {
      std::vector<int64_t> ctxs;
      for (const auto& prog : m->programs)
        ctxs.push_back(prog[0]->scheduler->shape().ctx_len);
      EndEarly(r, FinishReason::kError,
               absl::InvalidArgumentError(absl::StrCat(
                   "a prompt of ", L, " tokens and ", q.generation_len,
                   " generated tokens need ctx_len >= ",
                   L + q.generation_len - 1, ", but model '", m->name,
                   "' is compiled for ctx_len ", absl::StrJoin(ctxs, ", "))));
      continue;
    }
    Instance* best = nullptr;
    double best_load = std::numeric_limits<double>::infinity();
    for (Instance* inst : *chosen) {
      const double load = static_cast<double>(inst->load.load()) /
                          inst->scheduler->shape().rows;
      if (load < best_load) {
        best_load = load;
        best = inst;
      }
    }
    r->limit = limit;
    r->capped = limit < q.generation_len;
    r->eos_id = !q.stop_at_eos ? -1 : q.eos_id ? *q.eos_id : m->eos_id;
    if (!IsPlainGreedy(q.sampling)) r->sampler.emplace(q.sampling);
    r->instance = best;
    best->load.fetch_add(1);
    auto it = std::find_if(batches.begin(), batches.end(),
                           [&](const auto& b) { return b.first == best; });
    if (it == batches.end()) {
      batches.push_back({best, {}});
      it = batches.end() - 1;
    }
    it->second.push_back(r);
  }
  for (auto& [inst, seqs] : batches) {
    StepMsg m;
    m.admit = std::move(seqs);
    inst->node->try_put(std::move(m));
  }
}

// ---- step ----

void Executor::Impl::StepBody(Instance* inst, const StepMsg& m,
                              StepNode::output_ports_type& ports) {
  InstanceScheduler& s = *inst->scheduler;
  Events events;
  if (!m.admit.empty()) s.Admit(m.admit);
  if (m.step) {
    inst->step_posted = false;
    // The step due now (admission may have come since it was posted).
    if (std::optional<StepKind> k = s.NextStep()) s.RunStep(*k, &events);
  }
  if (!inst->step_posted && s.NextStep()) {
    inst->step_posted = true;
    StepMsg next;
    next.step = true;
    std::get<0>(ports).try_put(next);
  }
  {
    std::lock_guard<std::mutex> lock(inst->counters_mu);
    inst->counters = s.counters();
  }
  for (const StepEvent& e : events)
    if (e.final) inst->load.fetch_sub(1);
  if (!events.empty()) std::get<1>(ports).try_put(std::move(events));
}

// ---- stream ----

void Executor::Impl::EndEarly(const RequestPtr& r, FinishReason reason,
                              absl::Status status) {
  r->finish = reason;
  r->error = std::move(status);
  r->admitted = r->first_token = r->finished = Clock::now();
  stream.try_put(Events{StepEvent{r, -1, -1, true}});
}

void Executor::Impl::Deliver(RequestState* r, Response response) {
  response.id = r->id;
  if (r->request.on_response) {
    r->request.on_response(response);
    if (!response.is_final) return;
  }
  std::lock_guard<std::mutex> lock(mu);
  r->final_queued = r->final_queued || response.is_final;
  r->responses.push_back(std::move(response));
  cv.notify_all();
}

void Executor::Impl::Finalize(RequestState* r, std::optional<OwnEnd> own) {
  r->finalized = true;
  // Fields the step node wrote before the events seen so far; with `own`,
  // the step node may still be running it, so only those are read.
  const FinishReason reason = own ? own->reason : r->finish;
  const absl::Status status = own ? own->status : r->error;
  const Clock::time_point finished = own ? Clock::now() : r->finished;
  auto result = std::make_shared<RequestResult>();
  result->prompt_ids = r->prompt;
  result->token_ids = r->tokens;
  result->finish_reason = reason;
  RequestStats& st = result->stats;
  if (r->instance) {
    st.instance = r->instance->name;
    st.ctx_len = r->instance->scheduler->shape().ctx_len;
  }
  st.slot = r->slot;
  st.queue_s = SecondsBetween(r->enqueued, r->admitted);
  st.ttft_s = SecondsBetween(r->enqueued, r->first_token);
  st.e2e_s = SecondsBetween(r->enqueued, finished);
  const double decode_s = SecondsBetween(r->first_token, finished);
  st.decode_tok_s = r->tokens.size() > 1 && decode_s > 0
                        ? (r->tokens.size() - 1) / decode_s
                        : 0;
  st.admitted_step = r->admitted_step;
  st.prefill_steps = r->prefill_steps;
  // One decode step per token after the first.
  st.decode_steps =
      own ? std::max<int64_t>(0, static_cast<int64_t>(r->tokens.size()) - 1)
          : r->decode_steps;
  st.retired_step = own ? st.admitted_step + st.decode_steps : r->retired_step;
  Response final;
  final.is_final = true;
  final.status = status;
  if (reason != FinishReason::kStopString) {
    if (r->decoder) r->held += r->decoder->Finish();
    final.text = std::move(r->held);
    r->held.clear();
    r->delivered += final.text;
  }
  result->text = r->delivered;
  final.result = std::move(result);
  {
    std::lock_guard<std::mutex> lock(mu);
    counts.generated_tokens += static_cast<int64_t>(r->tokens.size());
    if (!status.ok())
      ++counts.failed;
    else if (reason == FinishReason::kCancelled)
      ++counts.cancelled;
    else
      ++counts.completed;
  }
  Deliver(r, std::move(final));
}

namespace {
// Length of the longest suffix of `text` that is a proper prefix of one of
// `stops` (text that may still become a stop string).
size_t HeldSuffix(const std::string& text,
                  const std::vector<std::string>& stops) {
  size_t keep = 0;
  for (const std::string& s : stops) {
    for (size_t k = std::min(text.size(), s.size() - 1); k > keep; --k) {
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        keep = k;
        break;
      }
    }
  }
  return keep;
}
}  // namespace

void Executor::Impl::Stream(const Events& events) {
  for (const StepEvent& e : events) {
    RequestState* r = static_cast<RequestState*>(e.seq.get());
    if (r->finalized) continue;
    if (e.final) {
      Finalize(r);
      continue;
    }
    if (e.index != r->streamed) {
      r->stop_requested = true;
      Finalize(r, OwnEnd{FinishReason::kError,
                         absl::InternalError(absl::StrCat("token ", e.index,
                                                          " arrived as token ",
                                                          r->streamed))});
      continue;
    }
    ++r->streamed;
    r->tokens.push_back(e.token);
    const models::Tokenizer* tok = r->model->tokenizer.get();
    if (tok && !r->decoder) r->decoder.emplace(tok);
    if (r->decoder) r->held += r->decoder->Push(static_cast<int32_t>(e.token));
    Response piece;
    piece.token_ids = {e.token};
    const std::vector<std::string>& stops = r->request.stop_strings;
    if (!stops.empty()) {
      // A stop string can only end in the new text: search from where the
      // longest one could start.
      const std::string all = r->delivered + r->held;
      size_t longest = 0;
      for (const std::string& s : stops) longest = std::max(longest, s.size());
      const size_t from = r->delivered.size() + 1 > longest
                              ? r->delivered.size() + 1 - longest
                              : 0;
      size_t at = std::string::npos;
      for (const std::string& s : stops) {
        at = std::min(at, all.find(s, from));
      }
      if (at != std::string::npos) {
        piece.text = all.substr(r->delivered.size(), at - r->delivered.size());
        r->delivered += piece.text;
        r->held.clear();
        Deliver(r, std::move(piece));
        r->stop_requested = true;  // the step node retires it
        Finalize(r, OwnEnd{FinishReason::kStopString, absl::OkStatus()});
        continue;
      }
    }
    const size_t keep = HeldSuffix(r->held, stops);
    piece.text = r->held.substr(0, r->held.size() - keep);
    r->held.erase(0, r->held.size() - keep);
    r->delivered += piece.text;
    Deliver(r, std::move(piece));
  }
}

// ---- the executor ----

absl::StatusOr<Model*> Executor::Impl::FindModel(const std::string& name) {
  if (name.empty() && models.size() == 1) return models[0].get();
  for (const auto& m : models)
    if (m->name == name) return m.get();
  std::vector<std::string> names;
  for (const auto& m : models) names.push_back(m->name);
  return absl::NotFoundError(absl::StrCat(
      name.empty()
          ? "no model named and the executor serves "
          : absl::StrCat("no model '", name, "'; the executor serves "),
      names.size(),
      " model(s): ", names.empty() ? "(none)" : absl::StrJoin(names, ", ")));
}

absl::StatusOr<hw::Device*> Executor::Impl::PoolDevice(
    const std::string& spec) {
  auto it = devices.find(spec);
  if (it != devices.end()) return it->second.get();
  QEFF_ASSIGN_OR_RETURN(std::unique_ptr<hw::Device> d, hw::OpenDevice(spec));
  hw::Device* raw = d.get();
  devices[spec] = std::move(d);
  return raw;
}

Executor::Executor() : impl_(std::make_unique<Impl>()) {}

Executor::~Executor() { Shutdown(ShutdownMode::kAbort); }

absl::Status Executor::AddModel(ServedModel served) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (served.name.empty())
    return absl::InvalidArgumentError("AddModel: the model needs a name");
  for (const auto& m : impl_->models)
    if (m->name == served.name)
      return absl::AlreadyExistsError(
          absl::StrCat("AddModel: a model '", served.name, "' is served"));
  if (served.programs.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("AddModel '", served.name, "': no programs"));
  auto model = std::make_unique<Model>();
  model->name = served.name;
  model->tokenizer = served.tokenizer;
  model->vocab_size = served.vocab_size > 0 ? served.vocab_size
                      : served.tokenizer    ? served.tokenizer->vocab_size()
                                            : 0;
  model->eos_id = served.eos_id >= 0 ? served.eos_id
                  : served.tokenizer ? served.tokenizer->eos_id()
                                     : -1;
  std::vector<std::unique_ptr<Instance>> made;
  std::vector<std::vector<Instance*>> programs;
  for (size_t p = 0; p < served.programs.size(); ++p) {
    const ServedProgram& sp = served.programs[p];
    const std::string where =
        absl::StrCat("AddModel '", served.name, "' program ", p, ": ");
    absl::StatusOr<BatchShape> shape =
        sp.shape ? absl::StatusOr<BatchShape>(*sp.shape)
        : sp.program
            ? BatchShapeOf(sp.program->specializations())
            : absl::InvalidArgumentError("neither a program nor a shape");
    if (!shape.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(where, shape.status().message()));
    std::vector<Instance*> group;
    auto add = [&](std::string device, std::unique_ptr<hw::Session> owned,
                   hw::Session* session) {
      auto inst = std::make_unique<Instance>();
      inst->name = absl::StrCat(served.name, "@", device);
      inst->model = model.get();
      inst->owned = std::move(owned);
      inst->scheduler =
          std::make_unique<InstanceScheduler>(session, *shape, served.pad_id);
      Instance* raw = inst.get();
      inst->node = std::make_unique<StepNode>(
          impl_->graph, flow::serial,
          [this, raw](const StepMsg& m, StepNode::output_ports_type& ports) {
            impl_->StepBody(raw, m, ports);
          });
      group.push_back(raw);
      made.push_back(std::move(inst));
    };
    if (sp.session) {
      add(sp.label.empty() ? "session" : sp.label, nullptr, sp.session);
    } else {
      if (!sp.program)
        return absl::InvalidArgumentError(
            absl::StrCat(where, "neither a program nor a session"));
      if (sp.devices.empty())
        return absl::InvalidArgumentError(absl::StrCat(where, "no devices"));
      for (const std::string& spec : sp.devices) {
        auto device = impl_->PoolDevice(spec);
        if (!device.ok())
          return absl::Status(device.status().code(),
                              absl::StrCat(where, device.status().message()));
        hw::Device::LoadOptions lo;
        lo.num_cores = sp.num_cores;
        auto session = (*device)->Load(sp.program, lo);
        if (!session.ok())
          return absl::Status(session.status().code(),
                              absl::StrCat(where, "loading on ", spec, ": ",
                                           session.status().message()));
        hw::Session* raw = session->get();
        add((*device)->name(), *std::move(session), raw);
      }
    }
    programs.push_back(std::move(group));
  }
  std::stable_sort(programs.begin(), programs.end(),
                   [](const auto& a, const auto& b) {
                     return a[0]->scheduler->shape().ctx_len <
                            b[0]->scheduler->shape().ctx_len;
                   });
  for (auto& inst : made) {
    flow::make_edge(flow::output_port<0>(*inst->node), *inst->node);
    flow::make_edge(flow::output_port<1>(*inst->node), impl_->stream);
    impl_->instances.push_back(std::move(inst));
  }
  model->programs = std::move(programs);
  impl_->models.push_back(std::move(model));
  return absl::OkStatus();
}

absl::StatusOr<RequestId> Executor::Enqueue(Request request) {
  std::vector<Request> one;
  one.push_back(std::move(request));
  QEFF_ASSIGN_OR_RETURN(std::vector<RequestId> ids,
                        EnqueueBatch(std::move(one)));
  return ids[0];
}

absl::StatusOr<std::vector<RequestId>> Executor::EnqueueBatch(
    std::vector<Request> requests) {
  Work work;
  std::vector<RequestId> ids;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->accepting)
      return absl::FailedPreconditionError("the executor is shut down");
    std::vector<Model*> models;
    for (size_t i = 0; i < requests.size(); ++i) {
      const Request& q = requests[i];
      const std::string where =
          requests.size() > 1 ? absl::StrCat("request ", i, ": ") : "";
      auto m = impl_->FindModel(q.model);
      if (!m.ok())
        return absl::Status(m.status().code(),
                            absl::StrCat(where, m.status().message()));
      if (!q.prompt && q.prompt_ids.empty())
        return absl::InvalidArgumentError(
            absl::StrCat(where, "the request has no prompt"));
      if (q.generation_len <= 0)
        return absl::InvalidArgumentError(absl::StrCat(
            where, "generation_len must be positive, got ", q.generation_len));
      for (const std::string& stop : q.stop_strings)
        if (stop.empty())
          return absl::InvalidArgumentError(
              absl::StrCat(where, "a stop string is empty"));
      absl::Status sv = ValidateSamplingParams(q.sampling);
      if (!sv.ok())
        return absl::Status(sv.code(), absl::StrCat(where, sv.message()));
      models.push_back(*m);
    }
    const auto now = Clock::now();
    for (size_t i = 0; i < requests.size(); ++i) {
      auto r = std::make_shared<RequestState>();
      r->id = impl_->next_id++;
      r->request = std::move(requests[i]);
      r->model = models[i];
      r->enqueued = now;
      impl_->requests[r->id] = r;
      ids.push_back(r->id);
      work.requests.push_back(std::move(r));
    }
    impl_->counts.enqueued += static_cast<int64_t>(ids.size());
  }
  if (!work.requests.empty()) impl_->tokenize.try_put(std::move(work));
  return ids;
}

absl::StatusOr<std::vector<Response>> Executor::AwaitResponses(
    RequestId id, std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  auto it = impl_->requests.find(id);
  if (it == impl_->requests.end())
    return absl::NotFoundError(
        absl::StrCat("request ", id, " is not known (or already ended)"));
  RequestPtr r = it->second;
  auto ready = [&] { return !r->responses.empty(); };
  if (timeout)
    impl_->cv.wait_for(lock, *timeout, ready);
  else
    impl_->cv.wait(lock, ready);
  std::vector<Response> out(std::make_move_iterator(r->responses.begin()),
                            std::make_move_iterator(r->responses.end()));
  r->responses.clear();
  if (!out.empty() && out.back().is_final) impl_->requests.erase(id);
  return out;
}

absl::StatusOr<RequestResult> Executor::Wait(RequestId id) {
  while (true) {
    QEFF_ASSIGN_OR_RETURN(std::vector<Response> rs, AwaitResponses(id));
    if (!rs.empty() && rs.back().is_final) {
      if (!rs.back().status.ok()) return rs.back().status;
      return *rs.back().result;
    }
  }
}

bool Executor::Cancel(RequestId id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->requests.find(id);
  if (it == impl_->requests.end() || it->second->final_queued) return false;
  it->second->stop_requested = true;
  return true;
}

void Executor::Shutdown(ShutdownMode mode) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->accepting = false;
    if (mode == ShutdownMode::kAbort)
      for (auto& [id, r] : impl_->requests) r->stop_requested = true;
  }
  impl_->graph.wait_for_all();
}

ExecutorStats Executor::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  ExecutorStats s = impl_->counts;
  s.instances.clear();
  for (const auto& inst : impl_->instances) {
    InstanceStats is;
    is.name = inst->name;
    is.shape = inst->scheduler->shape();
    std::lock_guard<std::mutex> c(inst->counters_mu);
    is.prefill_steps = inst->counters.prefill_steps;
    is.decode_steps = inst->counters.decode_steps;
    is.generated_tokens = inst->counters.generated_tokens;
    is.mean_active_rows =
        is.decode_steps > 0
            ? static_cast<double>(inst->counters.active_rows_sum) /
                  is.decode_steps
            : 0;
    s.instances.push_back(std::move(is));
  }
  return s;
}

}  // namespace qeff::engine
