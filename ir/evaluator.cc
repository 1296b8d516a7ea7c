#include "ir/evaluator.h"

#include <map>
#include <mutex>
#include <utility>

#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"
#include "ir/kernels/registry.h"
#include "ir/quant.h"

namespace qeff::ir {
namespace {

struct Registry {
  absl::Mutex mu;
  // std::map: pointers to values stay valid as kernels are added.
  std::map<std::pair<std::string, std::string>, Kernel> kernels;
};

Registry& GetRegistry() {
  static Registry* r = new Registry();
  return *r;
}

void RegisterAllKernels() {
  static std::once_flag once;
  std::call_once(once, [] {
    kernels::RegisterElementwiseKernels();
    kernels::RegisterReduceKernels();
    kernels::RegisterMatmulKernels();
    kernels::RegisterShapeKernels();
    kernels::RegisterIndexKernels();
    kernels::RegisterCustomKernels();
    kernels::RegisterNnKernels();
    kernels::RegisterLossKernels();
    kernels::RegisterMoEKernels();
    kernels::RegisterConvKernels();
  });
}

// A plain tensor for a kernel: quantized constants are dequantized (to f32,
// then rounded to the logical dtype when that is f16/bf16/f64).
absl::StatusOr<Tensor> Materialize(const Tensor& t) {
  if (!t.is_quantized()) return t;
  QEFF_ASSIGN_OR_RETURN(Tensor f, Dequantize(t));
  if (t.dtype() == DType::kF32) return f;
  Tensor out = Tensor::Zeros(t.dtype(), f.dims());
  const float* p = f.data<float>();
  for (int64_t i = 0; i < f.num_elements(); ++i) {
    switch (t.dtype()) {
      case DType::kF16:
        out.mutable_data<uint16_t>()[i] = FloatToHalf(p[i]);
        break;
      case DType::kBF16:
        out.mutable_data<uint16_t>()[i] = FloatToBFloat16(p[i]);
        break;
      case DType::kF64:
        out.mutable_data<double>()[i] = p[i];
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("quantized tensor ", t.TypeString(),
                         " has a non-float logical dtype"));
    }
  }
  return out;
}

}  // namespace

void RegisterKernel(absl::string_view domain, absl::string_view op_type,
                    Kernel k) {
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  r.kernels[{std::string(domain), std::string(op_type)}] = std::move(k);
}

const Kernel* FindKernel(absl::string_view domain, absl::string_view op_type) {
  RegisterAllKernels();
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  // "ai.onnx" is the default domain's long name.
  std::string d(domain == "ai.onnx" ? "" : domain);
  auto it = r.kernels.find({d, std::string(op_type)});
  return it == r.kernels.end() ? nullptr : &it->second;
}

absl::StatusOr<absl::flat_hash_map<ValueId, Tensor>> Evaluator::RunAll(
    const Graph& g, const absl::flat_hash_map<std::string, Tensor>& inputs) {
  // node_hash_map: kernels hold pointers to tensors while others are added.
  absl::node_hash_map<ValueId, Tensor> env;
  for (ValueId id : g.inputs()) {
    const Value& v = g.value(id);
    auto it = inputs.find(v.name);
    if (it != inputs.end()) {
      QEFF_ASSIGN_OR_RETURN(Tensor t, Materialize(it->second));
      env[id] = std::move(t);
    } else if (v.is_constant()) {
      // An input with an initializer (ONNX default value).
      continue;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("no value given for graph input '", v.name, "'"));
    }
  }
  // Constants are materialised on first use (a quantized weight is only
  // dequantized when a node reads it).
  auto get = [&](ValueId id) -> absl::StatusOr<const Tensor*> {
    auto it = env.find(id);
    if (it != env.end()) return &it->second;
    const Value& v = g.value(id);
    if (v.is_constant()) {
      if (!v.constant->has_storage() && v.constant->num_elements() != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("constant '", v.name, "' has no data"));
      }
      auto m = Materialize(*v.constant);
      if (!m.ok()) {
        return absl::Status(
            m.status().code(),
            absl::StrCat("constant '", v.name, "': ", m.status().message()));
      }
      return &(env[id] = *std::move(m));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "value '", v.name, "' (#", id, ") has no producer and no data"));
  };

  QEFF_ASSIGN_OR_RETURN(std::vector<NodeId> order, g.TopologicalOrder());
  for (NodeId nid : order) {
    const Node& n = g.node(nid);
    const Kernel* k = FindKernel(n.domain, n.op_type);
    if (k == nullptr) {
      return absl::UnimplementedError(absl::StrCat(
          "the reference evaluator has no kernel for ", n.Describe()));
    }
    KernelContext ctx{g, n, {}};
    for (ValueId in : n.inputs) {
      if (in == kNoValue) {
        ctx.inputs.push_back(nullptr);
        continue;
      }
      QEFF_ASSIGN_OR_RETURN(const Tensor* t, get(in));
      ctx.inputs.push_back(t);
    }
    std::vector<Tensor> outs;
    absl::Status s = (*k)(ctx, &outs);
    if (!s.ok()) {
      std::string msg(s.message());
      if (msg.find(n.Describe()) == std::string::npos)
        msg = absl::StrCat(n.Describe(), ": ", msg);
      return absl::Status(s.code(), msg);
    }
    if (outs.size() < n.outputs.size()) {
      // Trailing optional outputs a kernel did not produce must be unused.
      for (size_t i = outs.size(); i < n.outputs.size(); ++i) {
        const Value& ov = g.value(n.outputs[i]);
        if (!ov.uses.empty() || ov.is_graph_output) {
          return absl::InternalError(
              absl::StrCat(n.Describe(), ": kernel produced no output ", i));
        }
      }
    }
    for (size_t i = 0; i < n.outputs.size() && i < outs.size(); ++i) {
      if (n.outputs[i] == kNoValue) continue;
      env[n.outputs[i]] = std::move(outs[i]);
    }
  }
  for (ValueId id : g.outputs()) {
    QEFF_ASSIGN_OR_RETURN(const Tensor* t, get(id));
    (void)t;
  }
  absl::flat_hash_map<ValueId, Tensor> result;
  result.reserve(env.size());
  for (auto& [id, t] : env) result.emplace(id, std::move(t));
  return result;
}

absl::StatusOr<std::vector<Tensor>> Evaluator::Run(
    const Graph& g, const absl::flat_hash_map<std::string, Tensor>& inputs) {
  QEFF_ASSIGN_OR_RETURN(auto env, RunAll(g, inputs));
  std::vector<Tensor> out;
  for (ValueId id : g.outputs()) out.push_back(env.at(id));
  return out;
}

}  // namespace qeff::ir
