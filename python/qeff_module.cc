// _qeff: the pybind11 extension under the pure-Python package `qeff`
// (python/src/qeff). It binds the C++ model API (engine/qeff_auto_model.h)
// as one class, CausalLM, with the command-line tools' own QEfficient
// conventions (tools/cli.h: FitToDevice, DeviceForGroup, FillBatch,
// DefaultGenerationLen) so Python and `//tools:infer` run the same code.
//
// What it does: every long call (from_pretrained, export, compile,
// generate) runs with the GIL released and the model's own mutex held; the
// streaming callback re-acquires the GIL for each token; an absl::Status
// error becomes a Python exception carrying its message (InvalidArgument
// and OutOfRange: ValueError; Unimplemented: qeff.UnsupportedError, a
// ValueError and NotImplementedError; NotFound: FileNotFoundError;
// AlreadyExists: FileExistsError; anything else: RuntimeError).
//
// What it does not do: QEfficient's argument names, defaults and result
// shapes live in the Python package, not here; an exception raised by the
// streaming callback stops further callbacks and is re-raised when the
// generation ends (the C++ generation is not cancelled midway);
// QEFFAutoModel (embeddings) is bound as Embedder; the audio class is not
// (it does not exist in the C++ API yet).
#include <pybind11/iostream.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/json.h"
#include "base/utf8.h"
#include "engine/qeff_auto_model.h"
#include "engine/qeff_auto_model_embedding.h"
#include "engine/sampler.h"
#include "hw/device_registry.h"
#include "tools/cli.h"

namespace qeff::python {
namespace {

namespace py = pybind11;
using engine::QEFFAutoModelForCausalLM;

// qeff.UnsupportedError: raised for a QEfficient argument qeff does not
// implement (absl Unimplemented). Both a ValueError and a
// NotImplementedError, so either `except` catches it.
PyObject* g_unsupported_error = nullptr;

// Raises the Python exception for a failed status. Needs the GIL.
[[noreturn]] void Raise(const absl::Status& s) {
  PyObject* type = PyExc_RuntimeError;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      type = PyExc_ValueError;
      break;
    case absl::StatusCode::kUnimplemented:
      type = g_unsupported_error ? g_unsupported_error : PyExc_ValueError;
      break;
    case absl::StatusCode::kNotFound:
      type = PyExc_FileNotFoundError;
      break;
    case absl::StatusCode::kAlreadyExists:
      type = PyExc_FileExistsError;
      break;
    default:
      break;
  }
  PyErr_SetString(type, std::string(s.message()).c_str());
  throw py::error_already_set();
}

void Check(const absl::Status& s) {
  if (!s.ok()) Raise(s);
}

template <typename T>
T Unwrap(absl::StatusOr<T> s) {
  if (!s.ok()) Raise(s.status());
  return std::move(s).value();
}

// A Python str from bytes that may end inside a UTF-8 character (a byte
// token): invalid bytes become U+FFFD, as the tools' JSON writes them.
py::str Text(const std::string& s) { return py::str(base::ValidUtf8(s)); }

// A Python value (None, bool, int, float, str, list, tuple, dict with str
// keys) as JSON for SetCompileParam; anything else is InvalidArgument
// naming `what`.
absl::StatusOr<base::JsonValue> ToJson(py::handle v, const std::string& what) {
  if (v.is_none()) return base::JsonValue::Null();
  if (py::isinstance<py::bool_>(v))
    return base::JsonValue::Bool(v.cast<bool>());
  if (py::isinstance<py::int_>(v))
    return base::JsonValue::Int(v.cast<int64_t>());
  if (py::isinstance<py::float_>(v))
    return base::JsonValue::Double(v.cast<double>());
  if (py::isinstance<py::str>(v))
    return base::JsonValue::String(v.cast<std::string>());
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    base::JsonValue a = base::JsonValue::Array();
    for (py::handle x : v) {
      auto j = ToJson(x, what);
      if (!j.ok()) return j.status();
      a.Append(std::move(*j));
    }
    return a;
  }
  if (py::isinstance<py::dict>(v)) {
    base::JsonValue o = base::JsonValue::Object();
    for (auto kv : v.cast<py::dict>()) {
      if (!py::isinstance<py::str>(kv.first))
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": dictionary keys must be strings"));
      auto j = ToJson(kv.second, what);
      if (!j.ok()) return j.status();
      o.Set(kv.first.cast<std::string>(), std::move(*j));
    }
    return o;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": unsupported value of type ",
      py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>()));
}

