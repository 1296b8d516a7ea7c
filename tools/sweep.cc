// sweep: a grid of models × devices × precisions × shapes, each cell
// its programs compiled first through the compile graph, then run through
// the model API in a process of its own (so its peak RSS is its own), then
// written as CSV, JSON and an SVG chart.
//
//   bazel run //tools:sweep -- --grid=sweep.json --out=DIR
//
// sweep.json: {"models": ["a.gguf", ...], "devices": ["cpu"],
//   "precisions": ["f32", "f16", "bf16", "q8_0", "q4_0", "mxfp6",
//                  "mxint8_kv"],
//   "shapes": [{"prompt_len": 32, "ctx_len": 128, "batch_size": 1}],
//   "text_file": "text.txt", "prompt": "Once upon a time",
//   "generation_len": 32}
// Per cell: prefill and decode tokens/s and TTFT of a generation, peak RSS,
// program size, and — against the f32 program of the same model and shape,
// under teacher forcing on the text's first ctx_len tokens — mean KL
// divergence KL(f32 || cell) and top-1 agreement, plus the perplexity of the
// text (engine/perplexity.h) with chunks of ctx_len. Devices that model a
// card (sim:ai100-standard|pro|ultra) add the modelled TTFT and decode
// tokens/s (modelled_ttft_s, modelled_decode_tok_s; empty for others).
// Resumable: each finished cell is DIR/cells/<key>.json and a rerun reuses it.
// Writes DIR/sweep.csv, DIR/sweep.json, DIR/sweep.svg (quality vs decode speed
// per precision, one series per model).
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/digest.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "engine/compile_graph.h"
#include "engine/job.h"
#include "engine/perplexity.h"
#include "hw/sim/ai100_model.h"
#include "tools/cli.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, grid, "", "the grid (JSON; see tools/sweep.cc)");
ABSL_FLAG(std::string, out, "", "output folder (created; reused to resume)");
ABSL_FLAG(std::string, qeff_home, "", "artifact cache (default: $QEFF_HOME)");
ABSL_FLAG(std::string, cell, "", "internal: run one cell (JSON) and exit");
ABSL_FLAG(std::string, cell_out, "",
          "internal: where a cell writes its result");

