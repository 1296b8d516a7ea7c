// Sentence-embedding throughput: qeff's QEFFAutoModel (cpu device) vs
// llama.cpp's llama-embedding on the same BERT-base-shaped GGUF (hidden 768,
// 12 layers, 12 heads, ffn 3072, 512 positions, the BGE WordPiece
// vocabulary; random weights), at the same thread count, measured in one
// run and printed as sentences/s and their ratio.
//
//   qeff:      Embed() over all prompts after one warm-up (compile and load
//              not counted), each batch at the smallest compiled seq_len.
//   llama.cpp: llama-embedding -t T --pooling mean -v over the same
//              prompts; its own total minus load time
//              (llama_perf_context_print, printed with -v), so model loading
//              is not counted either.
//
// Run: bazel run //bench:embed_vs_llamacpp -- [--threads=2] [--prompts=64]
//        [--seq_len=32,64] [--batch_size=8] [--dir=/tmp/qeff_embed_bench]
// Needs $QEFF_PEERS_DIR/llama.cpp (build/bin/llama-embedding and
// models/ggml-vocab-bert-bge.gguf). Speeds drift with machine load: compare
// only numbers of one run, on a quiet machine.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "bench/bench_util.h"
#include "engine/qeff_auto_model_embedding.h"
#include "models/test_encoder.h"

ABSL_FLAG(int, threads, 2, "threads for both engines");
ABSL_FLAG(int, prompts, 64, "sentences to embed");
ABSL_FLAG(std::string, seq_len, "32,64", "qeff's compiled lengths");
ABSL_FLAG(int64_t, batch_size, 8, "qeff's batch size");
ABSL_FLAG(std::string, dir, "/tmp/qeff_embed_bench", "scratch folder");

namespace qeff::bench {
namespace {

std::vector<std::string> Sentences(int n) {
  static const char* const kWords[] = {
      "the",   "quick", "brown",  "fox",    "jumps",  "over",  "lazy",
      "dog",   "data",  "model",  "vector", "search", "query", "river",
      "music", "light", "garden", "winter", "paper",  "city"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> w;
    const int len = 10 + (i * 7) % 14;
    for (int k = 0; k < len; ++k) w.push_back(kWords[(i * 13 + k * 5) % 20]);
    out.push_back(absl::StrJoin(w, " "));
  }
  return out;
}

std::string Run(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    *rc = -1;
    return out;
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  *rc = ::pclose(p);
  return out;
}

absl::Status Main() {
  const std::string peers = bench::PeersDir();
  const std::string bin = peers + "/llama.cpp/build/bin/llama-embedding";
  const std::string vocab =
      peers + "/llama.cpp/models/ggml-vocab-bert-bge.gguf";
  if (!std::filesystem::exists(bin) || !std::filesystem::exists(vocab))
    return absl::FailedPreconditionError(
        absl::StrCat("needs ", bin, " and ", vocab, " (setup.sh builds them)"));
  const std::string dir = absl::GetFlag(FLAGS_dir);
  std::filesystem::create_directories(dir);
  const std::string gguf = dir + "/bert_base.gguf";
  if (!std::filesystem::exists(gguf)) {
    models::TestBertSpec spec;
    spec.hidden_size = 768;
    spec.num_hidden_layers = 12;
    spec.num_attention_heads = 12;
    spec.intermediate_size = 3072;
    spec.max_position_embeddings = 512;
    spec.hidden_act = "gelu_new";
    spec.vocab_gguf = vocab;
    QEFF_RETURN_IF_ERROR(models::WriteTestBertGguf(spec, gguf));
  }
  const int threads = absl::GetFlag(FLAGS_threads);
  const std::vector<std::string> prompts =
      Sentences(absl::GetFlag(FLAGS_prompts));

  // qeff.
  engine::FromPretrainedOptions fo;
  fo.qeff_home = dir + "/home";
  QEFF_ASSIGN_OR_RETURN(auto m, engine::QEFFAutoModel::FromPretrained(
                                    gguf, fo, {passes::Pooling::kMean, false}));
  engine::CompileParams cp;
  for (absl::string_view s :
       absl::StrSplit(absl::GetFlag(FLAGS_seq_len), ',')) {
    int64_t n;
    if (!absl::SimpleAtoi(s, &n))
      return absl::InvalidArgumentError(absl::StrCat("--seq_len: ", s));
    cp.seq_len.push_back(n);
  }
  cp.batch_size = absl::GetFlag(FLAGS_batch_size);
  cp.num_cores = threads;
  QEFF_RETURN_IF_ERROR(m->Compile(cp).status());
  QEFF_RETURN_IF_ERROR(m->Embed({prompts[0]}).status());  // warm-up
  QEFF_ASSIGN_OR_RETURN(engine::EmbeddingResult r, m->Embed(prompts));
  int64_t tokens = 0;
  for (const auto& e : r.outputs) tokens += e.prompt_ids.size();
  const double qeff_sps = prompts.size() / r.total_time;

  // llama.cpp.
  int rc;
  const std::string cmd = absl::StrCat(
      bin, " -m ", gguf, " -t ", threads, " -tb ", threads,
      " -fa off -fit off -v --pooling mean --embd-normalize -1 -p '",
      absl::StrJoin(prompts, "\n"), "' 2>&1");
  const std::string out = Run(cmd, &rc);
  if (rc != 0)
    return absl::InternalError(absl::StrCat("llama-embedding exited ", rc,
                                            ":\n", out.substr(0, 2000)));
  // An encoder runs through llama_encode, whose time llama.cpp does not
  // count as "prompt eval time" (0 here): the evaluation time is the total
  // time minus the load time of llama_perf_context_print.
  std::smatch lt, tt;
  static const std::regex kLoad(R"(load time =\s*([0-9.]+) ms)");
  static const std::regex kTotal(
      R"(total time =\s*([0-9.]+) ms /\s*([0-9]+) tokens)");
  if (!std::regex_search(out, lt, kLoad) || !std::regex_search(out, tt, kTotal))
    return absl::InternalError(
        "no llama_perf_context_print times in llama-embedding's output:\n" +
        out.substr(out.size() > 3000 ? out.size() - 3000 : 0));
  const double llama_s =
      (std::stod(tt[1].str()) - std::stod(lt[1].str())) / 1000.0;
  const double llama_sps = prompts.size() / llama_s;
  std::printf(
      "BERT-base-shaped GGUF (768x12, ffn 3072, f32), %zu sentences, %lld "
      "tokens, %d threads\n",
      prompts.size(), static_cast<long long>(tokens), threads);
  std::printf("  qeff (cpu, batch %lld, seq_len %s): %.1f sentences/s\n",
              static_cast<long long>(cp.batch_size),
              absl::GetFlag(FLAGS_seq_len).c_str(), qeff_sps);
  std::printf(
      "  llama-embedding (total - load time, %s tokens): %.1f sentences/s\n",
      tt[2].str().c_str(), llama_sps);
  std::printf("  ratio qeff / llama.cpp: %.2f\n", qeff_sps / llama_sps);
  return absl::OkStatus();
}

}  // namespace
}  // namespace qeff::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::Status s = qeff::bench::Main();
  if (!s.ok()) {
    std::fprintf(stderr, "embed_vs_llamacpp: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