py::dict PerfDict(const engine::PerfMetrics& p) {
  py::dict d;
  d["prefill_time"] = p.prefill_time;
  d["decode_perf"] = p.decode_perf;
  d["total_perf"] = p.total_perf;
  d["total_time"] = p.total_time;
  return d;
}

// The streaming callback's state, owned by the generate call's frame; the
// std::function the engine copies holds only a pointer to it, so no Python
// object is copied or destroyed without the GIL.
struct StreamState {
  py::object callback;  // (index, token_id, text) -> None
  std::optional<py::error_already_set> error;  // the first exception raised
};

// A causal LM as Python holds it: the C++ model and a mutex serialising
// calls from several Python threads (the GIL is released inside them).
class CausalLM {
 public:
  static std::unique_ptr<CausalLM> FromPretrained(
      const std::string& path, bool continuous_batching,
      const std::string& tokenizer_path, const std::string& hub_cache_dir,
      const std::string& qeff_home, bool common_loader) {
    engine::FromPretrainedOptions o;
    o.continuous_batching = continuous_batching;
    o.tokenizer_path = tokenizer_path;
    o.hub_cache_dir = hub_cache_dir;
    o.qeff_home = qeff_home;
    absl::StatusOr<std::unique_ptr<QEFFAutoModelForCausalLM>> m;
    {
      py::gil_scoped_release nogil;
      m = common_loader ? LoadCommon(path, o)
                        : QEFFAutoModelForCausalLM::FromPretrained(path, o);
    }
    auto self = std::make_unique<CausalLM>();
    self->model_ = Unwrap(std::move(m));
    return self;
  }

