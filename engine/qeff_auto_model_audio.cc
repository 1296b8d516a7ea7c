#include "engine/qeff_auto_model_audio.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "engine/artifacts.h"
#include "ir/op_schema.h"
#include "models/audio/resample.h"
#include "models/audio/wav.h"

namespace qeff::engine {
namespace {

constexpr const char* kSpecPrefix = "seq_len_";

std::string SpecName(int64_t seq_len) {
  return absl::StrCat(kSpecPrefix, seq_len);
}

absl::StatusOr<std::shared_ptr<const models::LoadedModel>> LoadAudioModel(
    const std::string& path, const FromPretrainedOptions& options) {
  models::LoadOptions lo;
  lo.hub_cache_dir = options.hub_cache_dir;
  QEFF_ASSIGN_OR_RETURN(models::LoadedModel m, models::Load(path, lo));
  return std::make_shared<const models::LoadedModel>(std::move(m));
}

absl::Status CheckArch(const models::LoadedModel& m, bool ctc) {
  const bool ok = ctc ? IsAudioCtcArchitecture(m.architecture)
                      : IsAudioClassificationArchitecture(m.architecture);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      m.source, ": architecture '", m.architecture, "' is not one ",
      ctc ? "QEFFAutoModelForCTC takes (Wav2Vec2ForCTC, HubertForCTC)"
          : "QEFFAutoModelForAudioClassification takes "
            "(Wav2Vec2ForSequenceClassification, "
            "HubertForSequenceClassification)"));
}

std::string ModelDir(const models::LoadedModel& m) { return m.source; }

}  // namespace

bool IsAudioCtcArchitecture(const std::string& arch) {
  return arch == "Wav2Vec2ForCTC" || arch == "HubertForCTC";
}
bool IsAudioClassificationArchitecture(const std::string& arch) {
  return arch == "Wav2Vec2ForSequenceClassification" ||
         arch == "HubertForSequenceClassification";
}

absl::StatusOr<AudioPreprocessor> ReadAudioPreprocessor(
    const std::string& model_dir) {
  AudioPreprocessor p;
  const std::string path = model_dir + "/preprocessor_config.json";
  if (!base::FileExists(path)) return p;
  QEFF_ASSIGN_OR_RETURN(std::string text, base::ReadFile(path));
  auto j = base::ParseJson(text);
  if (!j.ok() || !j->is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a JSON object"));
  auto field = [&](const char* f) -> const base::JsonValue* {
    const base::JsonValue* v = j->Find(f);
    return v && !v->is_null() ? v : nullptr;
  };
  auto err = [&](const char* f, const char* what) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": field '", f, "' ", what));
  };
  if (const auto* v = field("sampling_rate")) {
    auto r = v->is_number() ? v->AsInt64()
                            : absl::StatusOr<int64_t>(absl::UnknownError(""));
    if (!r.ok() || *r <= 0 || *r > 768000)
      return err("sampling_rate", "must be an integer in 1..768000");
    p.sampling_rate = *r;
  }
  for (auto [f, out] :
       {std::pair<const char*, bool*>{"do_normalize", &p.do_normalize},
        {"return_attention_mask", &p.return_attention_mask}}) {
    if (const auto* v = field(f)) {
      if (!v->is_bool()) return err(f, "is not a boolean");
      *out = v->bool_value();
    }
  }
  if (const auto* v = field("padding_value")) {
    if (!v->is_number()) return err("padding_value", "is not a number");
    p.padding_value = static_cast<float>(v->number());
  }
  if (const auto* v = field("feature_size")) {
    if (!v->is_number() || v->number() != 1)
      return err("feature_size", "must be 1 (raw audio)");
  }
  return p;
}

absl::StatusOr<std::vector<float>> QEFFAudioEncoderModel::ReadAudio(
    const std::string& path) const {
  QEFF_ASSIGN_OR_RETURN(models::WavAudio w, models::ReadWav(path));
  auto r = models::Resample(w.samples, w.sample_rate, pre_.sampling_rate);
  if (!r.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", r.status().message()));
  return *std::move(r);
}

absl::StatusOr<ir::Graph> QEFFAudioEncoderModel::RunTransform(
    const ir::Graph& eager) const {
  ir::Graph g = eager;
  if (pre_.return_attention_mask) {
    // HF's feature extractor gives these models an attention_mask: the
    // graph takes it too (models/arch/wav2vec2.h).
    models::Wav2Vec2Config c = model_->config.wav2vec2;
    c.attention_mask = true;
    QEFF_ASSIGN_OR_RETURN(g, models::BuildWav2Vec2Eager(c, model_->weights));
    g.name = eager.name;
  }
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  return g;
}

passes::TransformLMOptions QEFFAudioEncoderModel::transform_options() const {
  return passes::TransformLMOptions{};
}

absl::StatusOr<std::vector<hw::Specialization>>
QEFFAudioEncoderModel::Specializations(const CompileParams& params) const {
  if (params.batch_size < 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "compile: batch_size ", params.batch_size, " must be >= 1"));
  return std::vector<hw::Specialization>{
      {SpecName(kDefaultAudioSeqLen),
       {{"batch_size", params.batch_size}, {"seq_len", kDefaultAudioSeqLen}}}};
}

