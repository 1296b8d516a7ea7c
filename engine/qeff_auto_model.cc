#include "engine/qeff_auto_model.h"

#include <chrono>
#include <cstdlib>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/digest.h"
#include "base/files.h"
#include "base/params_hash.h"
#include "base/status_macros.h"
#include "base/sysinfo.h"
#include "engine/artifacts.h"
#include "engine/batch_shapes.h"
#include "engine/executor.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "engine/qeff_auto_model_audio.h"
#include "engine/qeff_auto_model_embedding.h"
#include "engine/versions.h"
#include "hw/device_registry.h"
#include "hw/graph_io.h"
#include "ir/onnx_import.h"
#include "passes/export.h"

namespace qeff::engine {
namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

PerfMetrics FromStats(const GenerationStats& s) {
  return PerfMetrics{s.ttft_s, s.decode_tok_s, s.total_tok_s, s.e2e_s};
}

absl::StatusOr<int64_t> IntParam(absl::string_view name,
                                 const base::JsonValue& v) {
  auto i =
      v.is_number()
          ? v.AsInt64()
          : absl::StatusOr<int64_t>(absl::InvalidArgumentError("not a number"));
  if (!i.ok() || *i < 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "compile parameter '", name, "' must be a non-negative integer"));
  return *i;
}

absl::StatusOr<bool> BoolParam(absl::string_view name,
                               const base::JsonValue& v) {
  if (!v.is_bool())
    return absl::InvalidArgumentError(
        absl::StrCat("compile parameter '", name, "' must be true or false"));
  return v.bool_value();
}

}  // namespace

absl::Status SetCompileParam(CompileParams* p, absl::string_view name,
                             const base::JsonValue& v) {
  static const char* const kNotImplemented[] = {
      "kv_cache_batch_size",
      "prefill_only",
      "comp_ctx_lengths_prefill",
      "comp_ctx_lengths_decode",
      "num_speculative_tokens",
      "enable_qnn",
      "qnn_config",
      "use_onnx_subfunctions",
      "mdp_ts_num_devices",
      "mdp_ts_json_path",
      "allow_mxint8_mdp_io",
      "offload_pt_weights",
      "enable_chunking",
      "retain_full_kv",
  };
  for (const char* n : kNotImplemented) {
    if (name == n)
      return absl::UnimplementedError(
          absl::StrCat("compile parameter '", name,
                       "' (QEfficient) is not supported by qeff yet"));
  }
  if (name == "prefill_seq_len") {
    QEFF_ASSIGN_OR_RETURN(p->prefill_seq_len, IntParam(name, v));
  } else if (name == "ctx_len") {
    QEFF_ASSIGN_OR_RETURN(p->ctx_len, IntParam(name, v));
  } else if (name == "batch_size") {
    QEFF_ASSIGN_OR_RETURN(p->batch_size, IntParam(name, v));
  } else if (name == "full_batch_size") {
    QEFF_ASSIGN_OR_RETURN(p->full_batch_size, IntParam(name, v));
  } else if (name == "num_cores") {
    QEFF_ASSIGN_OR_RETURN(int64_t n, IntParam(name, v));
    p->num_cores = static_cast<int>(n);
  } else if (name == "num_devices") {
    QEFF_ASSIGN_OR_RETURN(int64_t n, IntParam(name, v));
    p->num_devices = static_cast<int>(n);
  } else if (name == "mxfp6_matmul") {
    QEFF_ASSIGN_OR_RETURN(p->mxfp6_matmul, BoolParam(name, v));
  } else if (name == "mxint8_kv_cache") {
    QEFF_ASSIGN_OR_RETURN(p->mxint8_kv_cache, BoolParam(name, v));
  } else if (name == "weight_format") {
    if (!v.is_string())
      return absl::InvalidArgumentError(
          "compile parameter 'weight_format' must be a string");
    auto f = ir::ParseQuantFormat(v.string_value());
    if (!f.ok() ||
        (*f != ir::QuantFormat::kQ8_0 && *f != ir::QuantFormat::kQ4_0 &&
         *f != ir::QuantFormat::kMXFP6))
      return absl::InvalidArgumentError(
          absl::StrCat("compile parameter 'weight_format': '", v.string_value(),
                       "' (use q8_0, q4_0 or mxfp6)"));
    p->weight_format = *f;
  } else if (name == "mos") {
    if (!v.is_number() || !v.AsInt64().ok())
      return absl::InvalidArgumentError(
          "compile parameter 'mos' must be an integer");
    p->mos = static_cast<int>(*v.AsInt64());
  } else if (name == "aic_enable_depth_first") {
    QEFF_ASSIGN_OR_RETURN(p->aic_enable_depth_first, BoolParam(name, v));
  } else if (name == "specializations") {
    QEFF_ASSIGN_OR_RETURN(p->specializations,
                          hw::SpecializationsFromJson(v, "specializations"));
  } else if (name == "seq_len") {
    p->seq_len.clear();
    if (v.is_array()) {
      for (const base::JsonValue& e : v.array()) {
        QEFF_ASSIGN_OR_RETURN(int64_t n, IntParam(name, e));
        p->seq_len.push_back(n);
      }
    } else {
      QEFF_ASSIGN_OR_RETURN(int64_t n, IntParam(name, v));
      p->seq_len.push_back(n);
    }
  } else if (name == "compile_dir" || name == "device") {
    if (!v.is_string())
      return absl::InvalidArgumentError(
          absl::StrCat("compile parameter '", name, "' must be a string"));
    (name == "device" ? p->device : p->compile_dir) = v.string_value();
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown compile parameter '", name,
        "' (known: prefill_seq_len, ctx_len, batch_size, full_batch_size, "
        "num_cores, num_devices, mxfp6_matmul, mxint8_kv_cache, weight_format, "
        "mos, "
        "aic_enable_depth_first, specializations, seq_len, compile_dir, "
        "device)"));
  }
  return absl::OkStatus();
}

