// //tools:serve — an OpenAI-compatible HTTP server over the inference
// graph: several models at once, streaming (server-sent events), bounded
// queue and body size, optional API key, graceful shutdown on SIGTERM or
// SIGINT (in-flight requests finish; the listener closes first).
//
//   bazel run //tools:serve --
//   --model=stories=models/stories260K/stories260K.gguf
//       --model=tiny=/tmp/llama --port=8080 --device=cpu:2/0,cpu:2/1
//
// HTTP is cpp-httplib (Debian's libcpp-httplib-dev): a small, well-kept
// blocking server with a thread pool and chunked responses, which is all
// this needs (Boost.Beast would bring Asio's asynchronous model for no
// gain here: generation waits on the executor, not on sockets).
//
// Endpoints: GET /v1/models, POST /v1/completions, POST /v1/embeddings
// (models given with --embedding_model; tools/embedding_service.h), GET
// /health (200 when every model is loaded, 503 while loading).
// /v1/chat/completions is a 404 until chat templates exist.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "httplib.h"
#include "tools/cli.h"
#include "tools/completion_service.h"
#include "tools/embedding_service.h"
#include "tools/openai_api.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 8080, "port to listen on (0: any free port, printed)");
ABSL_FLAG(std::vector<std::string>, model, {},
          "NAME=PATH of a served model (repeat the flag, or separate with "
          "commas): a GGUF, llama2.c .bin, Hugging Face folder or ORG/NAME");
ABSL_FLAG(std::vector<std::string>, embedding_model, {},
          "NAME=PATH of a served embedding model (POST /v1/embeddings): an "
          "encoder (BERT, nomic-bert) or a causal LM; comma-separated");
ABSL_FLAG(std::string, embedding_pooling, "mean",
          "embedding models' pooling: mean | avg | cls | max | last");
ABSL_FLAG(std::string, embedding_normalize, "none",
          "embedding models' normalisation: none | l2");
ABSL_FLAG(std::vector<std::string>, embedding_seq_len,
          std::vector<std::string>({"32", "128"}),
          "embedding models' compiled lengths (the smallest that fits runs)");
ABSL_FLAG(int64_t, prompt_len, 32, "prefill chunk length (seq_len)");
ABSL_FLAG(std::vector<std::string>, ctx_len, {"128"},
          "context lengths to compile (a request runs on the smallest that "
          "holds it), e.g. 128,512");
ABSL_FLAG(int64_t, full_batch_size, 4,
          "continuous-batching slots per model program (0: batch 1)");
ABSL_FLAG(std::vector<std::string>, device, {"cpu"},
          "device pool, e.g. cpu:2/0,cpu:2/1; models are spread over it "
          "(model i on device i mod N) unless --place_on_all");
ABSL_FLAG(bool, place_on_all, false, "load every model on every device");
ABSL_FLAG(int, num_cores, 0, "cores per session (0: the device's)");
ABSL_FLAG(bool, mxfp6_matmul, false, "MXFP6 weights");
ABSL_FLAG(bool, mxint8_kv_cache, false, "MXINT8 KV cache");
ABSL_FLAG(std::string, api_key, "",
          "require 'Authorization: Bearer KEY' (empty: no key)");
ABSL_FLAG(int64_t, max_body_bytes, 1 << 20, "largest request body (413)");
ABSL_FLAG(int64_t, max_queue, 64, "prompts in flight before 429");
ABSL_FLAG(int, http_threads, 32, "HTTP worker threads");