absl::StatusOr<std::string> QEFFAudioEncoderModel::Compile(
    const CompileParams& params, const std::vector<int64_t>& seq_lens) {
  if (seq_lens.empty())
    return absl::InvalidArgumentError("compile: give at least one seq_len");
  if (params.batch_size < 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "compile: batch_size ", params.batch_size, " must be >= 1"));
  std::vector<int64_t> lens = seq_lens;
  std::sort(lens.begin(), lens.end());
  lens.erase(std::unique(lens.begin(), lens.end()), lens.end());
  const auto& c = model_->config.wav2vec2;
  std::vector<hw::Specialization> specs;
  for (int64_t s : lens) {
    if (c.FramesOf(s) < 1)
      return absl::InvalidArgumentError(
          absl::StrCat("compile: seq_len ", s,
                       " is shorter than one frame of the feature "
                       "encoder"));
    specs.push_back(
        {SpecName(s), {{"batch_size", params.batch_size}, {"seq_len", s}}});
  }
  CompileParams p = params;
  p.specializations = specs;
  return QEFFBaseModel::Compile(p);
}

std::vector<int64_t> QEFFAudioEncoderModel::seq_lens() const {
  std::vector<int64_t> out;
  if (!compile_params().specializations) return out;
  for (const hw::Specialization& s : *compile_params().specializations) {
    auto it = s.symbols.find("seq_len");
    if (it != s.symbols.end()) out.push_back(it->second);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<float>> QEFFAudioEncoderModel::InputValues(
    const std::vector<float>& audio, int64_t seq_len) const {
  const int64_t n = static_cast<int64_t>(audio.size());
  if (n == 0) return absl::InvalidArgumentError("audio input is empty");
  if (n > seq_len)
    return absl::InvalidArgumentError(absl::StrCat(
        "audio of ", n, " samples is longer than seq_len ", seq_len));
  std::vector<float> out(seq_len, pre_.padding_value);
  if (!pre_.do_normalize) {
    std::copy(audio.begin(), audio.end(), out.begin());
    return out;
  }
  // Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm over the real samples.
  double mean = 0, var = 0;
  for (float v : audio) mean += v;
  mean /= static_cast<double>(n);
  for (float v : audio) var += (v - mean) * (v - mean);
  var /= static_cast<double>(n);
  const double inv = 1.0 / std::sqrt(var + 1e-7);
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<float>((audio[i] - mean) * inv);
  return out;
}

absl::StatusOr<std::vector<ir::Tensor>> QEFFAudioEncoderModel::Logits(
    const std::vector<std::vector<float>>& audio) {
  if (program() == nullptr)
    QEFF_RETURN_IF_ERROR(Compile(CompileParams{}).status());
  if (session_ == nullptr || session_qpc_ != qpc_path()) {
    QEFF_ASSIGN_OR_RETURN(session_, device()->Load(program()));
    session_qpc_ = qpc_path();
  }
  const std::vector<int64_t> lens = seq_lens();
  if (lens.empty())
    return absl::FailedPreconditionError(
        "the compiled program has no seq_len specializations");
  int64_t batch = 1;
  auto b = compile_params().specializations->front().symbols.find("batch_size");
  if (b != compile_params().specializations->front().symbols.end())
    batch = b->second;
  std::vector<ir::Tensor> out;
  for (size_t start = 0; start < audio.size(); start += batch) {
    const size_t end = std::min(audio.size(), start + batch);
    size_t longest = 0;
    for (size_t i = start; i < end; ++i)
      longest = std::max(longest, audio[i].size());
    auto fit = std::lower_bound(lens.begin(), lens.end(),
                                static_cast<int64_t>(longest));
    if (fit == lens.end())
      return absl::InvalidArgumentError(
          absl::StrCat("audio ", start, " has ", longest, " samples (",
                       double(longest) / double(pre_.sampling_rate),
                       " s); the largest compiled seq_len is ", lens.back(),
                       ": compile with a larger seq_len"));
    const int64_t s = *fit;
    std::vector<float> rows(batch * s, pre_.padding_value);
    // attention_mask: 1 for real samples; rows past the inputs are all 1
    // (their logits are dropped).
    std::vector<int64_t> mask(batch * s, 1);
    for (size_t i = start; i < end; ++i) {
      QEFF_ASSIGN_OR_RETURN(std::vector<float> v, InputValues(audio[i], s));
      std::copy(v.begin(), v.end(), rows.begin() + (i - start) * s);
      std::fill(mask.begin() + (i - start) * s + audio[i].size(),
                mask.begin() + (i - start + 1) * s, 0);
    }
    hw::TensorMap inputs = {
        {"input_values", ir::Tensor::F32({batch, s}, rows)}};
    if (transformed_graph().FindInput("attention_mask").has_value())
      inputs["attention_mask"] = ir::Tensor::I64({batch, s}, mask);
    QEFF_ASSIGN_OR_RETURN(hw::TensorMap res,
                          session_->Run(SpecName(s), inputs));
    auto it = res.find("logits");
    if (it == res.end())
      return absl::InternalError("the program has no 'logits' output");
    const ir::Tensor& t = it->second;
    const std::vector<float> all = t.ToFloats();
    std::vector<int64_t> row_dims(t.dims().begin() + 1, t.dims().end());
    int64_t per = 1;
    for (int64_t d : row_dims) per *= d;
    for (size_t i = start; i < end; ++i) {
      const auto* p = all.data() + (i - start) * per;
      out.push_back(ir::Tensor::F32(
          row_dims, absl::MakeConstSpan(p, static_cast<size_t>(per))));
    }
  }
  return out;
}

// ---- CTC ----

absl::StatusOr<std::unique_ptr<QEFFAutoModelForCTC>>
QEFFAutoModelForCTC::FromPretrained(const std::string& path,
                                    const FromPretrainedOptions& options) {
  QEFF_ASSIGN_OR_RETURN(auto m, LoadAudioModel(path, options));
  return FromLoaded(std::move(m), options);
}

absl::StatusOr<std::unique_ptr<QEFFAutoModelForCTC>>
QEFFAutoModelForCTC::FromLoaded(std::shared_ptr<const models::LoadedModel> m,
                                const FromPretrainedOptions& options) {
  QEFF_RETURN_IF_ERROR(CheckArch(*m, true));
  const std::string dir = ModelDir(*m);
  QEFF_ASSIGN_OR_RETURN(AudioPreprocessor pre, ReadAudioPreprocessor(dir));
  std::unique_ptr<QEFFAutoModelForCTC> out(new QEFFAutoModelForCTC(
      m, options.qeff_home.empty() ? DefaultQeffHome() : options.qeff_home,
      pre));
  // vocab.json (token -> id) and tokenizer_config.json's special tokens.
  const std::string vocab_path = dir + "/vocab.json";
  QEFF_ASSIGN_OR_RETURN(std::string text, base::ReadFile(vocab_path));
  auto vj = base::ParseJson(text);
  if (!vj.ok() || !vj->is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(vocab_path, ": not a JSON object of token -> id"));
  for (const auto& [tok, id] : vj->object()) {
    auto i = id.is_number() ? id.AsInt64()
                            : absl::StatusOr<int64_t>(absl::UnknownError(""));
    if (!i.ok() || *i < 0 || *i >= m->config.wav2vec2.vocab_size)
      return absl::InvalidArgumentError(
          absl::StrCat(vocab_path, ": token '", tok, "' has an id outside 0..",
                       m->config.wav2vec2.vocab_size - 1));
    out->vocab_[*i] = tok;
  }
  std::string pad = "<pad>";
  const std::string tc = dir + "/tokenizer_config.json";
  if (base::FileExists(tc)) {
    QEFF_ASSIGN_OR_RETURN(std::string t, base::ReadFile(tc));
    auto j = base::ParseJson(t);
    if (!j.ok() || !j->is_object())
      return absl::InvalidArgumentError(
          absl::StrCat(tc, ": not a JSON object"));
    if (const auto* v = j->Find("pad_token"); v && v->is_string())
      pad = v->string_value();
    if (const auto* v = j->Find("word_delimiter_token"); v && v->is_string())
      out->word_delimiter_ = v->string_value();
  }
  out->pad_id_ = -1;
  for (const auto& [id, tok] : out->vocab_)
    if (tok == pad) out->pad_id_ = id;
  if (out->pad_id_ < 0)
    return absl::InvalidArgumentError(absl::StrCat(
        vocab_path, ": the pad (CTC blank) token '", pad, "' is missing"));
  return out;
}

std::string QEFFAutoModelForCTC::DecodeIds(
    const std::vector<int64_t>& ids) const {
  std::string text;
  int64_t prev = -1;
  for (int64_t id : ids) {
    if (id == prev) continue;
    prev = id;
    if (id == pad_id_) continue;
    auto it = vocab_.find(id);
    if (it == vocab_.end()) continue;  // an id without a token
    text += it->second == word_delimiter_ ? " " : it->second;
  }
  // Wav2Vec2CTCTokenizer strips the result.
  const size_t b = text.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  const size_t e = text.find_last_not_of(' ');
  return text.substr(b, e - b + 1);
}

absl::StatusOr<std::vector<Transcription>> QEFFAutoModelForCTC::Generate(
    const std::vector<std::vector<float>>& audio) {
  QEFF_ASSIGN_OR_RETURN(std::vector<ir::Tensor> logits, Logits(audio));
  const std::vector<int64_t> lens = seq_lens();
  std::vector<Transcription> out;
  for (size_t i = 0; i < logits.size(); ++i) {
    const ir::Tensor& t = logits[i];
    const int64_t frames = t.dims()[0], v = t.dims()[1];
    const std::vector<float> x = t.ToFloats();
    Transcription tr;
    tr.seq_len = *std::lower_bound(lens.begin(), lens.end(),
                                   static_cast<int64_t>(audio[i].size()));
    for (int64_t f = 0; f < frames; ++f) {
      const float* r = x.data() + f * v;
      tr.frame_ids.push_back(std::max_element(r, r + v) - r);
    }
    tr.text = DecodeIds(tr.frame_ids);
    out.push_back(std::move(tr));
  }
  return out;
}

// ---- Classification ----

absl::StatusOr<std::unique_ptr<QEFFAutoModelForAudioClassification>>
QEFFAutoModelForAudioClassification::FromPretrained(
    const std::string& path, const FromPretrainedOptions& options) {
  QEFF_ASSIGN_OR_RETURN(auto m, LoadAudioModel(path, options));
  return FromLoaded(std::move(m), options);
}

absl::StatusOr<std::unique_ptr<QEFFAutoModelForAudioClassification>>
QEFFAutoModelForAudioClassification::FromLoaded(
    std::shared_ptr<const models::LoadedModel> m,
    const FromPretrainedOptions& options) {
  QEFF_RETURN_IF_ERROR(CheckArch(*m, false));
  QEFF_ASSIGN_OR_RETURN(AudioPreprocessor pre,
                        ReadAudioPreprocessor(ModelDir(*m)));
  return std::unique_ptr<QEFFAutoModelForAudioClassification>(
      new QEFFAutoModelForAudioClassification(
          m, options.qeff_home.empty() ? DefaultQeffHome() : options.qeff_home,
          pre));
}

absl::StatusOr<std::vector<AudioClassification>>
QEFFAutoModelForAudioClassification::Classify(
    const std::vector<std::vector<float>>& audio, int top_k) {
  QEFF_ASSIGN_OR_RETURN(std::vector<ir::Tensor> logits, Logits(audio));
  const std::vector<int64_t> lens = seq_lens();
  const auto& id2label = model().config.wav2vec2.id2label;
  std::vector<AudioClassification> out;
  for (size_t i = 0; i < logits.size(); ++i) {
    AudioClassification c;
    c.logits = logits[i].ToFloats();
    c.seq_len = *std::lower_bound(lens.begin(), lens.end(),
                                  static_cast<int64_t>(audio[i].size()));
    const float mx = *std::max_element(c.logits.begin(), c.logits.end());
    double sum = 0;
    for (float l : c.logits) sum += std::exp(double(l) - mx);
    for (size_t k = 0; k < c.logits.size(); ++k) {
      AudioLabel l;
      l.id = static_cast<int64_t>(k);
      auto it = id2label.find(l.id);
      l.label = it != id2label.end() ? it->second : absl::StrCat("LABEL_", k);
      l.score = static_cast<float>(std::exp(double(c.logits[k]) - mx) / sum);
      c.labels.push_back(std::move(l));
    }
    std::stable_sort(c.labels.begin(), c.labels.end(),
                     [](const AudioLabel& a, const AudioLabel& b) {
                       return a.score > b.score;
                     });
    if (top_k > 0 && c.labels.size() > static_cast<size_t>(top_k))
      c.labels.resize(top_k);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace qeff::engine
