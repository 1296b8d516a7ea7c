// plan: ranks specializations of one model across Cloud AI 100 SKUs with
// the `sim` performance model, from the model's config.json alone (no
// weights: a 70 B model plans in milliseconds).
//
//   bazel run //tools:plan -- --config=$PWD/models/configs/llama-2-7b
//     --prefill_seq_lens=128,512 --ctx_lens=1024,4096 --num_devices=1,4
//     --precisions=fp16,mxfp6,mxfp6+mxint8 --out=/tmp/plan   (one line)
//
// Every cell (SKU x prefill_seq_len x ctx_len x batch x full_batch_size x
// num_devices x num_cores x precision) gets the modelled TTFT for a
// --prompt_len prompt, prefill and decode tokens/s and the DDR footprint per
// SoC; cells that do not fit say by how much. Output: the ranked table on
// stdout and in DIR/plan.md, DIR/plan.csv, and DIR/plan.svg (decode
// tokens/s against TTFT, one colour per SKU). All figures are modelled
// (hw/sim/ai100_model.h), not measured.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "engine/sim_plan.h"
#include "tools/cli.h"

ABSL_FLAG(std::string, config, "",
          "config.json (or its folder) of the model to plan (required)");
ABSL_FLAG(std::string, skus, "ai100-standard,ai100-pro,ai100-ultra",
          "SKUs to plan for");
ABSL_FLAG(std::string, prefill_seq_lens, "128", "prefill_seq_len values");
ABSL_FLAG(std::string, ctx_lens, "1024", "ctx_len values");
ABSL_FLAG(std::string, batch_sizes, "1", "batch_size values");
ABSL_FLAG(std::string, full_batch_sizes, "0",
          "full_batch_size values (0: no continuous batching)");
ABSL_FLAG(std::string, num_devices, "1", "num_devices (SoCs) values");
ABSL_FLAG(std::string, num_cores, "0",
          "AI cores per SoC values (0: all of the SoC's)");
ABSL_FLAG(std::string, precisions, "fp16,mxfp6,mxfp6+mxint8",
          "fp16 | mxfp6 | mxint8 | mxfp6+mxint8 (weights + KV cache)");
ABSL_FLAG(int64_t, prompt_len, 128, "prompt length for the TTFT column");
ABSL_FLAG(std::string, out, "", "folder for plan.md/.csv/.svg (optional)");

namespace qeff::tools {
namespace {

absl::StatusOr<std::vector<int64_t>> Ints(const std::string& flag,
                                          const std::string& text) {
  std::vector<int64_t> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(part, &v) || v < 0)
      return absl::InvalidArgumentError(absl::StrCat(
          "--", flag, ": '", part, "' is not a non-negative integer"));
    out.push_back(v);
  }
  if (out.empty())
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " is empty"));
  return out;
}

std::string Precision(const engine::CompileParams& p) {
  if (p.mxfp6_matmul && p.mxint8_kv_cache) return "mxfp6+mxint8";
  if (p.mxfp6_matmul) return "mxfp6";
  if (p.mxint8_kv_cache) return "mxint8";
  return "fp16";
}

std::string Shape(const engine::CompileParams& p) {
  return absl::StrCat(
      "pl", p.prefill_seq_len, " ctx", p.ctx_len, " bs", p.batch_size,
      p.full_batch_size ? absl::StrCat(" fbs", p.full_batch_size) : "", " dev",
      p.num_devices, p.num_cores ? absl::StrCat(" c", p.num_cores) : "");
}

std::string Markdown(const std::vector<engine::PlanCell>& cells,
                     int64_t prompt_len) {
  std::string s = absl::StrCat(
      "| rank | SKU | specialization | precision | TTFT ms (", prompt_len,
      "-token prompt) | prefill tok/s | decode ms/step | decode tok/s | "
      "DDR GB/SoC | cards |\n|---|---|---|---|---|---|---|---|---|---|\n");
  int rank = 0;
  for (const engine::PlanCell& c : cells) {
    if (c.status.ok()) {
      absl::StrAppend(
          &s, absl::StrFormat(
                  "| %d | %s | %s | %s | %.1f | %.0f | %.2f | %.1f | %.2f | "
                  "%d |\n",
                  ++rank, c.sku, Shape(c.params), Precision(c.params),
                  1e3 * c.ttft_s, c.prefill_tokens_per_s, c.decode_ms_per_token,
                  c.decode_tokens_per_s, c.estimate.ddr_bytes_per_soc / 1e9,
                  c.estimate.cards));
    } else {
      absl::StrAppend(
          &s, absl::StrFormat("| - | %s | %s | %s | cannot run: "
                              "%s |||||\n",
                              c.sku, Shape(c.params), Precision(c.params),
                              c.status.message()));
    }
  }
  return s;
}

