#include "hw/cpu/cpu_driver.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "base/sysinfo.h"
#include "base/tsan.h"
#include "hw/cpu/compiler.h"
#include "hw/cpu/container.h"
#include "hw/cpu/kernels.h"
#include "hw/cpu/kv_mxint8.h"
#include "hw/cpu/plan.h"
#include "hw/device_registry.h"
#include "hw/profiler.h"
#include "oneapi/tbb/global_control.h"
#include "oneapi/tbb/info.h"
#include "oneapi/tbb/task_arena.h"

namespace qeff::hw {
namespace {

using cpu::Arg;
using cpu::CpuProgram;
using cpu::KernelCtx;
using cpu::SlotKind;

// 64-byte aligned zeroed bytes.
struct AlignedBytes {
  explicit AlignedBytes(size_t n) : size(n) {
    data =
        static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64 + 64));
    if (!data) throw std::bad_alloc();  // CheckSessionFits refuses first
    std::memset(data, 0, n);
  }
  ~AlignedBytes() { std::free(data); }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;
  uint8_t* data;
  size_t size;
};

// Saturating product/sum: past 2^62 means "more than any host".
constexpr int64_t kHugeBytes = int64_t{1} << 62;
int64_t SatMul(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return kHugeBytes;  // a lying container
  return (b > 0 && a > kHugeBytes / b) ? kHugeBytes : a * b;
}
int64_t ElementsOf(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n = SatMul(n, d);
  return n;
}

// Memory as input: the bytes a session of `p` allocates at load (the largest
// specialization's arena, the retained state) must fit what the host has
// available; otherwise ResourceExhausted naming both, before allocating.
absl::Status CheckSessionFits(const CpuProgram& p, const std::string& device) {
  int64_t arena = 0;
  for (const auto& plan : p.plans)
    arena =
        std::max(arena, plan.arena_bytes < 0 ? kHugeBytes : plan.arena_bytes);
  int64_t state = 0;
  for (const BoundIO& s : p.io.state) {
    const int64_t n = p.options.mxint8_kv_cache
                          ? ElementsOf(cpu::MxKvStorageDims(s.dims))
                          : SatMul(ElementsOf(s.dims), ir::DTypeSize(s.dtype));
    state = std::min(kHugeBytes, state + n);
  }
  const int64_t need = std::min(kHugeBytes, arena + state);
  const int64_t avail = base::HostMemoryAvailableBytes();
  if (avail > 0 && need > avail) {
    auto human = [](int64_t b) {
      return b >= kHugeBytes ? std::string("more than 4 EiB")
                             : base::HumanBytes(b);
    };
    return absl::ResourceExhaustedError(absl::StrCat(
        device, ": loading the program needs ", human(need), " (arena ",
        human(arena), " + retained state ", human(state), "); the host has ",
        base::HumanBytes(avail), " available"));
  }
  return absl::OkStatus();
}

class CpuSession : public Session {
 public:
  // `arena`: the device's (shared by its sessions) or one of its own.
  CpuSession(std::shared_ptr<const CpuProgram> p,
             std::shared_ptr<tbb::task_arena> arena)
      : p_(std::move(p)), arena_(std::move(arena)) {
    int64_t bytes = 0;
    for (const auto& plan : p_->plans)
      bytes = std::max(bytes, plan.arena_bytes);
    scratch_ = std::make_unique<AlignedBytes>(static_cast<size_t>(bytes));
    for (const BoundIO& s : p_->io.state)
      state_.push_back(
          p_->options.mxint8_kv_cache
              ? ir::Tensor::Zeros(ir::DType::kU8, cpu::MxKvStorageDims(s.dims))
              : ir::Tensor::Zeros(s.dtype, s.dims));
    kernels_.resize(p_->plans.size());
    for (size_t i = 0; i < p_->plans.size(); ++i)
      for (const auto& st : p_->plans[i].steps)
        kernels_[i].push_back(cpu::FindKernel(st.op));
  }

  absl::Status ResetState() override {
    for (ir::Tensor& t : state_) std::memset(t.mutable_raw(), 0, t.byte_size());
    return absl::OkStatus();
  }

  // Batch-major buffers (f32 or MXINT8 rows): the slot is a contiguous row.
  absl::Status ResetSlot(int64_t slot) override {
    std::vector<ir::Tensor*> rows;
    for (ir::Tensor& t : state_) rows.push_back(&t);
    return ZeroStateRows(rows, slot);
  }