namespace qeff::tools {
namespace {

void Send(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message,
               const std::string& type = "invalid_request_error") {
  ApiError e;
  e.http_status = status;
  e.message = message;
  e.type = type;
  Send(res, status, ApiErrorJson(e));
}

std::vector<std::string> AllIds(std::vector<std::string> a,
                                const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

absl::Status Serve(const std::string&) {
  std::vector<ModelSpec> specs;
  for (const std::string& m : absl::GetFlag(FLAGS_model)) {
    QEFF_ASSIGN_OR_RETURN(ModelSpec s, ParseModelSpec(m));
    specs.push_back(s);
  }
  std::vector<ModelSpec> embedding_specs;
  for (const std::string& m : absl::GetFlag(FLAGS_embedding_model)) {
    QEFF_ASSIGN_OR_RETURN(ModelSpec s, ParseModelSpec(m));
    embedding_specs.push_back(s);
  }
  if (specs.empty() && embedding_specs.empty())
    return absl::InvalidArgumentError(
        "give at least one --model=NAME=PATH or --embedding_model=NAME=PATH");
  EmbeddingServiceOptions eo;
  QEFF_ASSIGN_OR_RETURN(
      eo.pooling.pooling,
      passes::ParsePooling(absl::GetFlag(FLAGS_embedding_pooling)));
  const std::string norm = absl::GetFlag(FLAGS_embedding_normalize);
  if (norm != "none" && norm != "l2")
    return absl::InvalidArgumentError(
        absl::StrCat("--embedding_normalize: '", norm, "' (use none or l2)"));
  eo.pooling.l2_normalize = norm == "l2";
  eo.seq_lens.clear();
  for (const std::string& c : absl::GetFlag(FLAGS_embedding_seq_len)) {
    int64_t v;
    if (!absl::SimpleAtoi(c, &v) || v <= 0)
      return absl::InvalidArgumentError(absl::StrCat(
          "--embedding_seq_len: '", c, "' is not a positive integer"));
    eo.seq_lens.push_back(v);
  }
  eo.device = absl::GetFlag(FLAGS_device).empty()
                  ? "cpu"
                  : absl::GetFlag(FLAGS_device).front();
  eo.num_cores = absl::GetFlag(FLAGS_num_cores);
  EmbeddingService embeddings(eo);
  std::atomic<bool> embeddings_ready{false};
  ServiceOptions o;
  o.prefill_seq_len = absl::GetFlag(FLAGS_prompt_len);
  o.ctx_lens.clear();
  for (const std::string& c : absl::GetFlag(FLAGS_ctx_len)) {
    int64_t v;
    if (!absl::SimpleAtoi(c, &v) || v <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat("--ctx_len: '", c, "' is not a positive integer"));
    o.ctx_lens.push_back(v);
  }
  o.full_batch_size = absl::GetFlag(FLAGS_full_batch_size);
  o.devices = absl::GetFlag(FLAGS_device);
  o.place_on_all = absl::GetFlag(FLAGS_place_on_all);
  o.num_cores = absl::GetFlag(FLAGS_num_cores);
  o.mxfp6_matmul = absl::GetFlag(FLAGS_mxfp6_matmul);
  o.mxint8_kv_cache = absl::GetFlag(FLAGS_mxint8_kv_cache);
  o.max_queue = absl::GetFlag(FLAGS_max_queue);
  if (o.full_batch_size < 0 || o.max_queue <= 0 ||
      absl::GetFlag(FLAGS_max_body_bytes) <= 0 ||
      absl::GetFlag(FLAGS_http_threads) <= 0)
    return absl::InvalidArgumentError(
        "--full_batch_size must be >= 0; --max_queue, --max_body_bytes and "
        "--http_threads positive");

  // SIGTERM/SIGINT go to one waiting thread, not to whichever thread runs.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  CompletionService service(o);
  auto all_ready = [&] {
    return (specs.empty() || service.ready()) && embeddings_ready;
  };
  httplib::Server server;
  const int threads = absl::GetFlag(FLAGS_http_threads);
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);
  };
  server.set_payload_max_length(
      static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes)));
  const std::string key = absl::GetFlag(FLAGS_api_key);
  server.set_pre_routing_handler(
      [&](const httplib::Request& req, httplib::Response& res) {
        if (key.empty() || req.path == "/health")
          return httplib::Server::HandlerResponse::Unhandled;
        if (req.get_header_value("Authorization") != "Bearer " + key) {
          SendError(res, 401,
                    "Incorrect API key provided (send 'Authorization: "
                    "Bearer KEY')",
                    "invalid_api_key");
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413)
      SendError(res, 413, "the request body is larger than --max_body_bytes");
    else if (res.status == 404)
      SendError(res, 404, "no such endpoint");
    else
      SendError(res, res.status, "bad request");
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendError(res, 500, "internal error", "server_error");
      });
  server.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
    if (all_ready())
      Send(res, 200, "{\"status\":\"ok\"}");
    else
      SendError(res, 503, "loading models", "server_error");
  });
  server.Get("/v1/models", [&](const httplib::Request&,
                               httplib::Response& res) {
    Send(res, 200,
         ModelListJson(all_ready()
                           ? AllIds(service.model_ids(), embeddings.model_ids())
                           : std::vector<std::string>{},
                       std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count()));
  });
  server.Post("/v1/chat/completions",
              [](const httplib::Request&, httplib::Response& res) {
                SendError(res, 404,
                          "/v1/chat/completions is not available: qeff has "
                          "no chat templates yet; use /v1/completions");
              });
  server.Post("/v1/embeddings",
              [&](const httplib::Request& req, httplib::Response& res) {
                if (!embeddings_ready) {
                  SendError(res, 503, "loading models", "server_error");
                  return;
                }
                CompletionService::Reply r = embeddings.Embed(req.body);
                Send(res, r.status, r.body);
              });
  server.Post("/v1/completions", [&](const httplib::Request& req,
                                     httplib::Response& res) {
    if (specs.empty()) {
      SendError(res, 404,
                "no completion models are served (only --embedding_model)",
                "invalid_request_error");
      return;
    }
    std::shared_ptr<CompletionService::Stream> stream;
    CompletionService::Reply r = service.Complete(req.body, &stream);
    if (!stream) {
      Send(res, r.status, r.body);
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream", [stream](size_t, httplib::DataSink& sink) {
          std::string payload;
          const bool more = stream->Next(&payload);
          const std::string event = absl::StrCat("data: ", payload, "\n\n");
          if (!sink.write(event.data(), event.size())) {
            stream->Cancel();  // the client went away
            return false;
          }
          if (!more) sink.done();
          return true;
        });
  });

  const std::string host = absl::GetFlag(FLAGS_host);
  int port = absl::GetFlag(FLAGS_port);
  if (port == 0) {
    port = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port));
  }
  if (port < 0)
    return absl::UnavailableError(absl::StrCat("cannot listen on ", host));
  std::cout << "serve: listening on http://" << host << ":" << port
            << " (loading " << specs.size() + embedding_specs.size()
            << " model(s))" << std::endl;
  std::thread listener([&] { server.listen_after_bind(); });
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::cout << "serve: signal " << sig
              << ": finishing in-flight requests, then exiting" << std::endl;
    // New requests get 503 while open responses finish; then the listener
    // closes (httplib's stop() would cut running streams).
    service.Drain(std::chrono::seconds(120));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server.stop();
  });
  // The completion service needs a model; embeddings-only servers skip it.
  absl::Status loaded = specs.empty() ? absl::OkStatus() : service.Load(specs);
  if (loaded.ok()) loaded = embeddings.Load(embedding_specs);
  if (loaded.ok()) embeddings_ready = true;
  if (!loaded.ok()) {
    kill(getpid(), SIGTERM);
    stopper.join();
    listener.join();
    return loaded;
  }
  std::cout << "serve: ready: "
            << absl::StrJoin(
                   AllIds(service.model_ids(), embeddings.model_ids()), ", ")
            << std::endl;
  listener.join();
  stopper.join();
  service.Shutdown();
  engine::ExecutorStats st = service.stats();
  std::cout << "serve: stopped after " << st.completed << " completed, "
            << st.failed << " failed, " << st.cancelled << " cancelled, "
            << st.generated_tokens << " tokens" << std::endl;
  return absl::OkStatus();
}

}  // namespace