std::string Csv(const std::vector<engine::PlanCell>& cells) {
  std::string s =
      "sku,prefill_seq_len,ctx_len,batch_size,full_batch_size,num_devices,"
      "num_cores,precision,ok,ttft_s,prefill_tokens_per_s,"
      "decode_tokens_per_s,decode_ms_per_token,ddr_bytes_per_soc,cards\n";
  for (const engine::PlanCell& c : cells) {
    const engine::CompileParams& p = c.params;
    absl::StrAppend(
        &s, absl::StrFormat("%s,%d,%d,%d,%d,%d,%d,%s,%d,%g,%g,%g,%g,%g,%d\n",
                            c.sku, p.prefill_seq_len, p.ctx_len, p.batch_size,
                            p.full_batch_size, p.num_devices, p.num_cores,
                            Precision(p), c.status.ok() ? 1 : 0, c.ttft_s,
                            c.prefill_tokens_per_s, c.decode_tokens_per_s,
                            c.decode_ms_per_token, c.estimate.ddr_bytes_per_soc,
                            c.estimate.cards));
  }
  return s;
}

// Decode tokens/s (log) against TTFT (log), one colour per SKU; the top
// five ranks are numbered as in the table.
std::string Svg(const std::vector<engine::PlanCell>& cells,
                const std::string& title) {
  const double W = 760, H = 480, L = 70, R = 180, T = 40, B = 50;
  double x0 = 1e300, x1 = 0, y0 = 1e300, y1 = 0;
  for (const engine::PlanCell& c : cells) {
    if (!c.status.ok() || c.ttft_s <= 0 || c.decode_tokens_per_s <= 0) continue;
    x0 = std::min(x0, 1e3 * c.ttft_s);
    x1 = std::max(x1, 1e3 * c.ttft_s);
    y0 = std::min(y0, c.decode_tokens_per_s);
    y1 = std::max(y1, c.decode_tokens_per_s);
  }
  std::string s = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" "
      "height=\"100%%\" fill=\"white\"/>\n<text x=\"%g\" y=\"22\" "
      "font-size=\"14\">%s</text>\n",
      W, H, L, title);
  if (x1 <= 0) return s + "<text x=\"70\" y=\"80\">no cell fits</text></svg>\n";
  const double lx0 = std::floor(std::log10(x0)),
               lx1 = std::ceil(std::log10(x1)) + (x0 == x1 ? 1 : 0);
  const double ly0 = std::floor(std::log10(y0)),
               ly1 = std::ceil(std::log10(y1)) + (y0 == y1 ? 1 : 0);
  auto px = [&](double v) {
    return L + (std::log10(v) - lx0) / (lx1 - lx0) * (W - L - R);
  };
  auto py = [&](double v) {
    return H - B - (std::log10(v) - ly0) / (ly1 - ly0) * (H - T - B);
  };
  absl::StrAppend(
      &s, absl::StrFormat("<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" "
                          "fill=\"none\" stroke=\"#444\"/>\n",
                          L, T, W - L - R, H - T - B));
  for (double e = lx0; e <= lx1; ++e)
    absl::StrAppend(
        &s, absl::StrFormat("<text x=\"%g\" y=\"%g\" "
                            "text-anchor=\"middle\">%g</text>\n",
                            px(std::pow(10, e)), H - B + 16, std::pow(10, e)));
  for (double e = ly0; e <= ly1; ++e)
    absl::StrAppend(
        &s, absl::StrFormat("<text x=\"%g\" y=\"%g\" "
                            "text-anchor=\"end\">%g</text>\n",
                            L - 6, py(std::pow(10, e)) + 4, std::pow(10, e)));
  absl::StrAppend(
      &s, absl::StrFormat("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">"
                          "modelled TTFT (ms, log)</text>\n<text x=\"16\" "
                          "y=\"%g\" transform=\"rotate(-90 16 %g)\" "
                          "text-anchor=\"middle\">modelled decode tokens/s "
                          "(log)</text>\n",
                          L + (W - L - R) / 2, H - 12, T + (H - T - B) / 2,
                          T + (H - T - B) / 2));
  const std::map<std::string, std::string> colours = {
      {"ai100-standard", "#1f77b4"},
      {"ai100-pro", "#ff7f0e"},
      {"ai100-ultra", "#2ca02c"}};
  int rank = 0;
  for (const engine::PlanCell& c : cells) {
    if (!c.status.ok()) continue;
    ++rank;
    auto it = colours.find(c.sku);
    const std::string col = it == colours.end() ? "#888" : it->second;
    const double x = px(1e3 * c.ttft_s), y = py(c.decode_tokens_per_s);
    absl::StrAppend(
        &s, absl::StrFormat("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" "
                            "fill=\"%s\" fill-opacity=\"0.7\"><title>#%d %s "
                            "%s %s</title></circle>\n",
                            x, y, col, rank, c.sku, Shape(c.params),
                            Precision(c.params)));
    if (rank <= 5)
      absl::StrAppend(&s, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\">#%d"
                                          "</text>\n",
                                          x + 7, y - 5, rank));
  }
  double ly = T + 10;
  for (const auto& [name, col] : colours) {
    absl::StrAppend(
        &s, absl::StrFormat("<circle cx=\"%g\" cy=\"%g\" r=\"5\" fill=\"%s\"/>"
                            "<text x=\"%g\" y=\"%g\">%s</text>\n",
                            W - R + 20, ly, col, W - R + 30, ly + 4, name));
    ly += 20;
  }
  return s + "</svg>\n";
}