  std::string Export(const std::string& export_dir) {
    absl::StatusOr<std::string> r;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      r = model_->Export(export_dir);
    }
    return Unwrap(std::move(r));
  }

  // `params`: QEfficient's compile parameter names (SetCompileParam's) to
  // values. `aic_options_given`: mos / aic_enable_depth_first were passed,
  // so FitToDevice says they have no effect on a host device.
  std::string Compile(const py::dict& params, bool aic_options_given) {
    engine::CompileParams cp;
    for (auto kv : params) {
      const std::string name = kv.first.cast<std::string>();
      base::JsonValue v = Unwrap(ToJson(kv.second, name));
      Check(engine::SetCompileParam(&cp, name, v));
    }
    {
      // FitToDevice prints its notes on std::cout: send them to sys.stdout
      // so they interleave with Python's output. It reads which flags a
      // tool was given from tools::GivenFlags(); the GIL serialises this.
      py::scoped_ostream_redirect out(
          std::cout, py::module_::import("sys").attr("stdout"));
      std::set<std::string>& given = tools::GivenFlags();
      const bool had_mos = given.count("mos") > 0;
      if (aic_options_given) given.insert("mos");
      absl::Status s = tools::FitToDevice(&cp);
      if (aic_options_given && !had_mos) given.erase("mos");
      Check(s);
    }
    absl::StatusOr<std::string> r;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      r = model_->Compile(cp);
      if (r.ok()) compiled_device_ = cp.device;
    }
    return Unwrap(std::move(r));
  }

  // QEfficient's qpc_path for execution: a program folder compiled before.
  void UseProgram(const std::string& qpc_path, const std::string& device) {
    absl::Status s;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      s = model_->UseProgram(qpc_path, device);
      if (s.ok()) compiled_device_ = model_->compile_params().device;
    }
    Check(s);
  }

  // QEfficient's device_id: [k] runs the compiled program on card k of the
  // device it was compiled (or first loaded) for (tools' DeviceForGroup:
  // "cpu:N" -> "cpu:N/k"), [0] card 0; more than one id is refused by name.
  // (The package passes device_id=None as no call: the current card.)
  void UseDeviceGroup(const std::vector<int>& group) {
    absl::Status s;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      if (model_->qpc_path().empty()) {
        s = absl::FailedPreconditionError(
            "device_id: the model has no compiled program yet (call compile)");
      } else {
        absl::StatusOr<std::string> spec =
            tools::DeviceForGroup(compiled_device_, group);
        if (!spec.ok()) {
          s = spec.status();
        } else if (*spec != model_->compile_params().device) {
          s = model_->UseProgram(model_->qpc_path(), *spec);
        }
      }
    }
    Check(s);
  }

  // Generates for text prompts (ids empty) or id prompts. generation_len 0:
  // fill the context (tools' DefaultGenerationLen). fill_batch: repeat
  // prompts to fill batch_size / full_batch_size (QEfficient's fix_prompts).
  py::dict Generate(std::vector<std::string> prompts,
                    const std::vector<std::vector<int64_t>>& ids,
                    int64_t generation_len, bool stop_at_eos, bool fill_batch,
                    const py::object& on_token, const py::dict& sampling) {
    engine::GenerateOptions go;
    go.stop_at_eos = stop_at_eos;
    for (auto kv : sampling) {
      const std::string k = kv.first.cast<std::string>();
      engine::SamplingParams& p = go.sampling;
      if (k == "temperature") {
        p.temperature = kv.second.cast<float>();
      } else if (k == "top_k") {
        p.top_k = kv.second.cast<int64_t>();
      } else if (k == "top_p") {
        p.top_p = kv.second.cast<float>();
      } else if (k == "min_p") {
        p.min_p = kv.second.cast<float>();
      } else if (k == "repetition_penalty") {
        p.repetition_penalty = kv.second.cast<float>();
      } else if (k == "presence_penalty") {
        p.presence_penalty = kv.second.cast<float>();
      } else if (k == "seed") {
        p.seed = kv.second.cast<uint64_t>();
      } else {
        Raise(absl::InvalidArgumentError(
            absl::StrCat("unknown sampling parameter '", k, "'")));
      }
    }
    Check(engine::ValidateSamplingParams(go.sampling));
    if (fill_batch && ids.empty()) {
      const engine::CompileParams& cp = model_->compile_params();
      py::scoped_ostream_redirect out(
          std::cout, py::module_::import("sys").attr("stdout"));
      prompts = tools::FillBatch(std::move(prompts), cp.full_batch_size > 0
                                                         ? cp.full_batch_size
                                                         : cp.batch_size);
    }
    StreamState stream;
    if (!on_token.is_none()) {
      stream.callback = on_token;
      StreamState* st = &stream;
      go.on_token = [st](int64_t index, int64_t id, const std::string& text) {
        py::gil_scoped_acquire gil;
        if (st->error) return;  // the callback failed: no more calls
        try {
          st->callback(index, id, Text(text));
        } catch (py::error_already_set& e) {
          st->error.emplace(std::move(e));
        }
      };
    }
    absl::StatusOr<engine::GenerateResult> r;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      if (model_->qpc_path().empty()) {
        r = absl::FailedPreconditionError(
            "generate: the model has no compiled program (call compile "
            "first)");
      } else {
        const engine::CompileParams& cp = model_->compile_params();
        go.generation_len = generation_len;
        if (go.generation_len <= 0) {
          if (ids.empty()) {
            go.generation_len =
                tools::DefaultGenerationLen(*model_, prompts, cp.ctx_len);
          } else {
            int64_t longest = 0;
            for (const auto& p : ids)
              longest = std::max<int64_t>(longest, p.size());
            go.generation_len = std::max<int64_t>(1, cp.ctx_len - longest);
          }
        }
        r = ids.empty() ? model_->Generate(prompts, go)
                        : model_->GenerateIds(ids, go);
      }
    }
    if (stream.error) throw std::move(*stream.error);
    engine::GenerateResult res = Unwrap(std::move(r));
    py::list outputs;
    for (const engine::GeneratedText& g : res.outputs) {
      py::dict o;
      o["prompt"] = g.prompt ? py::object(py::str(*g.prompt)) : py::none();
      o["prompt_ids"] = g.prompt_ids;
      o["token_ids"] = g.token_ids;
      o["text"] = Text(g.text);
      o["perf"] = PerfDict(g.perf);
      outputs.append(o);
    }
    py::dict d;
    d["outputs"] = outputs;
    d["perf"] = PerfDict(res.perf);
    d["generated_tokens"] = res.generated_tokens;
    return d;
  }

  py::dict CompileParamsDict() const {
    const engine::CompileParams& cp = model_->compile_params();
    py::dict d;
    d["prefill_seq_len"] = cp.prefill_seq_len;
    d["ctx_len"] = cp.ctx_len;
    d["batch_size"] = cp.batch_size;
    d["full_batch_size"] = cp.full_batch_size;
    d["num_cores"] = cp.num_cores;
    d["num_devices"] = cp.num_devices;
    d["mxfp6_matmul"] = cp.mxfp6_matmul;
    d["mxint8_kv_cache"] = cp.mxint8_kv_cache;
    d["device"] = cp.device;
    return d;
  }

  const QEFFAutoModelForCausalLM& model() const { return *model_; }
  std::string device_name() const {
    return model_->device() ? model_->device()->name() : std::string();
  }

 private:
  static absl::StatusOr<std::unique_ptr<QEFFAutoModelForCausalLM>> LoadCommon(
      const std::string& path, const engine::FromPretrainedOptions& o) {
    auto base = engine::QEFFCommonLoader::FromPretrained(path, o);
    if (!base.ok()) return base.status();
    auto* lm = dynamic_cast<QEFFAutoModelForCausalLM*>(base->get());
    if (!lm)
      return absl::UnimplementedError(absl::StrCat(
          path,
          ": QEFFCommonLoader picked a class the Python package does "
          "not bind (only QEFFAutoModelForCausalLM)"));
    base->release();
    return std::unique_ptr<QEFFAutoModelForCausalLM>(lm);
  }

  std::unique_ptr<QEFFAutoModelForCausalLM> model_;
  std::mutex mu_;
  // The device spec compile (or use_program) was given: device_id picks a
  // card of it, whichever card the last generate used.
  std::string compiled_device_;
};