namespace qeff::tools {
namespace {

using base::JsonValue;

struct Cell {
  std::string model, device, precision;
  int64_t prompt_len = 32, ctx_len = 128, batch_size = 1;
  std::string text_file, prompt;
  int64_t generation_len = 32;
  JsonValue ToJson() const {
    JsonValue j = JsonValue::Object();
    j.Set("model", JsonValue::String(model));
    j.Set("device", JsonValue::String(device));
    j.Set("precision", JsonValue::String(precision));
    j.Set("prompt_len", JsonValue::Int(prompt_len));
    j.Set("ctx_len", JsonValue::Int(ctx_len));
    j.Set("batch_size", JsonValue::Int(batch_size));
    j.Set("text_file", JsonValue::String(text_file));
    j.Set("prompt", JsonValue::String(prompt));
    j.Set("generation_len", JsonValue::Int(generation_len));
    return j;
  }
};

absl::StatusOr<std::string> Str(const JsonValue& o, const char* k,
                                std::string def) {
  const JsonValue* v = o.Find(k);
  if (!v) return def;
  if (!v->is_string())
    return absl::InvalidArgumentError(
        absl::StrCat("\"", k, "\" must be a string"));
  return v->string_value();
}

absl::StatusOr<int64_t> Int(const JsonValue& o, const char* k, int64_t def) {
  const JsonValue* v = o.Find(k);
  if (!v) return def;
  auto i = v->is_number() ? v->AsInt64() : absl::StatusOr<int64_t>(-1);
  if (!i.ok() || *i <= 0)
    return absl::InvalidArgumentError(
        absl::StrCat("\"", k, "\" must be a positive integer"));
  return *i;
}

absl::StatusOr<std::vector<std::string>> Strings(const JsonValue& o,
                                                 const char* k,
                                                 std::vector<std::string> def) {
  const JsonValue* v = o.Find(k);
  if (!v) return def;
  if (!v->is_array() || v->array().empty())
    return absl::InvalidArgumentError(
        absl::StrCat("\"", k, "\" must be a non-empty list of strings"));
  std::vector<std::string> out;
  for (const JsonValue& e : v->array()) {
    if (!e.is_string())
      return absl::InvalidArgumentError(
          absl::StrCat("\"", k, "\" must be a non-empty list of strings"));
    out.push_back(e.string_value());
  }
  return out;
}

absl::StatusOr<Cell> CellFromJson(const JsonValue& j) {
  Cell c;
  QEFF_ASSIGN_OR_RETURN(c.model, Str(j, "model", ""));
  QEFF_ASSIGN_OR_RETURN(c.device, Str(j, "device", "cpu"));
  QEFF_ASSIGN_OR_RETURN(c.precision, Str(j, "precision", "f32"));
  QEFF_ASSIGN_OR_RETURN(c.prompt_len, Int(j, "prompt_len", 32));
  QEFF_ASSIGN_OR_RETURN(c.ctx_len, Int(j, "ctx_len", 128));
  QEFF_ASSIGN_OR_RETURN(c.batch_size, Int(j, "batch_size", 1));
  QEFF_ASSIGN_OR_RETURN(c.text_file, Str(j, "text_file", ""));
  QEFF_ASSIGN_OR_RETURN(c.prompt, Str(j, "prompt", "Once upon a time"));
  QEFF_ASSIGN_OR_RETURN(c.generation_len, Int(j, "generation_len", 32));
  return c;
}

// The compile parameters a precision means.
absl::StatusOr<engine::CompileParams> ParamsFor(const Cell& c) {
  engine::CompileParams p;
  p.prefill_seq_len = c.prompt_len;
  p.ctx_len = c.ctx_len;
  p.batch_size = c.batch_size;
  p.device = c.device;
  if (c.precision == "f32") {
  } else if (c.precision == "f16") {
    p.weight_dtype = ir::DType::kF16;
  } else if (c.precision == "bf16") {
    p.weight_dtype = ir::DType::kBF16;
  } else if (c.precision == "mxint8_kv") {
    p.mxint8_kv_cache = true;
  } else {
    auto f = ir::ParseQuantFormat(c.precision);
    if (!f.ok() ||
        (*f != ir::QuantFormat::kQ8_0 && *f != ir::QuantFormat::kQ4_0 &&
         *f != ir::QuantFormat::kMXFP6))
      return absl::InvalidArgumentError(absl::StrCat(
          "precision '", c.precision,
          "' (known: f32, f16, bf16, q8_0, q4_0, mxfp6, mxint8_kv)"));
    p.weight_format = *f;
  }
  return p;
}

int64_t FolderBytes(const std::string& dir) {
  int64_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) n += static_cast<int64_t>(e.file_size(ec));
  return n;
}

// One cell, in this process.
absl::StatusOr<JsonValue> RunCell(const Cell& c) {
  QEFF_ASSIGN_OR_RETURN(engine::CompileParams cp, ParamsFor(c));
  JsonValue r = JsonValue::Object();
  // Speed: a generation on the last-position program.
  QEFF_ASSIGN_OR_RETURN(
      auto gen, engine::QEFFAutoModelForCausalLM::FromPretrained(c.model));
  QEFF_ASSIGN_OR_RETURN(std::string qpc, gen->Compile(cp));
  engine::GenerateOptions go;
  go.generation_len = c.generation_len;
  go.stop_at_eos = false;
  std::vector<std::string> prompts(static_cast<size_t>(c.batch_size), c.prompt);
  QEFF_ASSIGN_OR_RETURN(engine::GenerateResult g, gen->Generate(prompts, go));
  const engine::GeneratedText& first = g.outputs[0];
  const double ttft = first.perf.prefill_time;
  r.Set("ttft_s", JsonValue::Double(ttft));
  r.Set("prefill_tok_s",
        JsonValue::Double(
            ttft > 0 ? c.batch_size * first.prompt_ids.size() / ttft : 0));
  r.Set("decode_tok_s",
        JsonValue::Double(first.perf.decode_perf * c.batch_size));
  r.Set("program_bytes", JsonValue::Int(FolderBytes(qpc)));
  // A device that models its card (sim:ai100-*): the modelled figures too.
  if (gen->program() && !gen->program()->PerformanceReportJson().empty()) {
    QEFF_ASSIGN_OR_RETURN(hw::sim::ModelledRun m,
                          hw::sim::ModelledRunFromJson(
                              gen->program()->PerformanceReportJson(),
                              static_cast<int64_t>(first.prompt_ids.size())));
    r.Set("modelled_ttft_s", JsonValue::Double(m.ttft_s));
    r.Set("modelled_decode_tok_s", JsonValue::Double(m.decode_tokens_per_s));
  }
  // Quality under teacher forcing against the f32 program.
  if (!c.text_file.empty()) {
    QEFF_ASSIGN_OR_RETURN(std::string text, base::ReadFile(c.text_file));
    engine::FromPretrainedOptions fo;
    fo.all_logits = true;
    QEFF_ASSIGN_OR_RETURN(
        auto ref,
        engine::QEFFAutoModelForCausalLM::FromPretrained(c.model, fo));
    QEFF_ASSIGN_OR_RETURN(
        auto test,
        engine::QEFFAutoModelForCausalLM::FromPretrained(c.model, fo));
    QEFF_ASSIGN_OR_RETURN(std::vector<int32_t> tokens,
                          ref->model().tokenizer->EncodePrompt(text));
    if (static_cast<int64_t>(tokens.size()) < c.ctx_len)
      return absl::InvalidArgumentError(
          absl::StrCat(c.text_file, ": ", tokens.size(),
                       " tokens, fewer than ctx_len ", c.ctx_len));
    tokens.resize(c.ctx_len);
    engine::CompileParams f32 = cp;
    f32.weight_format = ir::QuantFormat::kNone;
    f32.weight_dtype = ir::DType::kF32;
    f32.mxint8_kv_cache = false;
    QEFF_ASSIGN_OR_RETURN(std::vector<float> lr,
                          engine::ChunkLogits(*ref, tokens, f32));
    QEFF_ASSIGN_OR_RETURN(std::vector<float> lt,
                          engine::ChunkLogits(*test, tokens, cp));
    const int64_t n = c.ctx_len, v = static_cast<int64_t>(lr.size()) / n;
    double kl = 0;
    int64_t agree = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float* a = lr.data() + i * v;
      const float* b = lt.data() + i * v;
      double ma = a[0], mb = b[0];
      int64_t ia = 0, ib = 0;
      for (int64_t k = 1; k < v; ++k) {
        if (a[k] > ma) ma = a[k], ia = k;
        if (b[k] > mb) mb = b[k], ib = k;
      }
      double sa = 0, sb = 0;
      for (int64_t k = 0; k < v; ++k) {
        sa += std::exp(a[k] - ma);
        sb += std::exp(b[k] - mb);
      }
      const double la = std::log(sa), lb = std::log(sb);
      for (int64_t k = 0; k < v; ++k) {
        const double pa = a[k] - ma - la, pb = b[k] - mb - lb;
        kl += std::exp(pa) * (pa - pb);
      }
      agree += ia == ib;
    }
    r.Set("mean_kl", JsonValue::Double(kl / n));
    r.Set("top1_agreement", JsonValue::Double(static_cast<double>(agree) / n));
    engine::PerplexityOptions po;
    po.ctx_len = c.ctx_len;
    po.device = c.device;
    po.weight_format = cp.weight_format;
    po.mxint8_kv_cache = cp.mxint8_kv_cache;
    auto ppl = engine::Perplexity(*test, text, po);
    r.Set("perplexity",
          ppl.ok() ? JsonValue::Double(ppl->perplexity) : JsonValue::Null());
  }
  return r;
}