hw::CompileOptions ToCompileOptions(const CompileParams& params) {
  hw::CompileOptions co;
  co.num_cores = params.num_cores;
  co.num_devices = params.num_devices;
  co.mxfp6_matmul = params.mxfp6_matmul;
  co.mxint8_kv_cache = params.mxint8_kv_cache;
  co.aic_mos = params.mos;
  co.aic_enable_depth_first = params.aic_enable_depth_first;
  co.weight_format = params.weight_format;
  co.weight_dtype = params.weight_dtype;
  return co;
}

absl::Status CheckStateFits(const ir::Graph& graph,
                            const std::vector<hw::Specialization>& specs) {
  QEFF_ASSIGN_OR_RETURN(hw::GraphIO io, hw::BindGraphIO(graph, specs));
  // Saturating: a product past 2^62 is "more than any host".
  constexpr int64_t kHuge = int64_t{1} << 62;
  int64_t bytes = 0;
  for (const hw::BoundIO& s : io.state) {
    int64_t n = static_cast<int64_t>(ir::DTypeSize(s.dtype));
    for (int64_t d : s.dims) n = (d > 0 && n > kHuge / d) ? kHuge : n * d;
    bytes = std::min(kHuge, bytes + n);
  }
  const int64_t avail = base::HostMemoryAvailableBytes();
  if (avail > 0 && bytes > avail) {
    std::string shape;
    for (const hw::Specialization& s : specs) {
      auto it = s.symbols.find("ctx_len");
      if (it != s.symbols.end()) {
        shape = absl::StrCat("ctx_len ", it->second, ": ");
        break;
      }
    }
    return absl::ResourceExhaustedError(
        absl::StrCat(shape, "the retained state (KV cache, ", io.state.size(),
                     " tensors) needs ",
                     bytes >= kHuge ? std::string("more than 4 EiB")
                                    : base::HumanBytes(bytes),
                     "; the host has ", base::HumanBytes(avail), " available"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ir::Graph> TransformLM(const ir::Graph& eager,
                                      const passes::TransformLMOptions& o) {
  return TransformForDevice(eager, o);
}

absl::Status QEFFBaseModel::Transform() {
  if (transformed_) return absl::OkStatus();
  QEFF_ASSIGN_OR_RETURN(ir::Graph g, RunTransform(model_->eager));
  transformed_ = std::move(g);
  return absl::OkStatus();
}

absl::StatusOr<std::string> QEFFBaseModel::Export(
    const std::string& export_dir) {
  QEFF_RETURN_IF_ERROR(Transform());
  passes::ExportArtifactOptions eo;
  eo.qeff_home = qeff_home_;
  eo.export_dir = export_dir;
  eo.architecture = model_architecture();
  eo.model_class = model_name();
  QEFF_ASSIGN_OR_RETURN(eo.params, ExportHashParams());
  QEFF_ASSIGN_OR_RETURN(passes::ExportedArtifact art,
                        passes::ExportArtifact(*transformed_, eo));
  onnx_path_ = art.onnx_path;
  export_hash_ = art.hash16;
  export_params_ = base::ToHashable(art.params);
  onnx_reused_ = art.reused;
  return onnx_path_;
}

absl::StatusOr<base::JsonValue> QEFFBaseModel::ExportHashParams() const {
  return ExportParams(qeff_home_, model_->source, model_architecture(),
                      transform_options());
}

absl::StatusOr<std::string> QEFFBaseModel::Compile(
    const CompileParams& params) {
  if (onnx_path_.empty()) QEFF_RETURN_IF_ERROR(Export().status());
  std::vector<hw::Specialization> specs;
  if (params.specializations) {
    specs = *params.specializations;
  } else {
    QEFF_ASSIGN_OR_RETURN(specs, Specializations(params));
  }
  QEFF_ASSIGN_OR_RETURN(std::unique_ptr<hw::Device> device,
                        hw::OpenDevice(params.device));
  const hw::CompileOptions co = ToCompileOptions(params);
  const base::JsonValue cp =
      CompileHashParams(export_hash_, specs, *device, co);
  const std::string dir = ProgramDir(
      params.compile_dir.empty() ? DirName(onnx_path_) : params.compile_dir,
      cp);
  // Memory as input: the retained state (KV cache) of this shape must fit
  // the host before anything is compiled or allocated.
  QEFF_RETURN_IF_ERROR(CheckStateFits(*transformed_, specs));
  std::shared_ptr<const hw::Program> program;
  bool reused = false;
  if (base::PublishedDirectoryExists(dir)) {
    QEFF_ASSIGN_OR_RETURN(program, LoadProgramDir(*device, dir));
    reused = true;
  } else {
    QEFF_ASSIGN_OR_RETURN(program, device->Compile(*transformed_, specs, co));
    QEFF_ASSIGN_OR_RETURN(
        bool published, SaveProgramDir(*device, *program, dir, cp,
                                       ProgramProvenanceJson(export_params_)));
    reused = !published;
  }
  device_ = std::move(device);
  program_ = std::move(program);
  qpc_path_ = dir;
  program_reused_ = reused;
  compile_params_ = params;
  compile_params_.specializations = specs;
  return qpc_path_;
}

void QEFFBaseModel::AdoptProgram(std::shared_ptr<hw::Device> device,
                                 std::shared_ptr<const hw::Program> program,
                                 const std::string& dir,
                                 const CompileParams& params) {
  device_ = std::move(device);
  program_ = std::move(program);
  qpc_path_ = dir;
  program_reused_ = true;
  compile_params_ = params;
}

std::string ProgramFolderOf(const std::string& qpc_path) {
  std::string p = qpc_path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  for (const char* sub : {"/qpcs", "/qpc"}) {
    if (absl::EndsWith(p, sub) &&
        !base::FileExists(p + "/specializations.json"))
      return p.substr(0, p.size() - std::string(sub).size());
  }
  return p;
}

absl::StatusOr<std::string> CompileOnnx(const std::string& onnx_path,
                                        const CompileParams& params,
                                        const std::string& qpc_dir) {
  QEFF_ASSIGN_OR_RETURN(ir::Graph g, ir::ImportOnnx(onnx_path));
  const bool cb = g.FindInput("batch_index").has_value();
  if (cb && params.full_batch_size <= 0)
    return absl::InvalidArgumentError(
        absl::StrCat(onnx_path,
                     " was exported for continuous batching: give "
                     "full_batch_size"));
  if (!cb && params.full_batch_size > 0)
    return absl::InvalidArgumentError(absl::StrCat(
        onnx_path,
        " was exported without continuous batching: full_batch_size "
        "needs a continuous-batching export"));
  if (params.prefill_seq_len <= 0 || params.ctx_len < params.prefill_seq_len ||
      params.batch_size <= 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "compile: prompt_len ", params.prefill_seq_len, ", ctx_len ",
        params.ctx_len, ", batch_size ", params.batch_size,
        ": need 0 < prompt_len <= ctx_len and batch_size >= 1"));
  std::vector<hw::Specialization> specs =
      params.specializations ? *params.specializations
                             : hw::CausalLMSpecializations(
                                   params.prefill_seq_len, params.ctx_len,
                                   params.batch_size, params.full_batch_size);
  QEFF_ASSIGN_OR_RETURN(std::unique_ptr<hw::Device> device,
                        hw::OpenDevice(params.device));
  if (base::PublishedDirectoryExists(qpc_dir)) {
    QEFF_RETURN_IF_ERROR(LoadProgramDir(*device, qpc_dir).status());
    return qpc_dir;
  }
  const hw::CompileOptions co = ToCompileOptions(params);
  QEFF_ASSIGN_OR_RETURN(std::shared_ptr<const hw::Program> program,
                        device->Compile(g, specs, co));
  // The program's key and provenance: the ONNX's content digest.
  QEFF_ASSIGN_OR_RETURN(const std::string digest, base::Sha256File(onnx_path));
  base::JsonValue source = base::JsonValue::Object();
  source.Set("onnx_sha256", base::JsonValue::String(digest));
  const base::JsonValue cp =
      CompileHashParams(digest.substr(0, 16), specs, *device, co);
  QEFF_RETURN_IF_ERROR(
      SaveProgramDir(*device, *program, qpc_dir, cp,
                     ProgramProvenanceJson(base::ToHashable(source)))
          .status());
  return qpc_dir;
}

absl::Status QEFFAutoModelForCausalLM::UseProgram(const std::string& qpc_path,
                                                  const std::string& device) {
  const std::string dir = ProgramFolderOf(qpc_path);
  std::string spec = device;
  if (spec.empty()) {
    QEFF_ASSIGN_OR_RETURN(std::string text,
                          base::ReadFile(dir + "/qconfig.json"));
    QEFF_ASSIGN_OR_RETURN(base::JsonValue q, base::ParseJson(text));
    const base::JsonValue* kind = q.Find("device");
    if (!kind || !kind->is_string())
      return absl::InvalidArgumentError(
          absl::StrCat(dir, "/qconfig.json: no \"device\""));
    spec = kind->string_value();
  }
  QEFF_ASSIGN_OR_RETURN(std::unique_ptr<hw::Device> d, hw::OpenDevice(spec));
  QEFF_ASSIGN_OR_RETURN(std::shared_ptr<const hw::Program> program,
                        LoadProgramDir(*d, dir));
  CompileParams p;
  p.device = spec;
  p.specializations = program->specializations();
  auto symbol = [&](const char* spec_name, const char* sym) -> int64_t {
    for (const hw::Specialization& s : *p.specializations)
      if (s.name == spec_name) {
        auto it = s.symbols.find(sym);
        if (it != s.symbols.end()) return it->second;
      }
    return 0;
  };
  p.prefill_seq_len = symbol("Prefill", "seq_len");
  p.ctx_len = symbol("Prefill", "ctx_len");
  p.full_batch_size = symbol("Prefill", "full_batch_size");
  p.batch_size = p.full_batch_size > 0 ? 1 : symbol("Prefill", "batch_size");
  if (p.prefill_seq_len <= 0 || p.ctx_len <= 0)
    return absl::InvalidArgumentError(absl::StrCat(
        dir, ": not a causal-LM program (needs Prefill seq_len and ctx_len)"));
  continuous_batching_ = p.full_batch_size > 0;
  AdoptProgram(std::shared_ptr<hw::Device>(std::move(d)), std::move(program),
               dir, p);
  return absl::OkStatus();
}

QEFFAutoModelForCausalLM::QEFFAutoModelForCausalLM(
    std::shared_ptr<const models::LoadedModel> model,
    const FromPretrainedOptions& options)
    : QEFFBaseModel(std::move(model), options.qeff_home.empty()
                                          ? DefaultQeffHome()
                                          : options.qeff_home),
      continuous_batching_(options.continuous_batching),
      all_logits_(options.all_logits) {}

absl::StatusOr<std::unique_ptr<QEFFAutoModelForCausalLM>>
QEFFAutoModelForCausalLM::FromPretrained(const std::string& path,
                                         const FromPretrainedOptions& options) {
  models::LoadOptions lo;
  lo.tokenizer_path = options.tokenizer_path;
  lo.hub_cache_dir = options.hub_cache_dir;
  QEFF_ASSIGN_OR_RETURN(models::LoadedModel m, models::Load(path, lo));
  if (m.config.family == models::ModelFamily::kWav2Vec2)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": '", m.architecture, "' is an audio model, not a causal LM ",
        "(QEFFAutoModelForCTC / QEFFAutoModelForAudioClassification, "
        "//tools:transcribe, //tools:classify_audio)"));
  return FromLoaded(std::make_shared<const models::LoadedModel>(std::move(m)),
                    options);
}

std::unique_ptr<QEFFAutoModelForCausalLM> QEFFAutoModelForCausalLM::FromLoaded(
    std::shared_ptr<const models::LoadedModel> model,
    const FromPretrainedOptions& options) {
  return std::unique_ptr<QEFFAutoModelForCausalLM>(
      new QEFFAutoModelForCausalLM(std::move(model), options));
}

absl::StatusOr<ir::Graph> QEFFAutoModelForCausalLM::RunTransform(
    const ir::Graph& eager) const {
  if (models::IsEncoderFamily(model_->config.family))
    return absl::FailedPreconditionError(absl::StrCat(
        model_->source, ": ", model_->architecture,
        " is an encoder (no language-model head): use QEFFAutoModel "
        "(//tools:embed) for embeddings"));
  return TransformLM(eager, transform_options());
}

passes::TransformLMOptions QEFFAutoModelForCausalLM::transform_options() const {
  passes::TransformLMOptions o;
  o.continuous_batching = continuous_batching_;
  o.all_logits = all_logits_;
  return o;
}

absl::StatusOr<std::vector<hw::Specialization>>
QEFFAutoModelForCausalLM::Specializations(const CompileParams& p) const {
  if (p.prefill_seq_len <= 0 || p.ctx_len <= 0 || p.batch_size <= 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "compile: prefill_seq_len (", p.prefill_seq_len, "), ctx_len (",
        p.ctx_len, ") and batch_size (", p.batch_size, ") must be positive"));
  if (p.prefill_seq_len > p.ctx_len)
    return absl::InvalidArgumentError(
        absl::StrCat("compile: prefill_seq_len ", p.prefill_seq_len,
                     " exceeds ctx_len ", p.ctx_len));
  if (continuous_batching_ && p.full_batch_size <= 0)
    return absl::InvalidArgumentError(
        "compile: a model loaded with continuous_batching needs "
        "full_batch_size");
  if (!continuous_batching_ && p.full_batch_size > 0)
    return absl::InvalidArgumentError(
        "compile: full_batch_size needs the model loaded with "
        "continuous_batching=true");
  return hw::CausalLMSpecializations(p.prefill_seq_len, p.ctx_len, p.batch_size,
                                     p.full_batch_size);
}

