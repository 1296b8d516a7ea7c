// wav2vec2 / HuBERT through the model API vs an independent PyTorch
// reference (tests/audio/wav2vec2_reference.py, HF modeling math, sharing
// no code with models/): seeded tiny models of both feature-encoder
// variants (group norm + post-LN, layer norm + stable layer norm), CTC and
// sequence-classification heads (weighted layer sum, no feature-projection
// LayerNorm), compiled with two seq_len specializations for the reference
// and cpu devices. Inputs of different lengths run at the smallest
// specialization that fits (a batch of two padded to 800 samples, one input
// at 1200); the PyTorch logits are computed on the same padded
// input_values (and, for the layer-norm models whose preprocessor returns an
// attention mask, HF's attention_mask path: padded frames zeroed, masked as
// keys and left out of the pooled mean). max|diff| / max|ref| <= 1e-4. The
// exported ONNX run by stock onnxruntime (onnxruntime-node) agrees too when the
// peer is installed. Skips with a reason without /usr/bin/python3 + torch.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/json.h"
#include "engine/qeff_auto_model_audio.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace qeff {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::string Script() {
  return testing::Runfile("tests/audio/wav2vec2_reference.py");
}

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

// A deterministic "audio" signal: two tones and LCG noise.
std::vector<float> Signal(int64_t n, uint32_t seed) {
  std::vector<float> x(n);
  uint32_t s = seed;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    const double noise = (double(s >> 8) / double(1 << 24)) - 0.5;
    x[i] = float(0.4 * std::sin(0.031 * i * (1 + seed % 3)) +
                 0.2 * std::sin(0.17 * i) + 0.1 * noise);
  }
  return x;
}

void WriteF32(const std::string& path, const std::vector<float>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// Logits (flat) from the `line`-th JSON line holding "logits" in `out`
// (other lines, e.g. warnings, are skipped).
std::vector<float> ParseFlat(const std::string& out, int line = 0) {
  std::vector<float> v;
  int seen = -1;
  for (absl::string_view l : absl::StrSplit(out, '\n')) {
    if (l.substr(0, 1) != "{" || l.find("\"logits\"") == l.npos) continue;
    if (++seen != line) continue;
    auto j = base::ParseJson(l);
    if (!j.ok() || !j->is_object() || !j->Find("logits")) return v;
    for (const auto& e : j->Find("logits")->array())
      v.push_back(static_cast<float>(e.number()));
    return v;
  }
  return v;
}

double RelErr(const std::vector<float>& ours, const std::vector<float>& ref) {
  if (ours.size() != ref.size() || ref.empty()) return 1e30;
  double worst = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    worst = std::max(worst, std::fabs(double(ours[i]) - ref[i]));
    scale = std::max(scale, std::fabs(double(ref[i])));
  }
  return worst / scale;
}

const char* const kVariants[] = {"w2v_group_ctc", "w2v_layer_ctc",
                                 "hubert_group_cls", "hubert_layer_cls"};

class Wav2Vec2ReferenceTest : public ::testing::TestWithParam<const char*> {
 protected:
  // One python run writes every variant's folder (torch starts slowly).
  static void SetUpTestSuite() {
    int rc;
    testing::RunCommand(absl::StrCat(kPython, " -c 'import torch' 2>/dev/null"),
                        &rc);
    if (rc != 0) {
      skip_ = absl::StrCat(kPython, " cannot import torch (setup.sh installs ",
                           "python3-torch)");
      return;
    }
    made_ = testing::RunCommand(
        absl::StrCat(kPython, " ", Script(), " make ", TmpDir(), " --variants=",
                     absl::StrJoin(kVariants, ","), " --seed=7 2>&1"),
        &rc);
    if (rc != 0) made_ = absl::StrCat("FAILED: ", made_);
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_EQ(made_.rfind("FAILED", 0), std::string::npos) << made_;
  }
  static std::string skip_, made_;
};
std::string Wav2Vec2ReferenceTest::skip_;
std::string Wav2Vec2ReferenceTest::made_;

