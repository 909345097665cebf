#include "analysis/export/profile_document.h"

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "analysis/export/format_text.h"
#include "analysis/io/json_file.h"
#include "kernels/error.h"

namespace attnscope::exports {
namespace {

const std::set<std::string, std::less<>>& text_metrics() {
  static const std::set<std::string, std::less<>> names{std::string(profile::metric::pattern)};
  return names;
}

nlohmann::ordered_json value_json(const profile::MetricValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return std::get<double>(v);
}

std::string head_text(int layer, int head) {
  return "layer " + std::to_string(layer) + " head " + std::to_string(head);
}

// One metric value from JSON: a number or a text.
profile::MetricValue json_value(const nlohmann::json& v, const std::string& file, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  return json_number(v, file, where);
}

std::string csv_cell(const std::optional<profile::MetricValue>& v) {
  if (!v) return "";
  if (const auto* d = std::get_if<double>(&*v)) return python_number(*d);
  const std::string& s = std::get<std::string>(*v);
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// RFC 4180 records: fields, with quotes and doubled quotes, records ended by CRLF or LF.
std::vector<std::vector<std::string>> csv_records(std::string_view text, const std::string& file) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, field_started = false;
  size_t line = 1, quote_line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = field_started = true;
      quote_line = line;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (c == '\r') ++i;
      record.push_back(std::move(field));
      records.push_back(std::move(record));
      record.clear();
      field.clear();
      field_started = false;
      ++line;
    } else {
      if (c == '"') throw Error(file, "line " + std::to_string(line) + ": a quote inside an unquoted field");
      field += c;
      field_started = true;
    }
  }
  if (quoted) throw Error(file, "line " + std::to_string(quote_line) + ": a quoted field is not closed");
  if (field_started || !record.empty()) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

ProfileDocument profile_document(const StoredProfile& stored, const ModelShape& shape) {
  ProfileDocument doc;
  const store::ModelRecord& m = stored.run.model;
  doc.model = {{"name", shape.name},
               {"path", m.identity.path},
               {"architecture", m.identity.architecture},
               {"model_type", m.identity.model_type},
               {"content_hash", m.identity.content_hash},
               {"num_layers", shape.layers},
               {"num_heads", shape.heads},
               {"num_kv_heads", shape.kv_heads},
               {"head_dim", m.identity.head_dim}};
  const store::RunRecord& r = stored.run;
  doc.run = {{"id", int64_t(r.id)},
             {"kind", r.kind},
             {"task", r.task},
             {"status", std::string(store::status_name(r.status))},
             {"backend", r.backend},
             {"tool_version", r.tool_version},
             {"started_ms", r.started_ms},
             {"ended_ms", r.ended_ms ? nlohmann::ordered_json(*r.ended_ms) : nlohmann::ordered_json(nullptr)},
             {"values", stored.from_units ? "mean over units (the run stopped before its aggregate)" : "run"},
             {"parameters", nlohmann::ordered_json::parse(r.parameters.dump())}};
  std::map<std::string, int64_t> tasks;
  std::set<int64_t> lengths;
  for (const store::UnitRecord& u : stored.units) {
    ++tasks[u.task];
    if (u.prompt_tokens > 0) lengths.insert(u.prompt_tokens);
  }
  doc.units = {{"completed", int64_t(stored.units.size())},
               {"tasks", tasks},
               {"prompt_tokens", std::vector<int64_t>(lengths.begin(), lengths.end())}};
  doc.heads = stored.heads;
  return doc;
}

std::string profile_json_text(const ProfileDocument& document, const ModelShape& shape) {
  const profile::HeadProfile& p = document.heads;
  check_dimension("profile", p.layers(), "layers", shape.layers, "layers", shape);
  check_dimension("profile", p.heads(), "heads in a layer", shape.heads, "query heads", shape);
  nlohmann::ordered_json doc;
  doc["attnscope_profile"] = kProfileFormatVersion;
  doc["model"] = document.model;
  doc["model"]["num_layers"] = shape.layers;
  doc["model"]["num_heads"] = shape.heads;
  doc["model"]["num_kv_heads"] = shape.kv_heads;
  doc["run"] = document.run;
  doc["units"] = document.units;
  const std::vector<std::string> metrics = p.metrics();
  doc["metrics"] = metrics;
  nlohmann::ordered_json heads = nlohmann::ordered_json::array();
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int h = 0; h < shape.heads; ++h) {
      nlohmann::ordered_json head = {{"layer", layer}, {"head", h}, {"kv_head", shape.kv_head_of(h)}};
      for (const std::string& name : metrics)
        if (const auto v = p.get(name, layer, h)) head[name] = value_json(*v);
      heads.push_back(std::move(head));
    }
  doc["heads"] = std::move(heads);
  // Only the metrics with a known reduction (docs/metrics.md, "KV-head reduction").
  profile::HeadProfile known(shape.layers, shape.heads);
  for (const std::string& name : metrics) {
    bool reducible = true;
    try {
      reducible = profile::kv_reduction(name).has_value();
    } catch (const Error&) {
      reducible = false;
    }
    if (!reducible) continue;
    for (int layer = 0; layer < shape.layers; ++layer)
      for (int h = 0; h < shape.heads; ++h)
        if (const auto v = p.get(name, layer, h)) known.set(name, layer, h, *v);
  }
  const profile::HeadProfile kv = profile::reduce_to_kv_heads(known, shape.kv_heads);
  nlohmann::ordered_json kv_heads = nlohmann::ordered_json::array();
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int k = 0; k < shape.kv_heads; ++k) {
      nlohmann::ordered_json head = {{"layer", layer}, {"kv_head", k}};
      for (const std::string& name : kv.metrics())
        if (const auto v = kv.get(name, layer, k)) head[name] = value_json(*v);
      kv_heads.push_back(std::move(head));
    }
  doc["kv_heads"] = std::move(kv_heads);
  return doc.dump(1) + "\n";
}

