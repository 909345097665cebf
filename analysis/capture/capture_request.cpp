#include "analysis/capture/capture_request.h"

#include <algorithm>
#include <charconv>

#include "kernels/error.h"

namespace attnscope::capture {
namespace {

int parse_index(std::string_view token, int count, const std::string& what) {
  int value = -1;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size() || value < 0)
    throw Error(what, "'" + std::string(token) + "' is not an index (use e.g. 0,2,5-7 or all)");
  if (value >= count)
    throw Error(what, "index " + std::to_string(value) + " is out of range: the model has " +
                          std::to_string(count) + " (0-" + std::to_string(count - 1) + ")");
  return value;
}

}  // namespace

std::vector<int> parse_index_list(const std::string& text, int count, const std::string& what) {
  std::vector<int> indices;
  if (text == "all" || text.empty()) {
    for (int i = 0; i < count; ++i) indices.push_back(i);
    return indices;
  }
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      indices.push_back(parse_index(item, count, what));
      continue;
    }
    const int first = parse_index(item.substr(0, dash), count, what);
    const int last = parse_index(item.substr(dash + 1), count, what);
    if (last < first) throw Error(what, "range '" + std::string(item) + "' runs backwards");
    for (int i = first; i <= last; ++i) indices.push_back(i);
  }
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  return indices;
}

std::vector<int> resolve_indices(const std::vector<int>& indices, int count, const std::string& what) {
  if (indices.empty()) return parse_index_list("all", count, what);
  std::vector<int> out;
  for (int i : indices) out.push_back(parse_index(std::to_string(i), count, what));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace attnscope::capture