// Abseil's list flags keep only their last occurrence; --model may be
// repeated, so its occurrences are joined into one comma-separated value.
std::vector<char*> JoinRepeatedModelFlags(int argc, char** argv,
                                          std::vector<std::string>* storage) {
  std::vector<std::string> models;
  std::vector<std::string> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    for (const char* prefix : {"--model=", "-model="}) {
      if (absl::StartsWith(a, prefix)) {
        models.push_back(a.substr(std::string(prefix).size()));
        a.clear();
        break;
      }
    }
    if ((a == "--model" || a == "-model") && i + 1 < argc) {
      models.push_back(argv[++i]);
      a.clear();
    }
    if (!a.empty()) rest.push_back(a);
  }
  if (!models.empty()) rest.push_back("--model=" + absl::StrJoin(models, ","));
  *storage = std::move(rest);
  std::vector<char*> out;
  for (std::string& a : *storage) out.push_back(a.data());
  return out;
}

}  // namespace qeff::tools

int main(int argc, char** argv) {
  std::vector<std::string> storage;
  std::vector<char*> args =
      qeff::tools::JoinRepeatedModelFlags(argc, argv, &storage);
  return qeff::tools::RunTool(
      static_cast<int>(args.size()), args.data(), "serve",
      "serve --model=NAME=PATH [--model=...] [--port=8080] [--device=...]: an "
      "OpenAI-compatible completions server",
      qeff::tools::Serve);
}