// Runs a cell in a child process (this binary with --cell); the child's
// peak RSS comes from wait4.
absl::StatusOr<JsonValue> SpawnCell(const std::string& self, const Cell& c,
                                    const std::string& result_path,
                                    const std::string& qeff_home) {
  const std::string cell = base::WriteJson(c.ToJson());
  std::vector<std::string> args = {self, "--cell=" + cell,
                                   "--cell_out=" + result_path,
                                   "--qeff_home=" + qeff_home};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ) !=
      0)
    return absl::InternalError(absl::StrCat("cannot run ", self));
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0)
    return absl::InternalError("wait4 failed");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return absl::InternalError(absl::StrCat(
        "cell ", cell, " failed (",
        WIFEXITED(status) ? absl::StrCat("exit ", WEXITSTATUS(status))
                          : absl::StrCat("signal ", WTERMSIG(status)),
        ")"));
  QEFF_ASSIGN_OR_RETURN(std::string text, base::ReadFile(result_path));
  QEFF_ASSIGN_OR_RETURN(JsonValue r, base::ParseJson(text));
  r.Set("peak_rss_bytes",
        JsonValue::Int(static_cast<int64_t>(ru.ru_maxrss) * 1024));
  return r;
}

std::string Num(const JsonValue* v, const char* fmt) {
  if (!v || !v->is_number()) return "";
  return absl::StrFormat(fmt, v->number());
}

