#include "hw/profiler.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/json.h"

namespace qeff::hw {

Profiler& Profiler::Global() {
  static Profiler* p = new Profiler();
  return *p;
}

void Profiler::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  spans_.clear();
  dropped_ = 0;
  enabled_.store(true, std::memory_order_relaxed);
}

void Profiler::Stop() { enabled_.store(false, std::memory_order_relaxed); }

int64_t Profiler::NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int Profiler::ThreadId() {
  static std::atomic<int> next{0};
  thread_local int id = next.fetch_add(1);
  return id;
}

void Profiler::Record(Span span) {
  std::lock_guard<std::mutex> lock(mu_);
  if (spans_.size() >= max_spans_) {
    ++dropped_;
    return;
  }
  spans_.push_back(std::move(span));
}

void Profiler::RecordSince(const std::string& name, const char* category,
                           const std::string& group, const std::string& detail,
                           int64_t start_ns) {
  const int64_t now = NowNs();
  Record({name, category, group, detail, ThreadId(), start_ns, now - start_ns});
}

std::vector<Profiler::Span> Profiler::spans() const {
  std::lock_guard<std::mutex> lock(mu_);
  return spans_;
}

int64_t Profiler::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

absl::Status Profiler::WriteChromeTrace(const std::string& path) const {
  std::vector<Span> spans = this->spans();
  int64_t t0 = spans.empty() ? 0 : spans[0].start_ns;
  for (const Span& s : spans) t0 = std::min(t0, s.start_ns);
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  for (size_t i = 0; i < spans.size(); ++i) {
    const Span& s = spans[i];
    absl::StrAppend(&out, i ? ",\n" : "", "{\"name\":", base::JsonQuote(s.name),
                    ",\"cat\":", base::JsonQuote(s.category),
                    ",\"ph\":\"X\",\"pid\":0,\"tid\":", s.thread, ",\"ts\":",
                    absl::StrFormat("%.3f", (s.start_ns - t0) / 1e3),
                    ",\"dur\":", absl::StrFormat("%.3f", s.duration_ns / 1e3),
                    ",\"args\":{\"node\":", base::JsonQuote(s.detail),
                    ",\"group\":", base::JsonQuote(s.group), "}}");
  }
  absl::StrAppend(&out, "\n]}\n");
  return base::WriteFileAtomically(path, out);
}

std::string Profiler::SummaryTable() const {
  std::vector<Span> spans = this->spans();
  struct Row {
    int64_t calls = 0, ns = 0;
  };
  struct Group {
    std::map<std::string, Row> by_op;
    int64_t total = 0;
  };
  std::map<std::string, Group> groups;
  std::map<int, Row> by_thread;
  int64_t first = INT64_MAX, last = 0;
  for (const Span& s : spans) {
    if (s.category == "step") {
      Group& g = groups[s.group];
      Row& r = g.by_op[s.name];
      ++r.calls;
      r.ns += s.duration_ns;
      g.total += s.duration_ns;
      first = std::min(first, s.start_ns);
      last = std::max(last, s.start_ns + s.duration_ns);
    } else {
      Row& t = by_thread[s.thread];
      ++t.calls;
      t.ns += s.duration_ns;
    }
  }
  std::string out;
  for (const auto& [group, g] : groups) {
    std::vector<std::pair<std::string, Row>> rows(g.by_op.begin(),
                                                  g.by_op.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return a.second.ns != b.second.ns ? a.second.ns > b.second.ns
                                        : a.first < b.first;
    });
    absl::StrAppend(&out,
                    absl::StrFormat("%-24s %8s %11s %7s %10s\n",
                                    group.empty() ? "kernel" : group, "calls",
                                    "total ms", "share", "mean us"));
    for (const auto& [name, r] : rows) {
      absl::StrAppend(
          &out,
          absl::StrFormat("  %-22s %8d %11.3f %6.1f%% %10.2f\n", name, r.calls,
                          r.ns / 1e6, g.total ? 100.0 * r.ns / g.total : 0.0,
                          r.calls ? r.ns / 1e3 / r.calls : 0.0));
    }
    absl::StrAppend(&out, absl::StrFormat("  %-22s %8s %11.3f\n", "all steps",
                                          "", g.total / 1e6));
  }
  const double wall = last > first ? (last - first) / 1e6 : 0.0;
  for (const auto& [tid, r] : by_thread) {
    absl::StrAppend(
        &out,
        absl::StrFormat(
            "thread %-17d %8d %11.3f %6.1f%% busy in parallel chunks\n", tid,
            r.calls, r.ns / 1e6, wall > 0 ? 100.0 * r.ns / 1e6 / wall : 0.0));
  }
  if (dropped() > 0)
    absl::StrAppend(&out, "dropped spans (over ", max_spans_, "): ", dropped(),
                    "\n");
  return out;
}

}  // namespace qeff::hw