TEST_P(Wav2Vec2ReferenceTest, LogitsMatchPyTorchOnEveryDevice) {
  const std::string variant = GetParam();
  const std::string dir = absl::StrCat(TmpDir(), "/", variant);
  int rc;
  std::string out;
  engine::FromPretrainedOptions fo;
  fo.qeff_home = dir + "_qeff_home";
  auto loaded = engine::QEFFCommonLoader::FromPretrained(dir, fo);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto* m = dynamic_cast<engine::QEFFAudioEncoderModel*>(loaded->get());
  ASSERT_NE(m, nullptr);
  const bool ctc = variant.find("ctc") != std::string::npos;
  EXPECT_EQ(ctc, dynamic_cast<engine::QEFFAutoModelForCTC*>(m) != nullptr);

  const std::vector<std::vector<float>> audio = {Signal(800, 1), Signal(600, 2),
                                                 Signal(1000, 3)};
  // PyTorch on the padded input_values: rows 0-1 at 800, row 2 at 1200
  // (batch 2, the second row all padding).
  std::vector<float> batch800, batch1200;
  for (int i = 0; i < 2; ++i) {
    auto v = m->InputValues(audio[i], 800);
    ASSERT_TRUE(v.ok()) << v.status();
    batch800.insert(batch800.end(), v->begin(), v->end());
  }
  auto v2 = m->InputValues(audio[2], 1200);
  ASSERT_TRUE(v2.ok()) << v2.status();
  batch1200 = *v2;
  batch1200.resize(2400, m->preprocessor().padding_value);
  std::vector<float> ref[2];
  const std::string in800 = dir + "/in800.f32", in1200 = dir + "/in1200.f32";
  WriteF32(in800, batch800);
  WriteF32(in1200, batch1200);
  out = testing::RunCommand(
      absl::StrCat(kPython, " ", Script(), " logits ", dir, " --input=", in800,
                   ",", in1200, " --batch=2 --lengths=800,600/1000,1200"),
      &rc);
  ASSERT_EQ(rc, 0) << out;
  for (int k = 0; k < 2; ++k) {
    ref[k] = ParseFlat(out, k);
    ASSERT_FALSE(ref[k].empty()) << out;
  }
  // The reference's rows: 0, 1 of the 800 batch; 0 of the 1200 batch.
  std::vector<std::vector<float>> want(3);
  const size_t half800 = ref[0].size() / 2, half1200 = ref[1].size() / 2;
  want[0].assign(ref[0].begin(), ref[0].begin() + half800);
  want[1].assign(ref[0].begin() + half800, ref[0].end());
  want[2].assign(ref[1].begin(), ref[1].begin() + half1200);

  for (const char* device : {"reference", "cpu"}) {
    engine::CompileParams cp;
    cp.device = device;
    cp.batch_size = 2;
    auto qpc = m->Compile(cp, {1200, 800});
    ASSERT_TRUE(qpc.ok()) << device << ": " << qpc.status();
    EXPECT_EQ(m->seq_lens(), (std::vector<int64_t>{800, 1200}));
    auto logits = m->Logits(audio);
    ASSERT_TRUE(logits.ok()) << device << ": " << logits.status();
    ASSERT_EQ(logits->size(), 3u);
    for (int i = 0; i < 3; ++i) {
      const double err = RelErr((*logits)[i].ToFloats(), want[i]);
      EXPECT_LE(err, 1e-4) << variant << " on " << device << ", input " << i;
      std::printf("%s %s input %d: max|diff|/max|ref| = %.3g\n",
                  variant.c_str(), device, i, err);
    }
  }

  // Stock onnxruntime on the exported file, when the peer is installed.
  std::string why;
  const std::string peers =
      testing::PeersDir("node_modules/onnxruntime-node/package.json", &why);
  if (peers.empty()) {
    std::printf("onnxruntime check skipped: %s\n", why.c_str());
    return;
  }
  // attention_mask for the 800 batch (rows of 800 and 600 real samples),
  // when the export takes one.
  std::string mask_arg;
  if (m->transformed_graph().FindInput("attention_mask").has_value()) {
    std::vector<int64_t> mask(1600, 1);
    std::fill(mask.begin() + 1400, mask.end(), 0);
    mask_arg = dir + "/mask800.i64";
    std::ofstream f(mask_arg, std::ios::binary);
    f.write(reinterpret_cast<const char*>(mask.data()), mask.size() * 8);
  }
  out = testing::RunCommand(
      absl::StrCat("node ", testing::Runfile("tests/audio/ort_audio.mjs"), " ",
                   peers, " ", m->onnx_path(), " ", in800, " 2 ", mask_arg,
                   " 2>&1"),
      &rc);
  ASSERT_EQ(rc, 0) << out;
  const double err = RelErr(ParseFlat(out), ref[0]);
  EXPECT_LE(err, 1e-4) << variant << " on onnxruntime: " << out.substr(0, 400);
  std::printf("%s onnxruntime (batch at 800): max|diff|/max|ref| = %.3g\n",
              variant.c_str(), err);
}

INSTANTIATE_TEST_SUITE_P(Variants, Wav2Vec2ReferenceTest,
                         ::testing::ValuesIn(kVariants));

}  // namespace
}  // namespace qeff