  absl::StatusOr<TensorMap> Run(absl::string_view specialization,
                                const TensorMap& inputs) override {
    QEFF_ASSIGN_OR_RETURN(int spec,
                          p_->io.FindSpecialization(p_->specs, specialization));
    QEFF_RETURN_IF_ERROR(p_->io.CheckInputs(spec, inputs));
    const cpu::SpecPlan& plan = p_->plans[spec];
    std::vector<const ir::Tensor*> in_tensors;
    for (const BoundIO& b : p_->io.inputs[spec])
      in_tensors.push_back(&inputs.at(b.name));
    std::vector<ir::Tensor> outs;
    for (size_t i = 0; i < p_->io.outputs.size(); ++i) outs.emplace_back();
    // Output tensors from the Copy steps' target slots.
    for (const auto& sl : plan.slots) {
      if (sl.kind == SlotKind::kOutput && !outs[sl.index].has_storage())
        outs[sl.index] = ir::Tensor::Zeros(sl.dtype, sl.dims);
    }
    auto base = [&](const cpu::Slot& sl) -> uint8_t* {
      switch (sl.kind) {
        case SlotKind::kArena:
          return scratch_->data + plan.buffer_offsets[sl.index];
        case SlotKind::kConst:
          return const_cast<uint8_t*>(p_->constants[sl.index].raw());
        case SlotKind::kInput:
          return const_cast<uint8_t*>(in_tensors[sl.index]->raw());
        case SlotKind::kState:
          return state_[sl.index].mutable_raw();
        case SlotKind::kOutput:
          return outs[sl.index].mutable_raw();
      }
      return nullptr;
    };
    absl::Status status;
    try {
      const bool profile = Profiler::Global().enabled();
      // execute() may run the functor on an arena thread and wait for it
      // inside libtbb.so: the edges in and out, stated for TSan.
      char enter = 0, leave = 0;
      QEFF_TSAN_RELEASE(&enter);
      arena_->execute([&] {
        QEFF_TSAN_ACQUIRE(&enter);
        std::vector<Arg> in, out;
        for (size_t i = 0; i < plan.steps.size() && status.ok(); ++i) {
          const cpu::Step& st = plan.steps[i];
          in.clear();
          out.clear();
          for (int s : st.inputs) {
            if (s < 0)
              in.push_back(Arg{});
            else
              in.push_back(Arg{base(plan.slots[s]), &plan.slots[s]});
          }
          for (int s : st.outputs)
            out.push_back(Arg{base(plan.slots[s]), &plan.slots[s]});
          if (profile) {
            const int64_t t0 = Profiler::NowNs();
            cpu::SetProfiledStep(&st.op);
            status = kernels_[spec][i](KernelCtx{st, in, out});
            cpu::SetProfiledStep(nullptr);
            Profiler::Global().RecordSince(
                st.op, "step", std::string(specialization), st.label, t0);
            continue;
          }
          status = kernels_[spec][i](KernelCtx{st, in, out});
        }
        QEFF_TSAN_RELEASE(&leave);
      });
      QEFF_TSAN_ACQUIRE(&leave);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("cpu driver: ", e.what()));
    }
    QEFF_RETURN_IF_ERROR(status);
    TensorMap result;
    for (size_t i = 0; i < outs.size(); ++i)
      result[p_->io.outputs[i]] = std::move(outs[i]);
    return result;
  }

 private:
  std::shared_ptr<const CpuProgram> p_;
  std::shared_ptr<tbb::task_arena> arena_;
  std::unique_ptr<AlignedBytes> scratch_;
  std::vector<ir::Tensor> state_;
  std::vector<std::vector<cpu::KernelFn>> kernels_;
};

class CpuDevice : public Device {
 public:
  CpuDevice(int card, int cards, int cores)
      : card_(card),
        cards_(cards),
        cores_(cores),
        arena_(std::make_shared<tbb::task_arena>(cores)) {}
  std::string name() const override {
    return cards_ == 1 ? "cpu:0" : absl::StrCat("cpu:", cards_, "/", card_);
  }
  std::string kind() const override { return "cpu"; }
  int cores() const override { return cores_; }

  absl::StatusOr<std::shared_ptr<const Program>> Compile(
      const ir::Graph& graph, const std::vector<Specialization>& specs,
      const CompileOptions& options) override {
    if (options.num_cores > cores_) {
      return absl::InvalidArgumentError(
          absl::StrCat("cpu driver: num_cores=", options.num_cores,
                       " but device ", name(), " owns ", cores_));
    }
    QEFF_ASSIGN_OR_RETURN(std::shared_ptr<CpuProgram> p,
                          cpu::CompileProgram(graph, specs, options));
    return std::shared_ptr<const Program>(std::move(p));
  }

  std::string target() const override { return cpu::ProgramTarget(); }

