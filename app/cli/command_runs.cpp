// attnscope-cli runs list|show|compare: the run history in the store, as the GUI's run
// history shows it. Reads only; a run whose process died is listed as interrupted.
#include <cstdio>
#include <iostream>
#include <set>
#include <nlohmann/json.hpp>

#include "analysis/store/clock.h"
#include "analysis/store/database.h"
#include "analysis/store/metric_comparison.h"
#include "analysis/store/metric_summary.h"
#include "analysis/store/run_records.h"
#include "analysis/store/unit_records.h"
#include "app/cli/commands.h"
#include "app/cli/profile_formats.h"
#include "app/cli/store_options.h"
#include "app/cli/text_format.h"
#include "app/cli/time_format.h"

namespace attnscope::cli {
namespace {

const std::set<std::string> kValueOptions = {"db", "top"};
const std::set<std::string> kSwitches = {"json"};

std::string model_name(const store::ModelRecord& m) {
  const std::filesystem::path path(m.identity.path);
  const std::string name = path.filename().string();
  return name.empty() ? m.identity.path : name;
}

std::string head_name(int layer, int head) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "L%dH%d", layer, head);
  return buf;
}

// Ended runs: end - start; a live run: so far; a run whose process died: unknown (-1).
int64_t duration_ms(const store::RunRecord& r) {
  if (r.ended_ms) return *r.ended_ms - r.started_ms;
  if (r.status == store::RunStatus::Running) return store::unix_ms_now() - r.started_ms;
  return -1;
}

// A run whose process died ran at least until its last unit completed.
std::string duration_label(const store::RunRecord& r) {
  const int64_t ms = duration_ms(r);
  if (ms >= 0) return duration_text(ms);
  return r.last_unit_ms ? ">=" + duration_text(*r.last_unit_ms - r.started_ms) : "-";
}

nlohmann::json run_json(const store::RunRecord& r) {
  const int64_t duration = duration_ms(r);
  return {{"id", int64_t(r.id)},
          {"model", {{"id", int64_t(r.model.id)},
                     {"path", r.model.identity.path},
                     {"architecture", r.model.identity.architecture},
                     {"content_hash", r.model.identity.content_hash},
                     {"num_layers", r.model.identity.num_layers},
                     {"num_heads", r.model.identity.num_heads}}},
          {"kind", r.kind},
          {"task", r.task},
          {"status", store::status_name(r.status)},
          {"stored_status", store::status_name(r.stored_status)},
          {"error", r.error},
          {"backend", r.backend},
          {"tool_version", r.tool_version},
          {"started", utc_iso_time(r.started_ms)},
          {"started_ms", r.started_ms},
          {"ended_ms", r.ended_ms ? nlohmann::json(*r.ended_ms) : nlohmann::json(nullptr)},
          {"duration_s", duration < 0 ? nlohmann::json(nullptr) : nlohmann::json(double(duration) / 1000)},
          {"units", r.unit_count},
          {"last_unit", r.last_unit_ms ? nlohmann::json(utc_iso_time(*r.last_unit_ms)) : nlohmann::json(nullptr)},
          {"owner", {{"host", r.owner.host}, {"pid", r.owner.pid}}}};
}

nlohmann::json metric_value(const store::HeadMetric& m) {
  return m.is_text() ? nlohmann::json(m.text()) : number_or_null(m.number());
}

std::string status_text(const store::RunRecord& r) {
  return std::string(store::status_name(r.status)) + (r.error.empty() ? "" : " (" + r.error + ")");
}