ProfileDocument parse_profile_json(std::string_view text, const ModelShape& shape, const std::string& file) {
  const nlohmann::json doc = parse_json_text(text, file);
  if (!doc.is_object() || !doc.contains("attnscope_profile"))
    throw Error(file, "is not an attnscope profile (no \"attnscope_profile\" version)");
  const int64_t version = json_integer(doc.at("attnscope_profile"), file, "\"attnscope_profile\"");
  if (version < 1 || version > kProfileFormatVersion)
    throw Error(file, "is profile format version " + std::to_string(version) + "; this build reads version " +
                          std::to_string(kProfileFormatVersion));
  ProfileDocument out;
  if (doc.contains("model")) {
    if (!doc.at("model").is_object()) throw Error(file, "\"model\" must be an object");
    out.model = nlohmann::ordered_json::parse(doc.at("model").dump());
    const std::pair<const char*, int> counts[] = {{"num_layers", shape.layers}, {"num_heads", shape.heads},
                                                  {"num_kv_heads", shape.kv_heads}};
    for (const auto& [key, expected] : counts)
      if (doc.at("model").contains(key))
        check_dimension(file, json_integer(doc.at("model").at(key), file, std::string("\"model\".") + key),
                        std::string("\"model\".") + key, expected,
                        key == std::string("num_layers") ? "layers" : key == std::string("num_heads") ? "query heads" : "KV heads",
                        shape);
  }
  for (const char* key : {"run", "units"})
    if (doc.contains(key)) (key[0] == 'r' ? out.run : out.units) = nlohmann::ordered_json::parse(doc.at(key).dump());
  if (!doc.contains("heads")) throw Error(file, "\"heads\" is missing");
  const nlohmann::json& heads = json_list(doc.at("heads"), file, "\"heads\"");
  check_dimension(file, int64_t(heads.size()), "heads", int64_t(shape.layers) * shape.heads, "layers x query heads", shape);
  out.heads = profile::HeadProfile(shape.layers, shape.heads);
  std::vector<bool> seen(heads.size(), false);
  for (size_t i = 0; i < heads.size(); ++i) {
    const nlohmann::json& h = heads[i];
    const std::string where = "\"heads\"[" + std::to_string(i) + "]";
    if (!h.is_object()) throw Error(file, where + " must be an object, not " + io::json_kind(h));
    for (const char* key : {"layer", "head"})
      if (!h.contains(key)) throw Error(file, where + " has no \"" + key + "\"");
    const int64_t layer = json_integer(h.at("layer"), file, where + ".layer");
    const int64_t head = json_integer(h.at("head"), file, where + ".head");
    if (layer < 0 || layer >= shape.layers || head < 0 || head >= shape.heads)
      throw Error(file, where + ": " + head_text(int(layer), int(head)) + " is outside " + shape.describe());
    const size_t index = size_t(layer) * size_t(shape.heads) + size_t(head);
    if (seen[index]) throw Error(file, where + ": " + head_text(int(layer), int(head)) + " is listed twice");
    seen[index] = true;
    for (const auto& [name, value] : h.items()) {
      if (name == "layer" || name == "head") continue;
      if (name == "kv_head") {
        if (json_integer(value, file, where + ".kv_head") != shape.kv_head_of(int(head)))
          throw Error(file, where + ": kv_head " + value.dump() + " is not the KV head of query head " +
                                std::to_string(head) + " in " + shape.describe());
        continue;
      }
      out.heads.set(name, int(layer), int(head), json_value(value, file, where + "." + name));
    }
  }
  return out;
}