  // MXFP6 weights, the MXINT8 cache and the card count change the program;
  // num_cores does not (a plan runs on any number of cores), so it is only
  // recorded in qconfig.json.
  std::string ProgramKeyOptionsJson(
      const CompileOptions& options) const override {
    return absl::StrCat(
        "{\"mxfp6_matmul\":", options.mxfp6_matmul ? "true" : "false",
        ",\"mxint8_kv_cache\":", options.mxint8_kv_cache ? "true" : "false",
        ",\"num_devices\":", options.num_devices,
        options.weight_format == ir::QuantFormat::kNone
            ? std::string()
            : absl::StrCat(",\"weight_format\":\"",
                           ir::QuantFormatName(options.weight_format), "\""),
        options.weight_dtype == ir::DType::kF32
            ? std::string()
            : absl::StrCat(",\"weight_dtype\":\"",
                           ir::DTypeName(options.weight_dtype), "\""),
        "}");
  }

  absl::Status SaveProgram(const Program& program, const std::string& dir,
                           const std::string& provenance_json) override {
    return cpu::WriteProgramFiles(program, dir, provenance_json,
                                  cpu::ProgramTarget());
  }

  absl::StatusOr<std::shared_ptr<const Program>> LoadProgram(
      const std::string& dir) override {
    return cpu::ReadProgram(dir);
  }

  absl::StatusOr<std::unique_ptr<Session>> Load(
      std::shared_ptr<const Program> program) override {
    return Load(std::move(program), LoadOptions{});
  }

  absl::StatusOr<std::unique_ptr<Session>> Load(
      std::shared_ptr<const Program> program,
      const LoadOptions& options) override {
    auto p = std::dynamic_pointer_cast<const CpuProgram>(program);
    if (!p) {
      return absl::InvalidArgumentError(
          absl::StrCat("cpu driver cannot load a program compiled for '",
                       program ? program->device_kind() : "nothing", "'"));
    }
    // An explicit num_cores must fit the card; the cores a program was
    // compiled with are only recorded (not part of its key), so a program
    // reused on a smaller card runs on that card's cores.
    const int want = options.num_cores ? options.num_cores
                                       : std::min(p->options.num_cores, cores_);
    if (want > cores_) {
      return absl::InvalidArgumentError(
          absl::StrCat("cpu driver: num_cores=", want, " but device ", name(),
                       " owns ", cores_));
    }
    // Sessions on all of the card's cores share its arena, so several
    // programs on one card never run more threads than it owns; a session
    // on fewer cores gets an arena of that size.
    QEFF_RETURN_IF_ERROR(CheckSessionFits(*p, name()));
    auto arena = want == 0 || want == cores_
                     ? arena_
                     : std::make_shared<tbb::task_arena>(want);
    return std::unique_ptr<Session>(new CpuSession(std::move(p), arena));
  }

 private:
  int card_, cards_, cores_;
  std::shared_ptr<tbb::task_arena> arena_;
};

int HostCores() {
  int n = tbb::info::default_concurrency();
  return n > 0 ? n : 1;
}

// The executor runs session steps on oneTBB worker threads (flow-graph
// nodes) while its caller waits outside oneTBB. The worker that enters a
// card's arena takes the arena's master slot, and the market's default of
// cores - 1 workers then leaves the arena short of one thread: on a 2-core
// host every step ran on a single core. One worker more lets a whole-host
// arena be fully staffed (process-wide, for the process's life).
void AllowWorkersForArenas() {
  static tbb::global_control workers(
      tbb::global_control::max_allowed_parallelism, HostCores() + 1);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Device>> OpenCpuDevice(absl::string_view spec) {
  AllowWorkersForArenas();
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("device '", spec, "': ", why,
                     " (use cpu, cpu:N or cpu:N/k with 0 <= k < N)"));
  };
  if (spec == "cpu")
    return std::unique_ptr<Device>(new CpuDevice(0, 1, HostCores()));
  if (!absl::StartsWith(spec, "cpu:")) return bad("not a cpu device");
  absl::string_view rest = spec.substr(4);
  std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  int n = 0, k = 0;
  if (parts.size() > 2 || !absl::SimpleAtoi(parts[0], &n) || n < 1)
    return bad("the card count N must be a positive integer");
  if (parts.size() == 2 && (!absl::SimpleAtoi(parts[1], &k) || k < 0 || k >= n))
    return bad("the card index k must be in [0, N)");
  const int host = HostCores();
  if (n > host)
    return bad(
        absl::StrCat("N=", n, " cards exceed the host's ", host, " cores"));
  const int cores = host / n + (k < host % n ? 1 : 0);
  return std::unique_ptr<Device>(new CpuDevice(k, n, cores));
}

namespace {
// The default device (rank 0).
const bool kRegistered = RegisterDriver("cpu", 0, &OpenCpuDevice);
}  // namespace

int CpuDeviceCores(const Device& device) {
  auto* d = dynamic_cast<const CpuDevice*>(&device);
  return d ? d->cores() : 0;
}

}  // namespace qeff::hw
