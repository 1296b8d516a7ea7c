#include "hw/cpu/container.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "hw/cpu/kernels.h"
#include "hw/cpu/plan.h"
#include "ir/buffer.h"

namespace qeff::hw::cpu {
namespace {

constexpr char kMagic[8] = {'Q', 'E', 'F', 'F', 'C', 'P', 'U', '\0'};
constexpr size_t kChecksumAt = 80;  // offset of the checksum field
constexpr int64_t kAlign = 64;

uint64_t Fnv1a(const uint8_t* p, size_t n,
               uint64_t h = 1469598103934665603ull) {
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

class Writer {
 public:
  void U8(uint8_t v) { out.push_back(v); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void I64(int64_t v) { Raw(&v, 8); }
  void F32(float v) { Raw(&v, 4); }
  void Str(const std::string& s) {
    I64(static_cast<int64_t>(s.size()));
    Raw(s.data(), s.size());
  }
  void Ints(const std::vector<int64_t>& v) {
    I64(static_cast<int64_t>(v.size()));
    for (int64_t x : v) I64(x);
  }
  void Raw(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  }
  std::vector<uint8_t> out;
};

class Reader {
 public:
  Reader(const uint8_t* p, size_t n, std::string file)
      : p_(p), n_(n), file_(std::move(file)) {}
  absl::Status Need(size_t k) {
    if (pos_ + k > n_)
      return absl::DataLossError(absl::StrCat(
          file_, ": plan section ends early (at byte ", pos_, ")"));
    return absl::OkStatus();
  }
  absl::StatusOr<uint8_t> U8() {
    QEFF_RETURN_IF_ERROR(Need(1));
    return p_[pos_++];
  }
  absl::StatusOr<uint32_t> U32() {
    uint32_t v;
    QEFF_RETURN_IF_ERROR(Raw(&v, 4));
    return v;
  }
  absl::StatusOr<int64_t> I64() {
    int64_t v;
    QEFF_RETURN_IF_ERROR(Raw(&v, 8));
    return v;
  }
  absl::StatusOr<float> F32() {
    float v;
    QEFF_RETURN_IF_ERROR(Raw(&v, 4));
    return v;
  }
  absl::StatusOr<int64_t> Count() {
    QEFF_ASSIGN_OR_RETURN(int64_t c, I64());
    if (c < 0 || static_cast<size_t>(c) > n_)
      return absl::DataLossError(absl::StrCat(file_, ": bad count ", c));
    return c;
  }
  absl::StatusOr<std::string> Str() {
    QEFF_ASSIGN_OR_RETURN(int64_t c, Count());
    QEFF_RETURN_IF_ERROR(Need(c));
    std::string s(reinterpret_cast<const char*>(p_ + pos_), c);
    pos_ += c;
    return s;
  }
  absl::StatusOr<std::vector<int64_t>> Ints() {
    QEFF_ASSIGN_OR_RETURN(int64_t c, Count());
    std::vector<int64_t> v(c);
    for (auto& x : v) {
      QEFF_ASSIGN_OR_RETURN(x, I64());
    }
    return v;
  }
  absl::Status Raw(void* out, size_t k) {
    QEFF_RETURN_IF_ERROR(Need(k));
    std::memcpy(out, p_ + pos_, k);
    pos_ += k;
    return absl::OkStatus();
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  std::string file_;
};

void PutIO(Writer& w, const BoundIO& b) {
  w.Str(b.name);
  w.U8(static_cast<uint8_t>(b.dtype));
  w.Ints(b.dims);
}

absl::StatusOr<BoundIO> GetIO(Reader& r) {
  BoundIO b;
  QEFF_ASSIGN_OR_RETURN(b.name, r.Str());
  QEFF_ASSIGN_OR_RETURN(uint8_t dt, r.U8());
  b.dtype = static_cast<ir::DType>(dt);
  QEFF_ASSIGN_OR_RETURN(b.dims, r.Ints());
  return b;
}

std::string PrecisionName(ir::DType t) {
  switch (t) {
    case ir::DType::kF16:
      return "float16";
    case ir::DType::kBF16:
      return "bfloat16";
    default:
      return "float";
  }
}

}  // namespace

std::string ProgramIsa() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

std::string ProgramTarget() {
  return absl::StrCat(ProgramIsa(), "/kabi-", kKernelAbiVersion);
}

absl::Status WriteProgram(const Program& program, const std::string& dir,
                          const std::string& provenance_json) {
  return WriteProgramForTarget(program, dir, provenance_json, ProgramTarget());
}

absl::Status WriteProgramForTarget(const Program& program,
                                   const std::string& dir,
                                   const std::string& provenance_json,
                                   const std::string& target) {
  // Published all-or-nothing; a concurrent writer of the same program waits
  // and reuses it.
  return base::PublishDirectory(dir,
                                [&](const std::string& tmp) {
                                  return WriteProgramFiles(
                                      program, tmp, provenance_json, target);
                                })
      .status();
}

absl::Status WriteProgramFiles(const Program& program, const std::string& dir,
                               const std::string& provenance_json,
                               const std::string& target) {
  const auto* p = dynamic_cast<const CpuProgram*>(&program);
  if (!p) {
    return absl::InvalidArgumentError(
        absl::StrCat("WriteProgram: a program for '", program.device_kind(),
                     "' is not a cpu program"));
  }
  if (target.size() > 31)
    return absl::InvalidArgumentError(
        absl::StrCat("WriteProgram: target '", target, "' is too long"));
  // Plan section.
  Writer w;
  w.I64(static_cast<int64_t>(p->specs.size()));
  for (const Specialization& s : p->specs) {
    w.Str(s.name);
    std::vector<std::pair<std::string, int64_t>> sym(s.symbols.begin(),
                                                     s.symbols.end());
    std::sort(sym.begin(), sym.end());
    w.I64(static_cast<int64_t>(sym.size()));
    for (const auto& [k, v] : sym) {
      w.Str(k);
      w.I64(v);
    }
  }
  for (const auto& ins : p->io.inputs) {
    w.I64(static_cast<int64_t>(ins.size()));
    for (const BoundIO& b : ins) PutIO(w, b);
  }
  w.I64(static_cast<int64_t>(p->io.state.size()));
  for (const BoundIO& b : p->io.state) PutIO(w, b);
  w.I64(static_cast<int64_t>(p->io.outputs.size()));
  for (const std::string& o : p->io.outputs) w.Str(o);
  w.Ints({p->options.num_cores, p->options.num_devices, p->options.mxfp6_matmul,
          p->options.mxint8_kv_cache});
  for (const SpecPlan& plan : p->plans) {
    w.I64(static_cast<int64_t>(plan.slots.size()));
    for (const Slot& s : plan.slots) {
      w.U8(static_cast<uint8_t>(s.kind));
      w.I64(s.index);
      w.U8(static_cast<uint8_t>(s.dtype));
      w.U8(static_cast<uint8_t>(s.quant));
      w.Ints(s.dims);
    }
    w.I64(static_cast<int64_t>(plan.steps.size()));
    for (const Step& s : plan.steps) {
      w.Str(s.op);
      w.Ints(std::vector<int64_t>(s.inputs.begin(), s.inputs.end()));
      w.Ints(std::vector<int64_t>(s.outputs.begin(), s.outputs.end()));
      w.Ints(s.ints);
      w.I64(static_cast<int64_t>(s.floats.size()));
      for (float f : s.floats) w.F32(f);
      w.Str(s.label);
    }
    w.Ints(plan.buffer_offsets);
    w.I64(plan.arena_bytes);
  }
  // Constants table; weights laid out 64-byte aligned.
  int64_t woff = 0;
  std::vector<int64_t> offsets;
  w.I64(static_cast<int64_t>(p->constants.size()));
  for (const ir::Tensor& t : p->constants) {
    w.U8(static_cast<uint8_t>(t.dtype()));
    w.U8(static_cast<uint8_t>(t.quant()));
    w.Ints(t.dims());
    offsets.push_back(woff);
    w.I64(woff);
    w.I64(static_cast<int64_t>(t.byte_size()));
    woff +=
        (static_cast<int64_t>(t.byte_size()) + kAlign - 1) / kAlign * kAlign;
  }
  const int64_t plan_offset = kHeaderBytes;
  const int64_t plan_size = static_cast<int64_t>(w.out.size());
  const int64_t weights_offset =
      (plan_offset + plan_size + kAlign - 1) / kAlign * kAlign;
  // Header.
  std::vector<uint8_t> header(kHeaderBytes, 0);
  std::memcpy(header.data(), kMagic, 8);
  const uint32_t version = kProgramFormatVersion, hsize = kHeaderBytes;
  std::memcpy(header.data() + 8, &version, 4);
  std::memcpy(header.data() + 12, &hsize, 4);
  std::memcpy(header.data() + 16, target.data(), target.size());
  const int64_t fields[4] = {plan_offset, plan_size, weights_offset, woff};
  std::memcpy(header.data() + 48, fields, 32);
  uint64_t sum =
      Fnv1a(w.out.data(), w.out.size(), Fnv1a(header.data(), header.size()));
  std::memcpy(header.data() + kChecksumAt, &sum, 8);

  auto fill = [&](const std::string& tmp) -> absl::Status {
    QEFF_RETURN_IF_ERROR(base::MakeDirs(tmp + "/qpc"));
    {
      const std::string bin = tmp + "/qpc/program.bin";
      std::FILE* f = std::fopen(bin.c_str(), "wb");
      if (!f) return absl::InternalError(absl::StrCat(bin, ": cannot create"));
      bool ok =
          std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
          std::fwrite(w.out.data(), 1, w.out.size(), f) == w.out.size();
      std::vector<uint8_t> pad(kAlign, 0);
      int64_t at = plan_offset + plan_size;
      ok = ok && std::fwrite(pad.data(), 1, weights_offset - at, f) ==
                     static_cast<size_t>(weights_offset - at);
      at = 0;
      for (size_t i = 0; i < p->constants.size() && ok; ++i) {
        ok = std::fwrite(pad.data(), 1, offsets[i] - at, f) ==
             static_cast<size_t>(offsets[i] - at);
        const ir::Tensor& t = p->constants[i];
        if (t.byte_size())
          ok = ok && std::fwrite(t.raw(), 1, t.byte_size(), f) == t.byte_size();
        at = offsets[i] + static_cast<int64_t>(t.byte_size());
      }
      ok = ok && std::fwrite(pad.data(), 1, woff - at, f) ==
                     static_cast<size_t>(woff - at);
      ok = (std::fclose(f) == 0) && ok;
      if (!ok) return absl::InternalError(absl::StrCat(bin, ": write failed"));
    }
    const std::string spec_json = SpecializationsToJson(p->specs);
    QEFF_RETURN_IF_ERROR(
        base::WriteFileAtomically(tmp + "/specializations.json", spec_json));
    std::string yaml;
    for (const BoundIO& s : p->io.state) {
      const std::string prec =
          p->options.mxint8_kv_cache ? "mxint8" : PrecisionName(s.dtype);
      absl::StrAppend(&yaml, "- IOName: ", s.name, "\n  Precision: ", prec,
                      "\n");
      absl::StrAppend(&yaml, "- IOName: ", s.name,
                      "_RetainedState\n  Precision: ", prec, "\n");
    }
    QEFF_RETURN_IF_ERROR(
        base::WriteFileAtomically(tmp + "/custom_io.yaml", yaml));
    std::string qconfig = absl::StrCat(
        "{\"device\":\"cpu\",\"format_version\":", kProgramFormatVersion,
        ",\"target\":\"", target,
        "\",\"compile_options\":{\"num_cores\":", p->options.num_cores,
        ",\"num_devices\":", p->options.num_devices,
        ",\"mxfp6_matmul\":", p->options.mxfp6_matmul ? "true" : "false",
        ",\"mxint8_kv_cache\":", p->options.mxint8_kv_cache ? "true" : "false",
        ",\"aic_mos\":", p->options.aic_mos, ",\"aic_enable_depth_first\":",
        p->options.aic_enable_depth_first ? "true" : "false",
        "},\"specializations\":", spec_json.substr(0, spec_json.size() - 1),
        provenance_json.empty() ? "" : ",\"provenance\":", provenance_json,
        "}\n");
    QEFF_RETURN_IF_ERROR(
        base::WriteFileAtomically(tmp + "/qconfig.json", qconfig));
    return absl::OkStatus();
  };
  return fill(dir);
}

absl::StatusOr<std::shared_ptr<const Program>> ReadProgram(
    const std::string& dir) {
  const std::string path = dir + "/qpc/program.bin";
  QEFF_ASSIGN_OR_RETURN(std::shared_ptr<const ir::MappedFile> file,
                        ir::MappedFile::Open(path));
  const uint8_t* d = file->data();
  const size_t n = file->size();
  if (n < kHeaderBytes)
    return absl::DataLossError(
        absl::StrCat(path, ": truncated (", n, " bytes, no header)"));
  if (std::memcmp(d, kMagic, 8) != 0)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a qeff cpu program (bad magic)"));
  uint32_t version;
  std::memcpy(&version, d + 8, 4);
  if (version != kProgramFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": format version ", version, ", this build reads version ",
        kProgramFormatVersion, "; recompile"));
  }
  char target[33] = {0};
  std::memcpy(target, d + 16, 32);
  if (ProgramTarget() != target) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": compiled for target '", target, "', this build runs '",
        ProgramTarget(), "' (instruction set / kernel ABI); recompile"));
  }
  int64_t fields[4];
  std::memcpy(fields, d + 48, 32);
  const int64_t plan_offset = fields[0], plan_size = fields[1],
                woff = fields[2], wsize = fields[3];
  // Unsigned and bounded by the file size first: the fields may hold any
  // 64-bit values (no sum may overflow).
  const uint64_t un = n;
  auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  if (plan_offset < static_cast<int64_t>(kHeaderBytes) || plan_size < 0 ||
      woff < 0 || wsize < 0 || u(plan_offset) > un ||
      u(plan_size) > un - u(plan_offset) || u(wsize) > un ||
      u(woff) > un - u(wsize) || u(woff) < u(plan_offset) + u(plan_size)) {
    return absl::DataLossError(absl::StrCat(
        path, ": truncated or corrupt (", n, " bytes; header says plan at ",
        plan_offset, " of ", plan_size, " bytes, weights at ", woff, " of ",
        wsize, " bytes)"));
  }
  std::vector<uint8_t> header(d, d + kHeaderBytes);
  uint64_t stored;
  std::memcpy(&stored, header.data() + kChecksumAt, 8);
  std::memset(header.data() + kChecksumAt, 0, 8);
  const uint64_t sum =
      Fnv1a(d + plan_offset, plan_size, Fnv1a(header.data(), header.size()));
  if (sum != stored)
    return absl::DataLossError(
        absl::StrCat(path, ": header/plan checksum mismatch"));

  Reader r(d + plan_offset, plan_size, path);
  auto p = std::make_shared<CpuProgram>();
  QEFF_ASSIGN_OR_RETURN(int64_t nspec, r.Count());
  for (int64_t i = 0; i < nspec; ++i) {
    Specialization s;
    QEFF_ASSIGN_OR_RETURN(s.name, r.Str());
    QEFF_ASSIGN_OR_RETURN(int64_t ns, r.Count());
    for (int64_t j = 0; j < ns; ++j) {
      QEFF_ASSIGN_OR_RETURN(std::string k, r.Str());
      QEFF_ASSIGN_OR_RETURN(s.symbols[k], r.I64());
    }
    p->specs.push_back(std::move(s));
  }
  for (int64_t i = 0; i < nspec; ++i) {
    QEFF_ASSIGN_OR_RETURN(int64_t c, r.Count());
    std::vector<BoundIO> ins;
    for (int64_t j = 0; j < c; ++j) {
      QEFF_ASSIGN_OR_RETURN(ins.emplace_back(), GetIO(r));
    }
    p->io.inputs.push_back(std::move(ins));
  }
  QEFF_ASSIGN_OR_RETURN(int64_t nstate, r.Count());
  for (int64_t j = 0; j < nstate; ++j) {
    QEFF_ASSIGN_OR_RETURN(p->io.state.emplace_back(), GetIO(r));
  }
  QEFF_ASSIGN_OR_RETURN(int64_t nout, r.Count());
  for (int64_t j = 0; j < nout; ++j) {
    QEFF_ASSIGN_OR_RETURN(p->io.outputs.emplace_back(), r.Str());
  }
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> opts, r.Ints());
  if (opts.size() != 4)
    return absl::DataLossError(absl::StrCat(path, ": bad options"));
  p->options.num_cores = static_cast<int>(opts[0]);
  p->options.num_devices = static_cast<int>(opts[1]);
  p->options.mxfp6_matmul = opts[2] != 0;
  p->options.mxint8_kv_cache = opts[3] != 0;
  for (int64_t i = 0; i < nspec; ++i) {
    SpecPlan plan;
    QEFF_ASSIGN_OR_RETURN(int64_t ns, r.Count());
    for (int64_t j = 0; j < ns; ++j) {
      Slot s;
      QEFF_ASSIGN_OR_RETURN(uint8_t kind, r.U8());
      QEFF_ASSIGN_OR_RETURN(int64_t idx, r.I64());
      QEFF_ASSIGN_OR_RETURN(uint8_t dt, r.U8());
      QEFF_ASSIGN_OR_RETURN(uint8_t q, r.U8());
      s.kind = static_cast<SlotKind>(kind);
      s.index = static_cast<int32_t>(idx);
      s.dtype = static_cast<ir::DType>(dt);
      s.quant = static_cast<ir::QuantFormat>(q);
      QEFF_ASSIGN_OR_RETURN(s.dims, r.Ints());
      plan.slots.push_back(std::move(s));
    }
    QEFF_ASSIGN_OR_RETURN(int64_t nsteps, r.Count());
    for (int64_t j = 0; j < nsteps; ++j) {
      Step s;
      QEFF_ASSIGN_OR_RETURN(s.op, r.Str());
      QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> in, r.Ints());
      QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> out, r.Ints());
      for (int64_t x : in) {
        if (x < -1 || x >= ns)
          return absl::DataLossError(absl::StrCat(path, ": bad slot"));
        s.inputs.push_back(static_cast<int32_t>(x));
      }
      for (int64_t x : out) {
        if (x < 0 || x >= ns)
          return absl::DataLossError(absl::StrCat(path, ": bad slot"));
        s.outputs.push_back(static_cast<int32_t>(x));
      }
      QEFF_ASSIGN_OR_RETURN(s.ints, r.Ints());
      QEFF_ASSIGN_OR_RETURN(int64_t nf, r.Count());
      for (int64_t k = 0; k < nf; ++k) {
        QEFF_ASSIGN_OR_RETURN(s.floats.emplace_back(), r.F32());
      }
      QEFF_ASSIGN_OR_RETURN(s.label, r.Str());
      if (FindKernel(s.op) == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat(path, ": specialization ", i, " step ", j, " (",
                         s.label, ") needs kernel '", s.op,
                         "', which this build does not have; recompile"));
      }
      plan.steps.push_back(std::move(s));
    }
    QEFF_ASSIGN_OR_RETURN(plan.buffer_offsets, r.Ints());
    QEFF_ASSIGN_OR_RETURN(plan.arena_bytes, r.I64());
    p->plans.push_back(std::move(plan));
  }
  QEFF_ASSIGN_OR_RETURN(int64_t nconst, r.Count());
  for (int64_t i = 0; i < nconst; ++i) {
    QEFF_ASSIGN_OR_RETURN(uint8_t dt, r.U8());
    QEFF_ASSIGN_OR_RETURN(uint8_t q, r.U8());
    QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> dims, r.Ints());
    QEFF_ASSIGN_OR_RETURN(int64_t off, r.I64());
    QEFF_ASSIGN_OR_RETURN(int64_t size, r.I64());
    if (off < 0 || size < 0 || off + size > wsize)
      return absl::DataLossError(
          absl::StrCat(path, ": constant ", i, " outside the weights"));
    QEFF_ASSIGN_OR_RETURN(std::shared_ptr<ir::Buffer> buf,
                          ir::Buffer::FromMapped(file, woff + off, size));
    const auto quant = static_cast<ir::QuantFormat>(q);
    absl::StatusOr<ir::Tensor> t =
        quant == ir::QuantFormat::kNone
            ? ir::Tensor::FromBuffer(static_cast<ir::DType>(dt), dims, buf)
            : ir::Tensor::FromQuantized(quant, static_cast<ir::DType>(dt), dims,
                                        buf);
    if (!t.ok())
      return absl::DataLossError(
          absl::StrCat(path, ": constant ", i, ": ", t.status().message()));
    p->constants.push_back(*std::move(t));
  }
  // Slot references must stay inside the tables just read.
  for (const SpecPlan& plan : p->plans) {
    for (const Slot& s : plan.slots) {
      const int64_t limit =
          s.kind == SlotKind::kConst    ? nconst
          : s.kind == SlotKind::kArena  ? plan.buffer_offsets.size()
          : s.kind == SlotKind::kState  ? nstate
          : s.kind == SlotKind::kOutput ? nout
                                        : static_cast<int64_t>(1 << 30);
      if (s.index < 0 || s.index >= limit)
        return absl::DataLossError(
            absl::StrCat(path, ": slot index out of range"));
    }
  }
  return std::shared_ptr<const Program>(std::move(p));
}

}  // namespace qeff::hw::cpu
