#include "analysis/tasks/needle_file.h"

#include <nlohmann/json.hpp>

#include "analysis/io/json_file.h"
#include "analysis/tasks/text_file.h"
#include "kernels/error.h"

namespace attnscope::tasks {
namespace {

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// A required, non-empty string field; `also` is an accepted older name for it.
std::string text_field(const nlohmann::json& object, const std::string& name, const std::string& where,
                       const std::string& also = {}) {
  auto it = object.find(name);
  if (it == object.end() && !also.empty()) it = object.find(also);
  if (it == object.end()) {
    std::string problem = "the field \"" + name + "\" is missing";
    if (!also.empty()) problem += " (Retrieval_Head's name for it, \"" + also + "\", is absent too)";
    throw Error(where, problem + "; each line needs \"needle\", \"question\" and \"answer\"");
  }
  if (!it->is_string())
    throw Error(where, "the field \"" + it.key() + "\" is " + io::json_kind(*it) + ", not a string");
  std::string value = trimmed(it->get<std::string>());
  if (value.empty()) throw Error(where, "the field \"" + it.key() + "\" is empty");
  return value;
}

}  // namespace

std::vector<Needle> parse_needles(std::string_view jsonl, const std::string& origin) {
  std::vector<Needle> needles;
  size_t start = 0;
  int64_t line_number = 0;
  while (start < jsonl.size()) {
    size_t end = jsonl.find('\n', start);
    if (end == std::string_view::npos) end = jsonl.size();
    const std::string line(jsonl.substr(start, end - start));
    start = end + 1;
    ++line_number;
    if (trimmed(line).empty()) continue;
    const std::string where = origin + ":" + std::to_string(line_number);
    const nlohmann::json object = io::parse_json_text(line, where);
    if (!object.is_object())
      throw Error(where, "is " + io::json_kind(object) + ", not a JSON object with \"needle\", \"question\" and \"answer\"");
    Needle n;
    n.needle = text_field(object, "needle", where);
    n.question = text_field(object, "question", where);
    n.answer = text_field(object, "answer", where, "real_needle");
    n.source = where;
    needles.push_back(std::move(n));
  }
  if (needles.empty()) throw Error(origin, "has no needles (one JSON object a line is expected)");
  return needles;
}

std::vector<Needle> read_needles(const std::filesystem::path& path) {
  return parse_needles(read_task_text(path), path.string());
}

}  // namespace attnscope::tasks
