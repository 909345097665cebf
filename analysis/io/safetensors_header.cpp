#include "analysis/io/safetensors_header.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "analysis/io/json_file.h"
#include "kernels/error.h"

namespace attnscope::io {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors is little-endian; a big-endian host would need byte swaps");

using nlohmann::json;

class HeaderChecker {
 public:
  HeaderChecker(const std::filesystem::path& path, uint64_t data_size) : path_(path.string()), data_size_(data_size) {}

  [[noreturn]] void fail_file(const std::string& problem) const { throw Error(path_, problem); }
  [[noreturn]] void fail(const std::string& tensor, const std::string& problem) const {
    throw Error(path_ + ": tensor " + tensor, problem);
  }

  SafetensorsEntry entry(const std::string& name, const json& value) const {
    if (name.empty()) fail_file("the header has a tensor with an empty name");
    if (!value.is_object()) fail(name, "its header entry is " + json_kind(value) + ", not an object");
    SafetensorsEntry e;
    e.name = name;
    e.dtype_name = dtype(name, value);
    e.dtype = kernels::dtype_from_name(e.dtype_name);
    e.shape = shape(name, value);
    const auto [begin, end] = offsets(name, value);
    e.begin = begin;
    e.end = end;
    check_size(e);
    return e;
  }

  // Sorted by begin, no two tensors may share a byte (zero-size tensors own none).
  void check_overlaps(std::vector<const SafetensorsEntry*> by_offset) const {
    std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
      return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    const SafetensorsEntry* reach = nullptr;  // the entry ending furthest so far
    for (const SafetensorsEntry* e : by_offset) {
      if (e->bytes() == 0) continue;
      if (reach != nullptr && e->begin < reach->end)
        fail(e->name, "its bytes [" + std::to_string(e->begin) + ", " + std::to_string(e->end) +
                          ") overlap those of tensor " + reach->name + " [" + std::to_string(reach->begin) +
                          ", " + std::to_string(reach->end) + ")");
      if (reach == nullptr || e->end > reach->end) reach = e;
    }
  }

 private:
  const json& member(const std::string& tensor, const json& entry, const char* key) const {
    const auto it = entry.find(key);
    if (it == entry.end()) fail(tensor, std::string("its header entry has no \"") + key + "\"");
    return *it;
  }

  std::string dtype(const std::string& tensor, const json& entry) const {
    const json& v = member(tensor, entry, "dtype");
    if (!v.is_string()) fail(tensor, "its dtype is " + json_kind(v) + ", not a string");
    const std::string name = v.get<std::string>();
    if (!stored_dtype_size(name))
      fail(tensor, "has unknown dtype \"" + name +
                       "\" (known: " + known_dtype_names() + ")");
    return name;
  }