// An embedding model (QEFFAutoModel) as Python holds it, with the same
// GIL and locking rules as CausalLM.
class Embedder {
 public:
  static std::unique_ptr<Embedder> FromPretrained(
      const std::string& path, const std::string& pooling, bool normalize,
      const std::string& tokenizer_path, const std::string& hub_cache_dir,
      const std::string& qeff_home) {
    engine::FromPretrainedOptions o;
    o.tokenizer_path = tokenizer_path;
    o.hub_cache_dir = hub_cache_dir;
    o.qeff_home = qeff_home;
    const passes::Pooling p = Unwrap(passes::ParsePooling(pooling));
    absl::StatusOr<std::unique_ptr<engine::QEFFAutoModel>> m;
    {
      py::gil_scoped_release nogil;
      m = engine::QEFFAutoModel::FromPretrained(path, o, {p, normalize});
    }
    auto self = std::make_unique<Embedder>();
    self->model_ = Unwrap(std::move(m));
    return self;
  }

  std::string Export(const std::string& export_dir) {
    absl::StatusOr<std::string> r;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      r = model_->Export(export_dir);
    }
    return Unwrap(std::move(r));
  }

  // `params`: SetCompileParam's names (seq_len: an int or a list).
  std::string Compile(const py::dict& params) {
    engine::CompileParams cp;
    for (auto kv : params) {
      const std::string name = kv.first.cast<std::string>();
      base::JsonValue v = Unwrap(ToJson(kv.second, name));
      Check(engine::SetCompileParam(&cp, name, v));
    }
    {
      py::scoped_ostream_redirect out(
          std::cout, py::module_::import("sys").attr("stdout"));
      Check(tools::FitToDevice(&cp));
    }
    absl::StatusOr<std::string> r;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      r = model_->Compile(cp);
    }
    return Unwrap(std::move(r));
  }

  // Text prompts (ids empty) or id prompts; one dict per prompt.
  py::list Embed(const std::vector<std::string>& prompts,
                 const std::vector<std::vector<int64_t>>& ids, bool truncate) {
    engine::EmbedOptions eo;
    eo.truncate = truncate;
    absl::StatusOr<engine::EmbeddingResult> r;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      r = ids.empty() ? model_->Embed(prompts, eo) : model_->EmbedIds(ids, eo);
    }
    engine::EmbeddingResult res = Unwrap(std::move(r));
    py::list out;
    for (const engine::Embedding& e : res.outputs) {
      py::dict d;
      d["prompt"] = e.prompt ? py::object(Text(*e.prompt)) : py::none();
      d["prompt_ids"] = e.prompt_ids;
      d["embedding"] = e.embedding;
      d["specialization"] = e.specialization;
      d["seq_len"] = e.seq_len;
      out.append(std::move(d));
    }
    return out;
  }

  const engine::QEFFAutoModel& model() const { return *model_; }

 private:
  std::unique_ptr<engine::QEFFAutoModel> model_;
  std::mutex mu_;
};

}  // namespace
}  // namespace qeff::python