// A model's name for the chart: its file, or folder/file when the file
// name alone says little ("model.gguf").
std::string ModelLabel(const std::string& path) {
  std::filesystem::path p(path);
  const std::string stem = p.stem().string();
  if (stem == "model" || stem == "pytorch_model")
    return (p.parent_path().filename() / p.filename()).string();
  return p.filename().string();
}

// Quality (top-1 agreement with f32) vs decode speed; one color per model,
// a labelled point per (precision, ctx_len).
std::string Chart(const std::vector<std::pair<Cell, JsonValue>>& rows) {
  const double W = 760, H = 460, L = 80, R = 200, T = 50, B = 60;
  double xmax = 1, ymin = 1, ymax = 1;
  for (const auto& [c, r] : rows) {
    const JsonValue* x = r.Find("decode_tok_s");
    const JsonValue* y = r.Find("top1_agreement");
    if (x && x->is_number()) xmax = std::max(xmax, x->number());
    if (y && y->is_number()) ymin = std::min(ymin, y->number());
  }
  ymin = std::floor(std::max(0.0, ymin - 0.05) * 10) / 10;
  // A round x step (1, 2 or 5 × 10^k) with about five ticks.
  double step = std::pow(10.0, std::floor(std::log10(xmax * 1.1 / 5)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (xmax * 1.1 / (step * m) <= 5.5) {
      step *= m;
      break;
    }
  }
  const int xticks = static_cast<int>(std::ceil(xmax * 1.1 / step));
  xmax = step * xticks;
  auto px = [&](double x) { return L + (W - L - R) * x / xmax; };
  auto py = [&](double y) {
    return T + (H - T - B) * (ymax - y) / (ymax - ymin);
  };
  const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                          "#ff7f0e"};
  std::map<std::string, int> model_color;
  std::string s = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" "
      "height=\"100%%\" fill=\"white\"/>\n<text x=\"%g\" y=\"24\" "
      "font-size=\"16\" font-weight=\"bold\">Quality vs decode speed "
      "(each point: precision, ctx_len)</text>\n",
      W, H, L);
  // Axes, ticks and grid.
  absl::StrAppend(
      &s,
      absl::StrFormat(
          "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n"
          "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n",
          L, H - B, W - R, H - B, L, T, L, H - B));
  for (int i = 0; i <= 5; ++i) {
    const double xv = xmax * i / 5, yv = ymin + (ymax - ymin) * i / 5;
    absl::StrAppend(
        &s,
        absl::StrFormat(
            "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%.0f</text>\n"
            "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>\n"
            "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.0f%%</text>\n",
            px(xv), H - B + 18, xv, L, py(yv), W - R, py(yv), L - 6, py(yv) + 4,
            yv * 100));
  }
  absl::StrAppend(
      &s, absl::StrFormat(
              "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">decode tokens/s "
              "(higher is faster)</text>\n<text transform=\"translate(18,%g) "
              "rotate(-90)\" text-anchor=\"middle\">top-1 agreement with f32 "
              "(higher "
              "is closer)</text>\n",
              (L + W - R) / 2, H - 18, (T + H - B) / 2));
  // Labels never overlap: each goes right of its point, moved down a line
  // at a time past the labels already placed (a thin line joins them).
  struct Box {
    double x, y, w;
  };
  std::vector<Box> placed;
  const double lh = 12;
  for (const auto& [c, r] : rows) {
    const JsonValue* x = r.Find("decode_tok_s");
    const JsonValue* y = r.Find("top1_agreement");
    if (!x || !y || !x->is_number() || !y->is_number()) continue;
    auto [it, added] =
        model_color.emplace(c.model, static_cast<int>(model_color.size()) % 5);
    const char* col = colors[it->second];
    const double cx = px(x->number()), cy = py(y->number());
    const std::string label = absl::StrCat(c.precision, " ctx ", c.ctx_len);
    const double w = 5.8 * label.size();  // 10px sans-serif, generously
    double lx = cx + 8, ly = cy - 4;
    for (bool moved = true; moved;) {
      moved = false;
      for (const Box& o : placed) {
        if (lx < o.x + o.w && o.x < lx + w && std::abs(o.y - ly) < lh) {
          ly = o.y + lh;
          moved = true;
        }
      }
    }
    placed.push_back({lx, ly, w});
    absl::StrAppend(
        &s, absl::StrFormat("<circle cx=\"%g\" cy=\"%g\" r=\"5\" "
                            "fill=\"%s\" fill-opacity=\"0.8\">"
                            "<title>%s %s ctx %d</title></circle>\n",
                            cx, cy, col, ModelLabel(c.model), c.precision,
                            c.ctx_len));
    if (std::abs(ly - (cy - 4)) > 1)
      absl::StrAppend(&s, absl::StrFormat("<line x1=\"%g\" y1=\"%g\" x2=\"%g\" "
                                          "y2=\"%g\" stroke=\"%s\" "
                                          "stroke-width=\"0.5\"/>\n",
                                          cx + 4, cy, lx - 1, ly - 4, col));
    absl::StrAppend(&s, absl::StrFormat("<text x=\"%g\" y=\"%g\" fill=\"%s\" "
                                        "font-size=\"10\">%s ctx %d</text>\n",
                                        lx, ly, col, c.precision, c.ctx_len));
  }
  int k = 0;
  for (const auto& [model, ci] : model_color) {
    absl::StrAppend(
        &s, absl::StrFormat("<circle cx=\"%g\" cy=\"%g\" r=\"5\" "
                            "fill=\"%s\"/><text x=\"%g\" "
                            "y=\"%g\">%s</text>\n",
                            W - R + 16, T + 10 + 20 * k, colors[ci], W - R + 26,
                            T + 14 + 20 * k, ModelLabel(model)));
    ++k;
  }
  return s + "</svg>\n";
}