  std::vector<int64_t> shape(const std::string& tensor, const json& entry) const {
    const json& v = member(tensor, entry, "shape");
    if (!v.is_array()) fail(tensor, "its shape is " + json_kind(v) + ", not a list of sizes");
    std::vector<int64_t> dims;
    for (const json& d : v) {
      if (!d.is_number_integer()) fail(tensor, "its shape " + v.dump() + " holds " + json_kind(d) + ", not a size");
      if (!d.is_number_unsigned() && d.get<int64_t>() < 0)
        fail(tensor, "its shape " + v.dump() + " has a negative dimension");
      if (d.is_number_unsigned() && d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
        fail(tensor, "its shape " + v.dump() + " has a dimension too large to address");
      dims.push_back(d.get<int64_t>());
    }
    // The element count must fit in memory arithmetic: checked before anyone multiplies.
    uint64_t product = 1;
    for (int64_t d : dims)
      if (__builtin_mul_overflow(product, uint64_t(d), &product) ||
          product > uint64_t(std::numeric_limits<int64_t>::max()))
        fail(tensor, "its shape " + v.dump() + " has more elements than can be addressed");
    return dims;
  }

  std::pair<uint64_t, uint64_t> offsets(const std::string& tensor, const json& entry) const {
    const json& v = member(tensor, entry, "data_offsets");
    if (!v.is_array() || v.size() != 2) fail(tensor, "its data_offsets " + v.dump() + " are not a [begin, end] pair");
    for (const json& o : v)
      if (!o.is_number_integer() || (!o.is_number_unsigned() && o.get<int64_t>() < 0))
        fail(tensor, "its data_offsets " + v.dump() + " are not two byte offsets >= 0");
    const uint64_t begin = v[0].get<uint64_t>();
    const uint64_t end = v[1].get<uint64_t>();
    if (end < begin) fail(tensor, "its data_offsets " + v.dump() + " end before they begin");
    if (end > data_size_)
      fail(tensor, "its data_offsets " + v.dump() + " run past the end of the data region (" +
                       std::to_string(data_size_) + " bytes); the file is truncated or corrupt");
    return {begin, end};
  }

  void check_size(const SafetensorsEntry& e) const {
    uint64_t needed = 0;
    const bool overflow = __builtin_mul_overflow(uint64_t(e.elements()), *stored_dtype_size(e.dtype_name), &needed);
    if (overflow || needed != e.bytes())
      fail(e.name, "holds " + std::to_string(e.bytes()) + " bytes but shape " + shape_text(e.shape) + " of " +
                       e.dtype_name + " needs " + (overflow ? std::string("more than 2^64") : std::to_string(needed)) +
                       " bytes");
  }

  std::string path_;
  uint64_t data_size_;
};

std::map<std::string, std::string> metadata(const HeaderChecker& checker, const json& value) {
  if (!value.is_object()) checker.fail_file("its __metadata__ is " + json_kind(value) + ", not an object of strings");
  std::map<std::string, std::string> out;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) checker.fail_file("its __metadata__ entry \"" + key + "\" is " + json_kind(v) + ", not a string");
    out.emplace(key, v.get<std::string>());
  }
  return out;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const std::filesystem::path& path, std::span<const std::byte> file) {
  const std::string where = path.string();
  if (file.size() < 8)
    throw Error(where, "is too short to be a safetensors file (" + std::to_string(file.size()) +
                           " bytes; the header length alone takes 8)");
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, file.data(), 8);
  if (header_bytes > kMaxHeaderBytes)
    throw Error(where, "its header length " + std::to_string(header_bytes) +
                           " is absurdly large (the limit is 100 MiB); this is not a safetensors file or it is corrupt");
  if (header_bytes > file.size() - 8)
    throw Error(where, "its header length " + std::to_string(header_bytes) + " runs past the end of the file (" +
                           std::to_string(file.size()) + " bytes); the file is truncated or not safetensors");

  // Duplicate names would silently shadow each other in a JSON object: catch them while parsing.
  std::set<std::string> seen;
  std::string duplicate;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) {
      const auto name = parsed.get<std::string>();
      if (!seen.insert(name).second && duplicate.empty()) duplicate = name;
    }
    return true;
  };
  const auto* text = reinterpret_cast<const char*>(file.data()) + 8;
  check_json_depth(std::string_view(text, header_bytes), where + ": its header");
  json header;
  try {
    header = json::parse(text, text + header_bytes, on_event);
  } catch (const json::exception& e) {
    throw Error(where, "its header is not valid JSON: " + json_error_text(e));
  }
  if (!header.is_object()) throw Error(where, "its header is " + json_kind(header) + ", not a JSON object");
  if (!duplicate.empty()) throw Error(where + ": tensor " + duplicate, "is listed twice in the header");

  SafetensorsHeader out;
  out.data_start = 8 + header_bytes;
  const HeaderChecker checker(path, file.size() - out.data_start);
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__")
      out.metadata = metadata(checker, value);
    else
      out.entries.push_back(checker.entry(name, value));
  }
  std::sort(out.entries.begin(), out.entries.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<const SafetensorsEntry*> by_offset;
  for (const auto& e : out.entries) by_offset.push_back(&e);
  checker.check_overlaps(std::move(by_offset));
  return out;
}

}  // namespace attnscope::io