absl::Status Run(const std::string&) {
  const std::string config_path = absl::GetFlag(FLAGS_config);
  if (config_path.empty())
    return absl::InvalidArgumentError("--config is required");
  QEFF_ASSIGN_OR_RETURN(models::ModelConfig config,
                        engine::ModelConfigFromFile(config_path));
  QEFF_ASSIGN_OR_RETURN(auto pls, Ints("prefill_seq_lens",
                                       absl::GetFlag(FLAGS_prefill_seq_lens)));
  QEFF_ASSIGN_OR_RETURN(auto ctxs,
                        Ints("ctx_lens", absl::GetFlag(FLAGS_ctx_lens)));
  QEFF_ASSIGN_OR_RETURN(auto bss,
                        Ints("batch_sizes", absl::GetFlag(FLAGS_batch_sizes)));
  QEFF_ASSIGN_OR_RETURN(auto fbss, Ints("full_batch_sizes",
                                        absl::GetFlag(FLAGS_full_batch_sizes)));
  QEFF_ASSIGN_OR_RETURN(auto devs,
                        Ints("num_devices", absl::GetFlag(FLAGS_num_devices)));
  QEFF_ASSIGN_OR_RETURN(auto cores,
                        Ints("num_cores", absl::GetFlag(FLAGS_num_cores)));
  std::vector<std::string> precisions =
      absl::StrSplit(absl::GetFlag(FLAGS_precisions), ',', absl::SkipEmpty());
  std::vector<engine::CompileParams> grid;
  for (int64_t pl : pls)
    for (int64_t ctx : ctxs)
      for (int64_t bs : bss)
        for (int64_t fbs : fbss)
          for (int64_t dev : devs)
            for (int64_t c : cores)
              for (const std::string& prec : precisions) {
                if (prec != "fp16" && prec != "mxfp6" && prec != "mxint8" &&
                    prec != "mxfp6+mxint8")
                  return absl::InvalidArgumentError(
                      absl::StrCat("--precisions: unknown '", prec,
                                   "' (fp16, mxfp6, mxint8, mxfp6+mxint8)"));
                if (pl < 1 || ctx < pl || bs < 1 || dev < 1 ||
                    (fbs > 0 && bs > 1))
                  return absl::InvalidArgumentError(absl::StrCat(
                      "bad shape: prefill_seq_len ", pl, " ctx_len ", ctx,
                      " batch_size ", bs, " full_batch_size ", fbs,
                      " num_devices ", dev,
                      " (need 1 <= prefill_seq_len <= ctx_len, batch_size "
                      ">= 1, batch_size 1 with full_batch_size)"));
                engine::CompileParams p;
                p.prefill_seq_len = pl;
                p.ctx_len = ctx;
                p.batch_size = bs;
                p.full_batch_size = fbs;
                p.num_devices = static_cast<int>(dev);
                p.num_cores = static_cast<int>(c);
                p.mxfp6_matmul = prec.find("mxfp6") != std::string::npos;
                p.mxint8_kv_cache = prec.find("mxint8") != std::string::npos;
                grid.push_back(p);
              }
  std::vector<std::string> skus =
      absl::StrSplit(absl::GetFlag(FLAGS_skus), ',', absl::SkipEmpty());
  const int64_t prompt_len = absl::GetFlag(FLAGS_prompt_len);
  std::vector<engine::PlanCell> cells =
      engine::PlanGrid(config, skus, grid, prompt_len);
  std::filesystem::path cp(config_path);
  if (cp.filename() == "config.json") cp = cp.parent_path();
  const std::string title =
      absl::StrCat(cp.filename().string(), " (", config.architecture,
                   "): modelled on Cloud AI 100 (sim; not measured)");
  const std::string md =
      absl::StrCat("## ", title, "\n\n", Markdown(cells, prompt_len));
  std::cout << md;
  const std::string out = absl::GetFlag(FLAGS_out);
  if (!out.empty()) {
    QEFF_RETURN_IF_ERROR(base::MakeDirs(out));
    QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(out + "/plan.md", md));
    QEFF_RETURN_IF_ERROR(
        base::WriteFileAtomically(out + "/plan.csv", Csv(cells)));
    QEFF_RETURN_IF_ERROR(
        base::WriteFileAtomically(out + "/plan.svg", Svg(cells, title)));
    std::cout << "Wrote " << out << "/plan.md, plan.csv, plan.svg\n";
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  return qeff::tools::RunTool(
      argc, argv, "plan",
      "Rank specializations of a model across Cloud AI 100 SKUs (modelled).",
      qeff::tools::Run);
}