int list(const std::filesystem::path& path, bool json) {
  std::vector<store::RunRecord> runs;
  std::error_code ec;
  // Listing before the first run is not a mistake: there is nothing yet.
  if (std::filesystem::exists(path, ec)) runs = store::list_runs(store::Database::open(path, store::OpenMode::ReadOnly));
  if (json) {
    nlohmann::json out = {{"database", path.string()}, {"runs", nlohmann::json::array()}};
    for (const auto& r : runs) out["runs"].push_back(run_json(r));
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cout << "database: " << path.string() << "\n";
  if (runs.empty()) {
    std::cout << "no runs yet\n";
    return 0;
  }
  std::printf("%5s  %-20s %-16s %-12s %-19s %10s %6s\n", "id", "model", "task", "status", "started", "duration", "units");
  for (const auto& r : runs)
    std::printf("%5lld  %-20s %-16s %-12s %-19s %10s %6lld\n", (long long)r.id, printable(model_name(r.model)).c_str(),
                printable(r.task).c_str(), std::string(store::status_name(r.status)).c_str(),
                local_time(r.started_ms).c_str(), duration_label(r).c_str(), (long long)r.unit_count);
  return 0;
}

void print_run_header(const store::RunRecord& r) {
  const auto& m = r.model.identity;
  std::cout << "run " << int64_t(r.id) << ": " << r.kind << " of " << printable(r.task) << "\n"
            << "model:      " << m.path << " (" << m.architecture << ", " << m.num_layers << " layers x "
            << m.num_heads << " heads, " << m.num_kv_heads << " KV heads)\n"
            << "model hash: " << m.content_hash << "\n"
            << "status:     " << status_text(r) << "\n"
            << "backend:    " << r.backend << ", AttnScope " << r.tool_version << "\n"
            << "started:    " << local_time(r.started_ms)
            << (r.ended_ms ? ", ended " + local_time(*r.ended_ms) : std::string())
            << ", duration " << duration_label(r) << "\n"
            << "units:      " << r.unit_count << " completed\n";
}

std::string values_source(const store::RunHeadValues& values) {
  return values.from_units ? "mean over the completed units (the run wrote no run-level values)" : "run-level values";
}

int show(const store::Database& db, store::RunId id, int top, bool json) {
  const store::RunRecord r = store::get_run(db, id);
  const auto units = store::list_units(db, id);
  const store::RunHeadValues values = store::run_head_values(db, id);
  const auto summaries = store::summarize_metrics(values.metrics, top);
  if (json) {
    nlohmann::json out = run_json(r);
    out["parameters"] = r.parameters;
    out["units_completed"] = nlohmann::json::array();
    for (const auto& u : units)
      out["units_completed"].push_back({{"ordinal", u.ordinal},
                                        {"task", u.task},
                                        {"parameters", u.parameters},
                                        {"prompt_tokens", u.prompt_tokens},
                                        {"outcome", u.outcome},
                                        {"completed", utc_iso_time(u.completed_ms)}});
    out["metrics_source"] = values.from_units ? "units" : "run";
    out["metrics"] = nlohmann::json::array();
    for (const auto& s : summaries) {
      nlohmann::json entry = {{"name", s.name}, {"heads", s.heads}, {"is_text", s.is_text}};
      if (s.is_text) {
        entry["texts"] = s.texts;
      } else {
        entry["undefined"] = s.undefined;
        entry["mean"] = number_or_null(s.mean);
        entry["min"] = number_or_null(s.min);
        entry["max"] = number_or_null(s.max);
        entry["top"] = nlohmann::json::array();
        for (const auto& h : s.top) entry["top"].push_back({{"layer", h.layer}, {"head", h.head}, {"value", h.value}});
      }
      out["metrics"].push_back(entry);
    }
    out["head_values"] = nlohmann::json::array();
    for (const auto& m : values.metrics)
      out["head_values"].push_back({{"layer", m.layer}, {"head", m.head}, {"metric", m.name}, {"value", metric_value(m)}});
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  print_run_header(r);
  std::cout << "parameters: " << r.parameters.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  if (summaries.empty()) {
    std::cout << "\nno per-head metrics recorded\n";
    return 0;
  }
  std::cout << "\nper-head metrics, " << values_source(values) << "; top " << top << " heads by value:\n";
  std::printf("%-18s %5s %8s %8s %8s  %s\n", "metric", "heads", "mean", "min", "max", "top heads");
  for (const auto& s : summaries) {
    std::string detail;
    if (s.is_text) {
      for (const auto& [text, count] : s.texts)
        detail += (detail.empty() ? "" : ", ") + printable(text) + " " + std::to_string(count);
      std::printf("%-18s %5lld %8s %8s %8s  %s\n", printable(s.name).c_str(), (long long)s.heads, "", "", "", detail.c_str());
      continue;
    }
    for (const auto& h : s.top) detail += (detail.empty() ? "" : ", ") + head_name(h.layer, h.head) + " " + fixed(h.value, 3);
    if (s.undefined > 0) detail += " (" + std::to_string(s.undefined) + " undefined)";
    std::printf("%-18s %5lld %8s %8s %8s  %s\n", printable(s.name).c_str(), (long long)s.heads, fixed(s.mean, 3).c_str(),
                fixed(s.min, 3).c_str(), fixed(s.max, 3).c_str(), detail.c_str());
  }
  return 0;
}

std::string difference_text(const store::HeadDifference& d, bool text) {
  if (text) return head_name(d.layer, d.head) + " " + printable(d.a_text) + "->" + printable(d.b_text);
  return head_name(d.layer, d.head) + " " + fixed(d.a, 3) + "->" + fixed(d.b, 3);
}

int compare(const store::Database& db, store::RunId a, store::RunId b, int top, bool json) {
  const store::RunRecord ra = store::get_run(db, a), rb = store::get_run(db, b);
  const store::RunComparison c = store::compare_runs(db, a, b, top);
  if (json) {
    nlohmann::json out = {{"a", run_json(ra)},
                          {"b", run_json(rb)},
                          {"a_metrics_source", c.a.from_units ? "units" : "run"},
                          {"b_metrics_source", c.b.from_units ? "units" : "run"},
                          {"metrics", nlohmann::json::array()}};
    for (const auto& m : c.metrics) {
      nlohmann::json entry = {{"name", m.name},      {"is_text", m.is_text},     {"compared", m.compared},
                              {"only_in_a", m.only_in_a}, {"only_in_b", m.only_in_b}, {"largest", nlohmann::json::array()}};
      if (m.is_text) {
        entry["changed"] = m.changed;
      } else {
        entry["mean_difference"] = number_or_null(m.mean_difference);
        entry["mean_abs_difference"] = number_or_null(m.mean_abs_difference);
        entry["max_abs_difference"] = number_or_null(m.max_abs_difference);
        entry["correlation"] = number_or_null(m.correlation);
      }
      for (const auto& d : m.largest) {
        nlohmann::json head = {{"layer", d.layer}, {"head", d.head}};
        head["a"] = m.is_text ? nlohmann::json(d.a_text) : number_or_null(d.a);
        head["b"] = m.is_text ? nlohmann::json(d.b_text) : number_or_null(d.b);
        if (!m.is_text) head["difference"] = number_or_null(d.b - d.a);
        entry["largest"].push_back(head);
      }
      out["metrics"].push_back(entry);
    }
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cout << "comparing run " << int64_t(a) << " (a: " << printable(ra.task) << ", " << status_text(ra) << ") with run "
            << int64_t(b) << " (b: " << printable(rb.task) << ", " << status_text(rb) << ")\n"
            << "model: " << ra.model.identity.path << " (" << ra.model.identity.architecture << ")\n"
            << "a: " << values_source(c.a) << "\nb: " << values_source(c.b) << "\n\n";
  if (c.metrics.empty()) {
    std::cout << "neither run has per-head metrics\n";
    return 0;
  }
  std::printf("%-18s %5s %9s %9s %9s %6s  %s\n", "metric", "heads", "mean b-a", "mean|b-a|", "max|b-a|", "corr",
              "largest differences (a->b)");
  for (const auto& m : c.metrics) {
    std::string detail;
    for (const auto& d : m.largest) detail += (detail.empty() ? "" : ", ") + difference_text(d, m.is_text);
    if (m.only_in_a + m.only_in_b > 0)
      detail += " (" + std::to_string(m.only_in_a) + " heads only in a, " + std::to_string(m.only_in_b) + " only in b)";
    if (m.is_text) {
      std::printf("%-18s %5lld %9s %9s %9s %6s  %lld changed%s%s\n", printable(m.name).c_str(), (long long)m.compared, "",
                  "", "", "", (long long)m.changed, detail.empty() ? "" : ": ", detail.c_str());
      continue;
    }
    std::printf("%-18s %5lld %9s %9s %9s %6s  %s\n", printable(m.name).c_str(), (long long)m.compared,
                fixed(m.mean_difference, 4).c_str(), fixed(m.mean_abs_difference, 4).c_str(),
                fixed(m.max_abs_difference, 4).c_str(), fixed(m.correlation, 3).c_str(), detail.c_str());
  }
  return 0;
}

}  // namespace

int run_runs(const std::vector<std::string>& raw) {
  std::vector<std::string> options = raw;
  const std::vector<std::string> words = take_words(options, {kValueOptions.begin(), kValueOptions.end()});
  const Arguments args(options, kValueOptions, kSwitches);
  if (words.empty()) throw UsageError("runs needs list, show ID or compare A B");
  const std::string& action = words[0];
  const std::filesystem::path path = database_path(args);
  const bool json = args.flag("json");
  const int top = int(args.integer_or("top", 5, 1, 1000));
  auto expect = [&](size_t n, const char* usage) {
    if (words.size() != n) throw UsageError(std::string("usage: attnscope-cli runs ") + usage);
  };
  if (action == "list") {
    expect(1, "list [--db F] [--json]");
    return list(path, json);
  }
  if (action == "show") {
    expect(2, "show ID [--db F] [--top N] [--json]");
    const store::RunId id = parse_run_id(words[1]);
    return show(store::Database::open(path, store::OpenMode::ReadOnly), id, top, json);
  }
  if (action == "compare") {
    expect(3, "compare A B [--db F] [--top N] [--json]");
    const store::RunId a = parse_run_id(words[1]), b = parse_run_id(words[2]);
    return compare(store::Database::open(path, store::OpenMode::ReadOnly), a, b, top, json);
  }
  throw UsageError("runs: unknown action '" + action + "' (list, show or compare)");
}

}  // namespace attnscope::cli