std::string profile_csv_text(const profile::HeadProfile& heads, const ModelShape& shape) {
  check_dimension("profile", heads.layers(), "layers", shape.layers, "layers", shape);
  check_dimension("profile", heads.heads(), "heads in a layer", shape.heads, "query heads", shape);
  const std::vector<std::string> metrics = heads.metrics();
  std::string out = "layer,head,kv_head";
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
  for (const std::string& name : metrics) {
    out += ',';
    out += csv_cell(profile::MetricValue(name));
  }
  out += '\n';
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int h = 0; h < shape.heads; ++h) {
      out += std::to_string(layer) + "," + std::to_string(h) + "," + std::to_string(shape.kv_head_of(h));
      for (const std::string& name : metrics) {
        out += ',';
        out += csv_cell(heads.get(name, layer, h));
      }
      out += '\n';
    }
  return out;
}

profile::HeadProfile parse_profile_csv(std::string_view text, const ModelShape& shape, const std::string& file) {
  const auto records = csv_records(text, file);
  if (records.empty() || records[0].size() < 2 || records[0][0] != "layer" || records[0][1] != "head")
    throw Error(file, "line 1: the header must start with layer,head");
  const std::vector<std::string>& header = records[0];
  const bool has_kv = header.size() > 2 && header[2] == "kv_head";
  check_dimension(file, int64_t(records.size()) - 1, "rows", int64_t(shape.layers) * shape.heads,
                  "layers x query heads", shape);
  profile::HeadProfile out(shape.layers, shape.heads);
  std::vector<bool> seen(size_t(shape.layers) * size_t(shape.heads), false);
  const auto integer = [&](const std::string& cell, size_t line, const std::string& column) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
    if (cell.empty() || ec != std::errc() || end != cell.data() + cell.size())
      throw Error(file, "line " + std::to_string(line) + ": " + column + " '" + cell.substr(0, 40) + "' is not an integer");
    return v;
  };
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& row = records[r];
    const size_t line = r + 1;
    if (row.size() != header.size())
      throw Error(file, "line " + std::to_string(line) + " has " + std::to_string(row.size()) + " cells; the header has " +
                            std::to_string(header.size()));
    const int64_t layer = integer(row[0], line, "layer");
    const int64_t head = integer(row[1], line, "head");
    if (layer < 0 || layer >= shape.layers || head < 0 || head >= shape.heads)
      throw Error(file, "line " + std::to_string(line) + ": " + head_text(int(layer), int(head)) + " is outside " +
                            shape.describe());
    const size_t index = size_t(layer) * size_t(shape.heads) + size_t(head);
    if (seen[index]) throw Error(file, "line " + std::to_string(line) + ": " + head_text(int(layer), int(head)) + " is listed twice");
    seen[index] = true;
    if (has_kv && integer(row[2], line, "kv_head") != shape.kv_head_of(int(head)))
      throw Error(file, "line " + std::to_string(line) + ": kv_head " + row[2] + " is not the KV head of query head " +
                            std::to_string(head) + " in " + shape.describe());
    for (size_t c = has_kv ? 3 : 2; c < row.size(); ++c) {
      const std::string& cell = row[c];
      if (cell.empty()) continue;
      if (text_metrics().count(header[c])) {
        out.set(header[c], int(layer), int(head), cell);
        continue;
      }
      double v = 0;
      const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (ec != std::errc() || end != cell.data() + cell.size() || !std::isfinite(v))
        throw Error(file, "line " + std::to_string(line) + ": " + header[c] + " '" + cell.substr(0, 40) +
                              "' is not a finite number");
      out.set(header[c], int(layer), int(head), v);
    }
  }
  return out;
}

}  // namespace attnscope::exports
