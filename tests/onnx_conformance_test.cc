// ONNX's own backend node tests (libonnx-testdata, data/node/*) through
// qeff: for every test whose ops are all in qeff's op list, import the model,
// run it with the reference evaluator and compare every output with the
// test's output_*.pb (float: rtol 1e-3, atol 1e-5, NaN == NaN; integers and
// bools exactly), then export → import it again and require identical
// results. The op of a test is read from the model's nodes, not its
// directory name. Tests using other ops are counted as "other" and not run.
//
// Skips come only from tests/onnx_conformance_skips.txt: `<test_dir> reason`
// or `<op> <dtype> reason`. The test prints per-op counts and a final line
// `N passed, M failed, K skipped`, and fails if M > 0.
#include <dirent.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "ir/evaluator.h"
#include "ir/graph.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "ir/op_schema.h"
#include "onnx/onnx_pb.h"

namespace qeff {
namespace {

const std::set<std::string>& QeffOps() {
  static const auto* ops = new std::set<std::string>(
      ir::RequiredOnnxOps().begin(), ir::RequiredOnnxOps().end());
  return *ops;
}

std::vector<std::string> ListDirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (stat(absl::StrCat(dir, "/", name).c_str(), &st) == 0 &&
        S_ISDIR(st.st_mode))
      out.push_back(name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

struct Skips {
  std::map<std::string, std::string> dirs;  // dir → why
  std::map<std::pair<std::string, std::string>, std::string> op_dtype;  // → why
};

absl::StatusOr<Skips> ReadSkips(const std::string& path) {
  std::ifstream f(path);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  Skips s;
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<std::string> t =
        absl::StrSplit(l, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (absl::StartsWith(t[0], "test_")) {
      if (t.size() < 2)
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", lineno, ": a skip needs a reason"));
      s.dirs[t[0]] = absl::StrJoin(t.begin() + 1, t.end(), " ");
    } else {
      if (t.size() < 3)
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", lineno, ": `<op> <dtype> <reason>`"));
      s.op_dtype[{t[0], t[1]}] = absl::StrJoin(t.begin() + 2, t.end(), " ");
    }
  }
  return s;
}

std::string ElemTypeName(int t) {
  auto dt = ir::DTypeFromOnnx(t);
  if (dt.ok()) return std::string(ir::DTypeName(*dt));
  return absl::AsciiStrToLower(onnx::TensorProto_DataType_Name(
      static_cast<onnx::TensorProto_DataType>(t)));
}

// The test's op (its single distinct non-Constant op, else "multi:<ops>"),
// whether every op is in qeff's list, and the element types of its graph
// inputs and outputs.
struct TestInfo {
  std::string op;
  bool in_list = true;
  std::set<std::string> dtypes;
};

absl::StatusOr<TestInfo> Inspect(const std::string& model_path) {
  std::ifstream f(model_path, std::ios::binary);
  onnx::ModelProto m;
  if (!m.ParseFromIstream(&f))
    return absl::InvalidArgumentError(
        absl::StrCat("cannot parse ", model_path));
  TestInfo info;
  std::set<std::string> ops;
  for (const auto& n : m.graph().node()) {
    if (n.op_type() == "Constant" && n.domain().empty()) continue;
    std::string op = n.domain().empty() || n.domain() == "ai.onnx"
                         ? n.op_type()
                         : absl::StrCat(n.domain(), ".", n.op_type());
    ops.insert(op);
    if (!QeffOps().count(op)) info.in_list = false;
  }
  if (ops.empty()) info.in_list = false;
  info.op = ops.size() == 1 ? *ops.begin()
                            : absl::StrCat("multi:", absl::StrJoin(ops, "+"));
  for (const auto* list : {&m.graph().input(), &m.graph().output()}) {
    for (const auto& vi : *list) {
      if (vi.type().has_tensor_type())
        info.dtypes.insert(ElemTypeName(vi.type().tensor_type().elem_type()));
      else
        info.dtypes.insert("non-tensor");
    }
  }
  return info;
}

bool FloatClose(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 1e-5 + 1e-3 * std::fabs(b);
}

// Empty when equal within tolerance; else what differs.
std::string Compare(const ir::Tensor& got, const ir::Tensor& want, bool exact) {
  if (got.dtype() != want.dtype())
    return absl::StrCat("dtype ", got.TypeString(), " vs ", want.TypeString());
  if (got.dims() != want.dims())
    return absl::StrCat("shape ", got.TypeString(), " vs ", want.TypeString());
  const bool flt = ir::IsFloat(got.dtype());
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    bool ok;
    if (flt) {
      double a = got.GetDouble(i), b = want.GetDouble(i);
      ok = exact ? (a == b || (std::isnan(a) && std::isnan(b)))
                 : FloatClose(a, b);
      if (!ok) return absl::StrCat("element ", i, ": ", a, " vs ", b);
    } else {
      ok = got.GetInt(i) == want.GetInt(i);
      if (!ok)
        return absl::StrCat("element ", i, ": ", got.GetInt(i), " vs ",
                            want.GetInt(i));
    }
  }
  return "";
}

// ONNX's test data stores bfloat16 tensors as uint16 bit patterns (numpy
// has no bfloat16): read them as bf16 where the model declares bf16.
ir::Tensor AsDeclared(ir::Tensor t, ir::DType declared) {
  if (declared != ir::DType::kBF16 || t.dtype() != ir::DType::kU16) return t;
  return *ir::Tensor::FromBuffer(ir::DType::kBF16, t.dims(), t.buffer());
}

// Runs one test directory; empty on success, else why it failed.
std::string RunOne(const std::string& dir, const std::string& name) {
  auto g = ir::ImportOnnx(dir + "/model.onnx");
  if (!g.ok()) return absl::StrCat("import: ", g.status().message());
  std::string exported = absl::StrCat(::testing::TempDir(), "/", name, ".onnx");
  absl::Status es = ir::ExportOnnx(*g, exported);
  if (!es.ok()) return absl::StrCat("export: ", es.message());
  auto g2 = ir::ImportOnnx(exported);
  if (!g2.ok()) return absl::StrCat("re-import: ", g2.status().message());
  std::vector<std::string> sets;
  for (const std::string& s : ListDirs(dir))
    if (absl::StartsWith(s, "test_data_set_")) sets.push_back(s);
  if (sets.empty()) return "no test_data_set_*";
  for (const std::string& set : sets) {
    std::string sd = absl::StrCat(dir, "/", set);
    absl::flat_hash_map<std::string, ir::Tensor> feed;
    for (size_t i = 0;; ++i) {
      std::string p = absl::StrCat(sd, "/input_", i, ".pb");
      if (!Exists(p)) break;
      if (i >= g->inputs().size())
        return absl::StrCat(set, ": more input files than graph inputs");
      auto t = ir::ImportOnnxTensor(p);
      if (!t.ok()) return absl::StrCat(set, ": ", t.status().message());
      const ir::Value& in = g->value(g->inputs()[i]);
      feed[in.name] = AsDeclared(*std::move(t), in.type.dtype);
    }
    auto out = ir::Evaluator::Run(*g, feed);
    if (!out.ok())
      return absl::StrCat(set, ": evaluate: ", out.status().message());
    auto out2 = ir::Evaluator::Run(*g2, feed);
    if (!out2.ok())
      return absl::StrCat(
          set, ": evaluate after round trip: ", out2.status().message());
    for (size_t i = 0; i < out->size(); ++i) {
      std::string p = absl::StrCat(sd, "/output_", i, ".pb");
      auto want = ir::ImportOnnxTensor(p);
      if (!want.ok()) return absl::StrCat(set, ": ", want.status().message());
      std::string d = Compare(
          (*out)[i],
          AsDeclared(*std::move(want), g->value(g->outputs()[i]).type.dtype),
          /*exact=*/false);
      if (!d.empty()) return absl::StrCat(set, ": output ", i, ": ", d);
      d = Compare((*out2)[i], (*out)[i], /*exact=*/true);
      if (!d.empty())
        return absl::StrCat(set, ": output ", i, " after round trip: ", d);
    }
  }
  return "";
}

struct Counts {
  int passed = 0, failed = 0, skipped = 0;
};

TEST(OnnxConformance, NodeTests) {
  const char* env = std::getenv("QEFF_ONNX_TESTDATA");
  std::string data = env && *env ? env : "/usr/share/libonnx-testdata/data";
  std::string node_dir = data + "/node";
  if (!Exists(node_dir)) {
    GTEST_SKIP()
        << "ONNX test data not found at " << node_dir
        << " (set QEFF_ONNX_TESTDATA; Debian package libonnx-testdata)";
  }
  auto skips = ReadSkips("tests/onnx_conformance_skips.txt");
  ASSERT_TRUE(skips.ok()) << skips.status();

  std::map<std::string, Counts> per_op;
  Counts total;
  int other = 0;
  std::vector<std::string> failures;
  for (const std::string& name : ListDirs(node_dir)) {
    std::string dir = absl::StrCat(node_dir, "/", name);
    if (!Exists(dir + "/model.onnx")) continue;
    auto info = Inspect(dir + "/model.onnx");
    if (!info.ok()) {
      ++other;
      continue;
    }
    if (!info->in_list) {
      ++other;
      continue;
    }
    Counts& c = per_op[info->op];
    std::string why_skip;
    if (auto it = skips->dirs.find(name); it != skips->dirs.end())
      why_skip = it->second;
    for (const std::string& dt : info->dtypes) {
      auto it = skips->op_dtype.find({info->op, dt});
      if (it != skips->op_dtype.end()) why_skip = it->second;
    }
    if (!why_skip.empty()) {
      ++c.skipped;
      ++total.skipped;
      continue;
    }
    std::string err = RunOne(dir, name);
    if (err.empty()) {
      ++c.passed;
      ++total.passed;
    } else {
      ++c.failed;
      ++total.failed;
      failures.push_back(absl::StrCat(name, " [", info->op, "]: ", err));
    }
  }
  std::printf("%-28s %6s %6s %7s\n", "op", "passed", "failed", "skipped");
  for (const auto& [op, c] : per_op)
    std::printf("%-28s %6d %6d %7d\n", op.c_str(), c.passed, c.failed,
                c.skipped);
  std::printf("other (ops outside qeff's list, not run): %d\n", other);
  for (const std::string& f : failures) std::printf("FAILED %s\n", f.c_str());
  std::printf("%d passed, %d failed, %d skipped\n", total.passed, total.failed,
              total.skipped);
  EXPECT_EQ(total.failed, 0);
  EXPECT_GT(total.passed, 0);
}

}  // namespace
}  // namespace qeff