absl::StatusOr<std::vector<std::vector<int64_t>>> EncodePrompts(
    const models::LoadedModel& model, const std::vector<std::string>& prompts) {
  if (!model.tokenizer)
    return absl::FailedPreconditionError(
        absl::StrCat(model.source,
                     " has no tokenizer: give one (tokenizer_path) or prompt "
                     "ids"));
  std::vector<std::vector<int64_t>> out;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto ids = model.tokenizer->EncodePrompt(prompts[i]);
    if (!ids.ok())
      return absl::Status(
          ids.status().code(),
          absl::StrCat("prompt ", i, ": ", ids.status().message()));
    out.emplace_back(ids->begin(), ids->end());
  }
  return out;
}

absl::Status CheckPromptIds(const models::LoadedModel& model,
                            const std::vector<std::vector<int64_t>>& prompts) {
  for (size_t i = 0; i < prompts.size(); ++i) {
    for (int64_t id : prompts[i]) {
      if (id < 0 || id >= model.config.vocab_size)
        return absl::InvalidArgumentError(
            absl::StrCat("prompt ", i, ": ", id, " is not a token id in [0, ",
                         model.config.vocab_size, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<GenerateResult> QEFFAutoModelForCausalLM::Generate(
    const std::vector<std::string>& prompts, const GenerateOptions& options) {
  QEFF_ASSIGN_OR_RETURN(auto ids, EncodePrompts(*model_, prompts));
  std::vector<GeneratedText> outputs;
  for (size_t i = 0; i < prompts.size(); ++i) {
    GeneratedText g;
    g.prompt = prompts[i];
    g.prompt_ids = std::move(ids[i]);
    outputs.push_back(std::move(g));
  }
  return Run(std::move(outputs), options);
}

absl::StatusOr<GenerateResult> QEFFAutoModelForCausalLM::GenerateIds(
    const std::vector<std::vector<int64_t>>& prompts,
    const GenerateOptions& options) {
  QEFF_RETURN_IF_ERROR(CheckPromptIds(*model_, prompts));
  std::vector<GeneratedText> outputs;
  for (const std::vector<int64_t>& p : prompts) {
    GeneratedText g;
    g.prompt_ids = p;
    outputs.push_back(std::move(g));
  }
  return Run(std::move(outputs), options);
}

absl::StatusOr<GenerateResult> QEFFAutoModelForCausalLM::Run(
    std::vector<GeneratedText> outputs, const GenerateOptions& options) {
  if (outputs.empty()) return absl::InvalidArgumentError("no prompts");
  if (all_logits_)
    return absl::FailedPreconditionError(
        "a model loaded with all_logits scores text (engine/perplexity.h); "
        "load it without all_logits to generate");
  if (!program()) {
    CompileParams defaults;
    if (continuous_batching_) defaults.full_batch_size = 1;
    QEFF_RETURN_IF_ERROR(Compile(defaults).status());
  }
  const CompileParams& cp = compile_params();
  QEFF_ASSIGN_OR_RETURN(const BatchShape shape,
                        BatchShapeOf(*cp.specializations));
  // Capacity of every prompt before any work (DESIGN.md).
  const int64_t ctx_len = shape.ctx_len;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const int64_t L = static_cast<int64_t>(outputs[i].prompt_ids.size());
    if (L == 0)
      return absl::InvalidArgumentError(
          absl::StrCat("prompt ", i, ": no tokens"));
    auto n = TokensWithinCapacity(L, options.generation_len, ctx_len);
    if (!n.ok())
      return absl::Status(
          n.status().code(),
          absl::StrCat("prompt ", i, ": ", n.status().message()));
  }
  hw::Device::LoadOptions lo;
  lo.num_cores = cp.num_cores;
  QEFF_ASSIGN_OR_RETURN(std::unique_ptr<hw::Session> session,
                        device()->Load(program(), lo));
  // The one generation path: the executor's graph, serving this session.
  Executor executor;
  ServedModel served;
  served.name = model_name();
  if (model_->tokenizer)
    served.tokenizer = std::shared_ptr<const models::Tokenizer>(
        model_, model_->tokenizer.get());
  served.vocab_size = model_->config.vocab_size;
  ServedProgram sp;
  sp.session = session.get();
  sp.label = device()->name();
  sp.shape = shape;
  served.programs.push_back(sp);
  QEFF_RETURN_IF_ERROR(executor.AddModel(std::move(served)));
  std::vector<Request> requests;
  for (size_t i = 0; i < outputs.size(); ++i) {
    Request q;
    q.prompt_ids = outputs[i].prompt_ids;
    q.generation_len = options.generation_len;
    q.stop_at_eos = options.stop_at_eos;
    q.sampling = options.sampling;
    q.sampling.seed += i;  // prompt i draws from seed + i
    if (options.on_token) {
      q.on_response = [&options, i](const Response& r) {
        for (int64_t t : r.token_ids)
          options.on_token(static_cast<int64_t>(i), t, r.text);
      };
    }
    requests.push_back(std::move(q));
  }
  GenerateResult result;
  const auto t0 = std::chrono::steady_clock::now();
  QEFF_ASSIGN_OR_RETURN(std::vector<RequestId> ids,
                        executor.EnqueueBatch(std::move(requests)));
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto r = executor.Wait(ids[i]);
    if (!r.ok())
      return absl::Status(
          r.status().code(),
          absl::StrCat("prompt ", i, ": ", r.status().message()));
    outputs[i].token_ids = r->token_ids;
    outputs[i].text = r->text;
    outputs[i].perf = FromStats(ToGenerationResult(*r).stats);
  }
  executor.Shutdown();
  const double wall = Since(t0);
  for (const GeneratedText& g : outputs)
    result.generated_tokens += static_cast<int64_t>(g.token_ids.size());
  // QEfficient's metrics: per sequence (prefill time and decode rate
  // averaged over prompts; total rate per concurrent row), so that the
  // report's "× batch" gives the throughput.
  const int64_t rows = std::max<int64_t>(1, shape.rows);
  for (const GeneratedText& g : outputs) {
    result.perf.prefill_time += g.perf.prefill_time / outputs.size();
    result.perf.decode_perf += g.perf.decode_perf / outputs.size();
  }
  result.perf.total_time = wall;
  result.perf.total_perf =
      wall > 0 ? static_cast<double>(result.generated_tokens) / wall / rows : 0;
  result.outputs = std::move(outputs);
  return result;
}

absl::StatusOr<std::unique_ptr<QEFFBaseModel>> QEFFCommonLoader::FromPretrained(
    const std::string& path, const FromPretrainedOptions& options) {
  models::LoadOptions lo;
  lo.tokenizer_path = options.tokenizer_path;
  lo.hub_cache_dir = options.hub_cache_dir;
  QEFF_ASSIGN_OR_RETURN(models::LoadedModel m, models::Load(path, lo));
  const std::string arch = m.architecture;
  if (models::IsEncoderFamily(m.config.family)) {
    QEFF_ASSIGN_OR_RETURN(
        std::unique_ptr<QEFFAutoModel> e,
        QEFFAutoModel::FromLoaded(
            std::make_shared<const models::LoadedModel>(std::move(m)),
            options));
    return std::unique_ptr<QEFFBaseModel>(std::move(e));
  }
  if (absl::EndsWith(arch, "ForCausalLM") || arch == "GPT2LMHeadModel") {
    return std::unique_ptr<QEFFBaseModel>(QEFFAutoModelForCausalLM::FromLoaded(
        std::make_shared<const models::LoadedModel>(std::move(m)), options));
  }
  auto shared = [&] {
    return std::make_shared<const models::LoadedModel>(std::move(m));
  };
  if (IsAudioCtcArchitecture(arch)) {
    QEFF_ASSIGN_OR_RETURN(auto ctc,
                          QEFFAutoModelForCTC::FromLoaded(shared(), options));
    return std::unique_ptr<QEFFBaseModel>(std::move(ctc));
  }
  if (IsAudioClassificationArchitecture(arch)) {
    QEFF_ASSIGN_OR_RETURN(
        auto cls,
        QEFFAutoModelForAudioClassification::FromLoaded(shared(), options));
    return std::unique_ptr<QEFFBaseModel>(std::move(cls));
  }
  return absl::UnimplementedError(absl::StrCat(
      path, ": no QEfficient class for architecture '", arch,
      "' (QEFFAutoModelForCausalLM takes *ForCausalLM and GPT2LMHeadModel, "
      "QEFFAutoModel BertModel and NomicBertModel)"));
}

absl::Status Transform(QEFFBaseModel& model, absl::string_view form_factor) {
  if (form_factor != "cloud")
    return absl::InvalidArgumentError(
        absl::StrCat("transform: form_factor '", form_factor,
                     "' is not supported; only form_factor=\"cloud\" is"));
  return model.Transform();
}

}  // namespace qeff::engine
