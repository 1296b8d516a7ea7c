// Memory of models::Load on a ~500 MB f16 Hugging Face checkpoint: weights
// are memory-mapped, never copied, so anonymous memory (RssAnon: heap and
// any copies) stays a small fraction of the checkpoint while file-backed
// memory (RssFile) grows only as weight pages are touched.
//
// The checkpoint (Llama shape: hidden 2048, 8 layers, 32 heads, 4 KV heads,
// ffn 2304, vocab 32000, tied embeddings; 254 M parameters, f16) is written
// once to --dir (default /tmp/qeff_load_rss) and reused. The measurement
// runs in a fresh process (this binary re-executed with --measure), so the
// writer's buffers are not in it.
//
// Run: bazel run -c opt //bench:load_rss [-- --dir=PATH]
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "bench/bench_util.h"
#include "ir/graph.h"
#include "ir/op_schema.h"
#include "models/model_loader.h"
#include "models/safetensors.h"

namespace qeff::bench {
namespace {

models::LlamaConfig CheckpointConfig() {
  models::LlamaConfig c;
  c.hidden_size = 2048;
  c.intermediate_size = 2304;
  c.num_hidden_layers = 8;
  c.num_attention_heads = 32;
  c.num_key_value_heads = 4;
  c.vocab_size = 32000;
  c.tie_word_embeddings = true;
  c.max_position_embeddings = 2048;
  return c;
}

std::string ConfigJson(const models::LlamaConfig& c) {
  return absl::StrFormat(
      "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n"
      "  \"model_type\": \"llama\",\n  \"torch_dtype\": \"float16\",\n"
      "  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n"
      "  \"vocab_size\": %d,\n  \"hidden_size\": %d,\n"
      "  \"intermediate_size\": %d,\n  \"num_hidden_layers\": %d,\n"
      "  \"num_attention_heads\": %d,\n  \"num_key_value_heads\": %d,\n"
      "  \"hidden_act\": \"silu\",\n  \"max_position_embeddings\": %d,\n"
      "  \"rms_norm_eps\": 1e-05,\n  \"rope_theta\": 10000,\n"
      "  \"tie_word_embeddings\": true,\n  \"attention_bias\": false\n}\n",
      c.vocab_size, c.hidden_size, c.intermediate_size, c.num_hidden_layers,
      c.num_attention_heads, c.num_key_value_heads, c.max_position_embeddings);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

absl::Status WriteCheckpoint(const std::string& dir) {
  const models::LlamaConfig c = CheckpointConfig();
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return absl::InternalError(absl::StrCat(dir, ": cannot create folder"));
  const double t0 = NowSeconds();
  absl::StatusOr<models::WeightMap> w =
      RandomLlamaWeights(c, ir::DType::kF16, 2024);
  if (!w.ok()) return w.status();
  // Header order: sorted names, as safetensors' own writer emits them.
  std::vector<std::pair<std::string, ir::Tensor>> tensors(w->begin(), w->end());
  std::sort(tensors.begin(), tensors.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  w->clear();
  absl::StatusOr<std::string> bytes =
      models::SerializeSafetensors(tensors, {{"format", "pt"}});
  if (!bytes.ok()) return bytes.status();
  tensors.clear();
  if (absl::Status s =
          base::WriteFileAtomically(dir + "/model.safetensors", *bytes);
      !s.ok())
    return s;
  if (absl::Status s =
          base::WriteFileAtomically(dir + "/config.json", ConfigJson(c));
      !s.ok())
    return s;
  std::printf("wrote %s/model.safetensors: %.1f MB f16 in %.1f s\n",
              dir.c_str(), bytes->size() / 1e6, NowSeconds() - t0);
  return absl::OkStatus();
}

void Row(const char* stage, const ProcMemory& m, const ProcMemory& base) {
  std::printf("%-38s %9.1f %9.1f %9.1f %9.1f\n", stage, m.vm_rss / 1024.0,
              m.rss_anon / 1024.0, m.rss_file / 1024.0,
              (m.rss_anon - base.rss_anon) / 1024.0);
}

int Measure(const std::string& dir) {
  const ProcMemory start = ReadProcMemory();
  std::printf("%-38s %9s %9s %9s %9s\n", "stage (MiB)", "VmRSS", "RssAnon",
              "RssFile", "+Anon");
  Row("start (fresh process)", start, start);
  double t0 = NowSeconds();
  absl::StatusOr<models::LoadedModel> m = models::Load(dir);
  const double load_s = NowSeconds() - t0;
  if (!m.ok()) {
    std::fprintf(stderr, "load_rss: %s\n", m.status().ToString().c_str());
    return 1;
  }
  Row("models::Load (mmap + eager graph)", ReadProcMemory(), start);
  t0 = NowSeconds();
  ir::Graph g = m->eager;  // copies nodes, shares weights
  if (absl::Status s = ir::InferShapes(g); !s.ok()) {
    std::fprintf(stderr, "load_rss: %s\n", s.ToString().c_str());
    return 1;
  }
  const double infer_s = NowSeconds() - t0;
  Row("graph copy + InferShapes", ReadProcMemory(), start);

  // Every weight must be a window of the mapped file, not a copy (a
  // scratch-file copy, e.g. re-ordered GGUF Q/K rows, counts as a copy).
  int64_t mapped = 0, owned = 0, bytes = 0;
  uint64_t sum = 0;
  for (const auto& [name, t] : m->weights) {
    (t.buffer()->is_mapped() && !t.buffer()->is_scratch() ? mapped : owned) +=
        1;
    bytes += t.byte_size();
    // Touch every page (one byte per 4 KiB is enough to fault it in).
    const uint8_t* p = t.raw();
    for (size_t i = 0; i < t.byte_size(); i += 4096) sum += p[i];
  }
  int64_t graph_owned = 0;
  for (ir::ValueId v : g.Constants()) {
    const ir::Tensor& t = *g.value(v).constant;
    if (t.byte_size() >= 4096 &&
        (!t.buffer()->is_mapped() || t.buffer()->is_scratch()))
      ++graph_owned;
  }
  Row("touch every weight page", ReadProcMemory(), start);
  const ProcMemory end = ReadProcMemory();
  std::printf(
      "\nweights: %lld tensors, %.1f MB: %lld mapped, %lld owned copies; "
      "graph constants >= 4 KiB not mapped: %lld (checksum %llu)\n",
      static_cast<long long>(mapped + owned), bytes / 1e6,
      static_cast<long long>(mapped), static_cast<long long>(owned),
      static_cast<long long>(graph_owned),
      static_cast<unsigned long long>(sum));
  std::printf("models::Load %.3f s, graph copy + InferShapes %.3f s\n", load_s,
              infer_s);
  std::printf("anonymous growth: %.1f MiB = %.2f%% of the weights\n",
              (end.rss_anon - start.rss_anon) / 1024.0,
              100.0 * (end.rss_anon - start.rss_anon) * 1024.0 / bytes);
  return owned == 0 && graph_owned == 0 ? 0 : 2;
}

}  // namespace
}  // namespace qeff::bench

int main(int argc, char** argv) {
  using namespace qeff::bench;
  std::string dir = "/tmp/qeff_load_rss";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--measure=", 0) == 0) return Measure(a.substr(10));
    if (a.rfind("--dir=", 0) == 0) {
      dir = a.substr(6);
    } else {
      std::fprintf(stderr, "usage: load_rss [--dir=PATH]\n");
      return 1;
    }
  }
  if (Exists(dir + "/model.safetensors") && Exists(dir + "/config.json")) {
    std::printf("reusing %s\n", dir.c_str());
  } else if (absl::Status s = WriteCheckpoint(dir); !s.ok()) {
    std::fprintf(stderr, "load_rss: %s\n", s.ToString().c_str());
    return 1;
  }
  std::fflush(stdout);
  // Measure in a fresh process: this binary again, with --measure.
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("load_rss: fork");
    return 1;
  }
  if (pid == 0) {
    const std::string flag = "--measure=" + dir;
    ::execl("/proc/self/exe", argv[0], flag.c_str(),
            static_cast<char*>(nullptr));
    std::perror("load_rss: exec /proc/self/exe");
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) {
    std::perror("load_rss: waitpid");
    return 1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