absl::Status RunGrid(const std::string& argv0) {
  const std::string home = absl::GetFlag(FLAGS_qeff_home).empty()
                               ? engine::DefaultQeffHome()
                               : UserPath(absl::GetFlag(FLAGS_qeff_home));
  ::setenv("QEFF_HOME", home.c_str(), 1);
  if (!absl::GetFlag(FLAGS_cell).empty()) {  // a child: one cell
    QEFF_ASSIGN_OR_RETURN(JsonValue j,
                          base::ParseJson(absl::GetFlag(FLAGS_cell)));
    QEFF_ASSIGN_OR_RETURN(Cell c, CellFromJson(j));
    QEFF_ASSIGN_OR_RETURN(JsonValue r, RunCell(c));
    return base::WriteFileAtomically(absl::GetFlag(FLAGS_cell_out),
                                     base::WriteJson(r) + "\n");
  }
  const std::string grid_path = UserPath(absl::GetFlag(FLAGS_grid));
  const std::string out = UserPath(absl::GetFlag(FLAGS_out));
  if (grid_path.empty() || out.empty())
    return absl::InvalidArgumentError("--grid and --out are required");
  QEFF_ASSIGN_OR_RETURN(std::string text, base::ReadFile(grid_path));
  auto grid = base::ParseJson(text);
  if (!grid.ok() || !grid->is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(grid_path, ": not a JSON object"));
  auto where = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(grid_path, ": ", s.message()));
  };
  auto models = Strings(*grid, "models", {});
  if (!models.ok()) return where(models.status());
  auto devices = Strings(*grid, "devices", {"cpu"});
  if (!devices.ok()) return where(devices.status());
  auto precisions = Strings(*grid, "precisions", {"f32"});
  if (!precisions.ok()) return where(precisions.status());
  if (models->empty())
    return absl::InvalidArgumentError(
        absl::StrCat(grid_path, ": no \"models\""));
  std::vector<JsonValue> shapes;
  if (const JsonValue* s = grid->Find("shapes")) {
    if (!s->is_array() || s->array().empty())
      return absl::InvalidArgumentError(
          absl::StrCat(grid_path, ": \"shapes\" must be a non-empty list"));
    shapes = s->array();
  } else {
    shapes.push_back(JsonValue::Object());
  }
  std::vector<Cell> cells;
  for (const std::string& m : *models)
    for (const std::string& d : *devices)
      for (const std::string& p : *precisions)
        for (const JsonValue& sh : shapes) {
          JsonValue j = sh;
          if (!j.is_object())
            return absl::InvalidArgumentError(
                absl::StrCat(grid_path, ": each shape must be an object"));
          j.Set("model", JsonValue::String(UserPath(m)));
          j.Set("device", JsonValue::String(d));
          j.Set("precision", JsonValue::String(p));
          for (const char* k : {"text_file", "prompt"})
            if (const JsonValue* v = grid->Find(k)) j.Set(k, *v);
          if (const JsonValue* v = grid->Find("generation_len"))
            j.Set("generation_len", *v);
          auto c = CellFromJson(j);
          if (!c.ok()) return where(c.status());
          if (!c->text_file.empty()) c->text_file = UserPath(c->text_file);
          auto params = ParamsFor(*c);
          if (!params.ok()) return where(params.status());
          cells.push_back(*std::move(c));
        }
  QEFF_RETURN_IF_ERROR(base::MakeDirs(out + "/cells"));
  auto key_of = [](const Cell& c) {
    return base::Sha256Hex(base::WriteJson(c.ToJson())).substr(0, 16);
  };
  // The programs of every unfinished cell, compiled first by the compile
  // graph (each model loaded once, exports shared, compiles concurrent);
  // the cells then find them in the artifact store.
  std::vector<engine::JobSpec> jobs;
  for (const Cell& c : cells) {
    if (base::FileExists(absl::StrCat(out, "/cells/", key_of(c), ".json")))
      continue;
    QEFF_ASSIGN_OR_RETURN(engine::CompileParams cp, ParamsFor(c));
    engine::JobSpec run;
    run.id = absl::StrCat(key_of(c), "-run");
    run.model_path = c.model;
    run.device = c.device;
    run.compile = engine::ToCompileOptions(cp);
    run.specializations =
        hw::CausalLMSpecializations(c.prompt_len, c.ctx_len, c.batch_size, 0);
    jobs.push_back(run);
    if (c.text_file.empty()) continue;
    engine::JobSpec score = run;  // teacher forcing and perplexity chunks
    score.id = absl::StrCat(key_of(c), "-score");
    score.transform.all_logits = true;
    score.specializations =
        hw::CausalLMSpecializations(c.ctx_len, c.ctx_len, 1, 0);
    jobs.push_back(score);
    score.id = absl::StrCat(key_of(c), "-f32");
    score.compile = engine::ToCompileOptions(engine::CompileParams{});
    jobs.push_back(score);
  }
  if (!jobs.empty()) {
    std::vector<engine::JobMsg> msgs = engine::MakeJobs(std::move(jobs));
    engine::CompileGraphOptions go;
    go.qeff_home = home;
    QEFF_ASSIGN_OR_RETURN(engine::CompileGraphStats st,
                          engine::CompileGraph(go).Run(msgs));
    for (const engine::JobMsg& m : msgs) {
      engine::JobResult r = m.state->Snapshot();
      if (!r.status.ok())
        return absl::Status(r.status.code(),
                            absl::StrCat("compiling ", m.spec->model_path, ": ",
                                         r.status.message()));
    }
    std::cout << "programs: " << st.compiles << " compiled, "
              << st.programs_reused << " reused, in " << st.wall_s << " s\n";
  }
  std::vector<std::pair<Cell, JsonValue>> rows;
  const bool tty = ::isatty(1);
  for (size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    const std::string key = key_of(c);
    const std::string path = absl::StrCat(out, "/cells/", key, ".json");
    const std::string label =
        absl::StrFormat("[%d/%d] %s %s %s ctx %d", i + 1, cells.size(),
                        std::filesystem::path(c.model).filename().string(),
                        c.device, c.precision, c.ctx_len);
    JsonValue r;
    if (base::FileExists(path)) {
      QEFF_ASSIGN_OR_RETURN(std::string t, base::ReadFile(path));
      QEFF_ASSIGN_OR_RETURN(r, base::ParseJson(t));
      std::cout << (tty ? "\r\x1b[K" : "") << label << ": reused"
                << (tty ? "" : "\n") << std::flush;
    } else {
      std::cout << (tty ? "\r\x1b[K" : "") << label << " ..." << std::flush;
      QEFF_ASSIGN_OR_RETURN(r, SpawnCell(argv0, c, path + ".cell", home));
      QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(path, base::WriteJson(r)));
      QEFF_RETURN_IF_ERROR(base::RemoveAll(path + ".cell"));
      std::cout << (tty ? "" : " done\n") << std::flush;
    }
    rows.push_back({c, std::move(r)});
  }
  if (tty) std::cout << "\n";
  // CSV and JSON.
  const char* metrics[] = {"prefill_tok_s",   "decode_tok_s",
                           "ttft_s",          "peak_rss_bytes",
                           "program_bytes",   "mean_kl",
                           "top1_agreement",  "perplexity",
                           "modelled_ttft_s", "modelled_decode_tok_s"};
  std::string csv =
      absl::StrCat("model,device,precision,prompt_len,ctx_len,batch_size,",
                   absl::StrJoin(metrics, ","), "\n");
  JsonValue all = JsonValue::Array();
  for (const auto& [c, r] : rows) {
    absl::StrAppend(&csv, "\"", c.model, "\",", c.device, ",", c.precision, ",",
                    c.prompt_len, ",", c.ctx_len, ",", c.batch_size);
    for (const char* m : metrics)
      absl::StrAppend(&csv, ",", Num(r.Find(m), "%.6g"));
    absl::StrAppend(&csv, "\n");
    JsonValue row = c.ToJson();
    for (const char* m : metrics)
      row.Set(m, r.Find(m) ? *r.Find(m) : JsonValue::Null());
    all.Append(std::move(row));
  }
  QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(out + "/sweep.csv", csv));
  base::JsonWriteOptions wo;
  wo.indent = 1;
  QEFF_RETURN_IF_ERROR(
      base::WriteFileAtomically(out + "/sweep.json", base::WriteJson(all, wo)));
  QEFF_RETURN_IF_ERROR(
      base::WriteFileAtomically(out + "/sweep.svg", Chart(rows)));
  std::cout << cells.size() << " cells: " << out << "/sweep.csv, sweep.json, "
            << "sweep.svg\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  // The children are this binary: resolve it before anything changes cwd.
  std::string self = "/proc/self/exe";
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0) self.assign(buf, static_cast<size_t>(n));
  return qeff::tools::RunTool(
      argc, argv, "sweep",
      "A grid of models x devices x precisions x shapes -> CSV, JSON, SVG.",
      [&](const std::string&) { return qeff::tools::RunGrid(self); });
}
