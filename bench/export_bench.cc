// Export of a stories110M-shaped random Llama (dim 768, 12 layers, 12
// heads, ffn 2048, vocab 32000, untied head; 134 M parameters, f32):
// eager graph → engine::TransformForDevice → passes::ExportArtifact into a
// fresh QEFF_HOME (a temporary folder, removed afterwards unless --keep),
// then ir::ImportOnnx of the written file as a check. Prints the wall time
// and peak RSS (VmHWM) of each step; the export's peak is measured from a
// reset (/proc/self/clear_refs), so it is the export's own high-water mark
// over the ~536 MB of weights already resident.
//
// Run: bazel run -c opt //bench:export_bench [-- --keep]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "engine/lm_pipeline.h"
#include "ir/graph.h"
#include "ir/onnx_import.h"
#include "models/arch/llama.h"
#include "passes/export.h"

namespace qeff::bench {
namespace {

double Mib(long kb) { return kb / 1024.0; }

void Step(const char* what, double seconds, const ProcMemory& m) {
  std::printf(
      "%-34s %8.3f s   VmRSS %7.1f MiB  RssAnon %7.1f MiB  "
      "VmHWM %7.1f MiB\n",
      what, seconds, Mib(m.vm_rss), Mib(m.rss_anon), Mib(m.vm_hwm));
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "export_bench: %s\n", s.ToString().c_str());
  return 1;
}

int Run(bool keep) {
  models::LlamaConfig c;
  c.hidden_size = 768;
  c.intermediate_size = 2048;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.num_key_value_heads = 12;
  c.vocab_size = 32000;
  c.max_position_embeddings = 1024;
  std::printf("stories110M-shaped Llama: %lld parameters, f32\n",
              static_cast<long long>(LlamaParameterCount(c)));

  double t0 = NowSeconds();
  absl::StatusOr<models::WeightMap> w =
      RandomLlamaWeights(c, ir::DType::kF32, 110);
  if (!w.ok()) return Fail(w.status());
  absl::StatusOr<ir::Graph> eager = models::BuildLlamaEager(c, *w);
  if (!eager.ok()) return Fail(eager.status());
  w->clear();  // the graph holds the weights
  Step("random weights + eager graph", NowSeconds() - t0, ReadProcMemory());

  t0 = NowSeconds();
  absl::StatusOr<ir::Graph> transformed =
      engine::TransformForDevice(*eager, {});
  if (!transformed.ok()) return Fail(transformed.status());
  Step("TransformForDevice", NowSeconds() - t0, ReadProcMemory());

  char tmpl[] = "/tmp/qeff_export_bench.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("export_bench: mkdtemp");
    return 1;
  }
  const std::string home = tmpl;
  passes::ExportArtifactOptions eo;
  eo.qeff_home = home;
  eo.architecture = "LlamaForCausalLM";
  eo.params.Set("bench", base::JsonValue::String("export_bench"));
  eo.params.Set("hidden_size", base::JsonValue::Int(c.hidden_size));
  eo.params.Set("num_hidden_layers", base::JsonValue::Int(c.num_hidden_layers));
  eo.params.Set("vocab_size", base::JsonValue::Int(c.vocab_size));
  eo.params.Set("seed", base::JsonValue::Int(110));
  const ProcMemory before = ReadProcMemory();
  if (absl::Status s = ResetPeakRss(); !s.ok()) return Fail(s);
  t0 = NowSeconds();
  absl::StatusOr<passes::ExportedArtifact> art =
      passes::ExportArtifact(*transformed, eo);
  const double export_s = NowSeconds() - t0;
  if (!art.ok()) return Fail(art.status());
  const ProcMemory after = ReadProcMemory();
  Step("ExportArtifact", export_s, after);
  if (art->reused) {
    std::fprintf(stderr, "export_bench: %s was reused, not exported\n",
                 art->onnx_path.c_str());
    return 1;
  }
  std::error_code ec;
  uintmax_t onnx_bytes = std::filesystem::file_size(art->onnx_path, ec);
  uintmax_t data_bytes =
      std::filesystem::file_size(art->onnx_path + ".data", ec);
  if (ec) data_bytes = 0;
  std::printf(
      "  %s: %.1f MB + %.1f MB external data\n"
      "  export peak RSS (VmHWM from a reset at the export's start): "
      "%.1f MiB, %.1f MiB above the %.1f MiB resident before it\n",
      art->onnx_path.c_str(), onnx_bytes / 1e6, data_bytes / 1e6,
      Mib(after.vm_hwm), Mib(after.vm_hwm - before.vm_rss), Mib(before.vm_rss));

  t0 = NowSeconds();
  absl::StatusOr<ir::Graph> back = ir::ImportOnnx(art->onnx_path);
  if (!back.ok()) return Fail(back.status());
  Step("ir::ImportOnnx (check)", NowSeconds() - t0, ReadProcMemory());
  // The imported graph has the transformed graph's interface and weights.
  int64_t exported_bytes = 0, imported_bytes = 0;
  for (ir::ValueId v : transformed->Constants())
    exported_bytes += transformed->value(v).constant->byte_size();
  for (ir::ValueId v : back->Constants())
    imported_bytes += back->value(v).constant->byte_size();
  bool same_io = back->inputs().size() == transformed->inputs().size() &&
                 back->outputs().size() == transformed->outputs().size();
  for (size_t i = 0; same_io && i < back->inputs().size(); ++i)
    same_io = back->value(back->inputs()[i]).name ==
              transformed->value(transformed->inputs()[i]).name;
  std::printf(
      "  imported: %zu inputs, %zu outputs (%s the transformed graph's), "
      "%d live nodes, constants %.1f MB (transformed graph: %.1f MB)\n",
      back->inputs().size(), back->outputs().size(),
      same_io ? "same as" : "DIFFERENT from",
      static_cast<int>(back->LiveNodes().size()), imported_bytes / 1e6,
      exported_bytes / 1e6);
  std::printf("peak RSS of the whole run: %.1f MiB\n",
              Mib(std::max(before.vm_hwm, ReadProcMemory().vm_hwm)));
  if (!keep)
    std::filesystem::remove_all(home, ec);
  else
    std::printf("kept %s\n", home.c_str());
  return same_io ? 0 : 1;
}

}  // namespace
}  // namespace qeff::bench

int main(int argc, char** argv) {
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--keep") {
      keep = true;
    } else {
      std::fprintf(stderr, "usage: export_bench [--keep]\n");
      return 1;
    }
  }
  return qeff::bench::Run(keep);
}