PYBIND11_MODULE(_qeff, m) {
  namespace py = pybind11;
  using qeff::python::CausalLM;
  m.doc() =
      "qeff's C++ model API (engine/qeff_auto_model.h); use the `qeff` "
      "package, not this module.";
  py::tuple bases = py::make_tuple(py::handle(PyExc_ValueError),
                                   py::handle(PyExc_NotImplementedError));
  qeff::python::g_unsupported_error =
      PyErr_NewExceptionWithDoc("qeff._qeff.UnsupportedError",
                                "A QEfficient argument or feature qeff does "
                                "not implement (a ValueError and a "
                                "NotImplementedError).",
                                bases.ptr(), nullptr);
  if (!qeff::python::g_unsupported_error) throw py::error_already_set();
  m.attr("UnsupportedError") = py::handle(qeff::python::g_unsupported_error);

  py::class_<CausalLM>(m, "CausalLM")
      .def_static("from_pretrained", &CausalLM::FromPretrained, py::arg("path"),
                  py::arg("continuous_batching") = false,
                  py::arg("tokenizer_path") = "", py::arg("hub_cache_dir") = "",
                  py::arg("qeff_home") = "", py::arg("common_loader") = false)
      .def("export", &CausalLM::Export, py::arg("export_dir") = "")
      .def("compile", &CausalLM::Compile, py::arg("params"),
           py::arg("aic_options_given") = false)
      .def("use_program", &CausalLM::UseProgram, py::arg("qpc_path"),
           py::arg("device") = "")
      .def("use_device_group", &CausalLM::UseDeviceGroup, py::arg("group"))
      .def("generate", &CausalLM::Generate, py::arg("prompts"),
           py::arg("prompt_ids"), py::arg("generation_len"),
           py::arg("stop_at_eos"), py::arg("fill_batch"), py::arg("on_token"),
           py::arg("sampling"))
      .def_property_readonly("compile_params", &CausalLM::CompileParamsDict)
      .def_property_readonly(
          "model_name",
          [](const CausalLM& s) { return s.model().model_name(); })
      .def_property_readonly(
          "model_architecture",
          [](const CausalLM& s) { return s.model().model_architecture(); })
      .def_property_readonly(
          "continuous_batching",
          [](const CausalLM& s) { return s.model().continuous_batching(); })
      .def_property_readonly(
          "onnx_path", [](const CausalLM& s) { return s.model().onnx_path(); })
      .def_property_readonly(
          "qpc_path", [](const CausalLM& s) { return s.model().qpc_path(); })
      .def_property_readonly(
          "onnx_reused",
          [](const CausalLM& s) { return s.model().onnx_reused(); })
      .def_property_readonly(
          "program_reused",
          [](const CausalLM& s) { return s.model().program_reused(); })
      .def_property_readonly(
          "has_tokenizer",
          [](const CausalLM& s) {
            return static_cast<bool>(s.model().model().tokenizer);
          })
      .def_property_readonly("device_name", &CausalLM::device_name);

  using qeff::python::Embedder;
  py::class_<Embedder>(m, "Embedder")
      .def_static("from_pretrained", &Embedder::FromPretrained, py::arg("path"),
                  py::arg("pooling"), py::arg("normalize"),
                  py::arg("tokenizer_path") = "", py::arg("hub_cache_dir") = "",
                  py::arg("qeff_home") = "")
      .def("export", &Embedder::Export, py::arg("export_dir") = "")
      .def("compile", &Embedder::Compile, py::arg("params"))
      .def("embed", &Embedder::Embed, py::arg("prompts"), py::arg("prompt_ids"),
           py::arg("truncate") = false)
      .def_property_readonly(
          "model_name",
          [](const Embedder& s) { return s.model().model_name(); })
      .def_property_readonly(
          "hidden_size",
          [](const Embedder& s) { return s.model().hidden_size(); })
      .def_property_readonly(
          "onnx_path", [](const Embedder& s) { return s.model().onnx_path(); })
      .def_property_readonly(
          "qpc_path", [](const Embedder& s) { return s.model().qpc_path(); });
}
