// load_capture: reads a file written by save_capture back into accumulators, checking
// every tensor's dtype and shape and that the counts agree with each other, so a
// truncated, forged or foreign file is refused with the file and tensor named.
#include <bit>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "analysis/capture/capture_file.h"
#include "analysis/capture/capture_file_layout.h"
#include "analysis/io/json_file.h"
#include "analysis/io/safetensors.h"
#include "analysis/model/config.h"
#include "kernels/error.h"

namespace attnscope::capture {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors stores little-endian values");

// "[any, 4]": an expected shape for messages.
std::string expected_shape(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += shape[i] < 0 ? std::string("any") : std::to_string(shape[i]);
  }
  text += ']';
  return text;
}

// Reads tensors of one capture file, checking dtype and shape.
class Reader {
 public:
  explicit Reader(const io::SafetensorsFile& file) : file_(file) {}

  // `shape`: the expected shape; a dimension of -1 accepts any length.
  template <typename T>
  std::vector<T> read(const std::string& name, const char* dtype, const std::vector<int64_t>& shape) const {
    const io::SafetensorsEntry* e = file_.find(name);
    if (e == nullptr) throw Error(file_.path().string(), "tensor " + name + " is missing");
    if (e->dtype_name != dtype)
      throw Error(file_.where(name), "is " + e->dtype_name + ", a capture stores it as " + dtype);
    bool matches = e->shape.size() == shape.size();
    for (size_t i = 0; matches && i < shape.size(); ++i) matches = shape[i] < 0 || e->shape[i] == shape[i];
    if (!matches)
      throw Error(file_.where(name), "has shape " + io::shape_text(e->shape) + ", expected " + expected_shape(shape));
    std::vector<T> out(e->bytes() / sizeof(T));
    file_.copy_bytes(name, out.data());
    return out;
  }
  double scalar(const std::string& name) const { return read<double>(name, "F64", {})[0]; }
  std::string where(const std::string& name) const { return file_.where(name); }

 private:
  const io::SafetensorsFile& file_;
};

const std::string& metadata_value(const CaptureFile& c, const std::string& path, const std::string& key) {
  const auto it = c.metadata.find(key);
  if (it == c.metadata.end()) throw Error(path, "metadata key '" + key + "' is missing");
  return it->second;
}

int64_t metadata_integer(const CaptureFile& c, const std::string& path, const std::string& key) {
  const std::string& text = metadata_value(c, path, key);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0)
    throw Error(path, "metadata key '" + key + "' is not a non-negative integer: '" + text + "'");
  return value;
}

nlohmann::json metadata_json(const CaptureFile& c, const std::string& path, const std::string& key, const char* what) {
  const std::string& text = metadata_value(c, path, key);
  io::check_json_depth(text, path + ": metadata key '" + key + "'");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw Error(path, "metadata key '" + key + "' is not " + what);
  }
}

// An integer in [0, limit): nlohmann's get<int> of 1e300 or -1 would not be a checked conversion.
bool is_index(const nlohmann::json& v, int64_t limit) {
  return v.is_number_integer() && (v.is_number_unsigned() || v.get<int64_t>() >= 0) && v.get<uint64_t>() < uint64_t(limit);
}

std::vector<int32_t> metadata_ids(const CaptureFile& c, const std::string& path, const std::string& key) {
  constexpr const char* what = "a JSON list of token ids";
  const nlohmann::json list = metadata_json(c, path, key, what);
  if (!list.is_array()) throw Error(path, "metadata key '" + key + "' is not " + what);
  std::vector<int32_t> ids;
  for (const nlohmann::json& id : list) {
    if (!is_index(id, int64_t(1) << 31)) throw Error(path, "metadata key '" + key + "' is not " + what);
    ids.push_back(int32_t(id.get<int64_t>()));
  }
  return ids;
}

// [[layer, head], ...], each pair once.
std::vector<std::pair<int, int>> metadata_heads(const CaptureFile& c, const std::string& path) {
  constexpr const char* what = "a JSON list of [layer, head] pairs";
  const nlohmann::json list = metadata_json(c, path, "heads", what);
  if (!list.is_array()) throw Error(path, std::string("metadata key 'heads' is not ") + what);
  std::vector<std::pair<int, int>> heads;
  std::set<std::pair<int, int>> seen;
  for (const nlohmann::json& pair : list) {
    if (!pair.is_array() || pair.size() != 2 || !is_index(pair[0], model::kMaxLayers) ||
        !is_index(pair[1], model::kMaxHeads))
      throw Error(path, "metadata key 'heads' lists " + pair.dump() + ", not a [layer, head] pair of a model (at most " +
                            std::to_string(model::kMaxLayers) + " layers of " + std::to_string(model::kMaxHeads) +
                            " heads)");
    const std::pair<int, int> head{pair[0].get<int>(), pair[1].get<int>()};
    if (!seen.insert(head).second)
      throw Error(path, "metadata key 'heads' lists " + pair.dump() + " twice");
    heads.push_back(head);
  }
  return heads;
}

// Counts must fit the rows they count; checked before they size any read.
void check_counts(const Reader& r, const std::string& name, const std::vector<int64_t>& counts) {
  const int64_t rows = counts[layout::kRows];
  for (int i = 0; i < layout::kCountEntries; ++i)
    if (counts[size_t(i)] < 0 || counts[size_t(i)] > rows)
      throw Error(r.where(name), "entry " + std::to_string(i) + " is " + std::to_string(counts[size_t(i)]) +
                                     ", outside [0, rows = " + std::to_string(rows) + "]");
}

// Each row's position is a position of a model and its top-1 key one the row can see
// (0 <= top1 <= position): the summaries subtract them (a forged pair overflowed int64,
// found by fuzz/capture_file_fuzz.cpp).
void check_rows(const Reader& r, const std::string& prefix, const kernels::HeadAccumulator& acc) {
  for (size_t row = 0; row < acc.positions.size(); ++row) {
    const int64_t position = acc.positions[row];
    if (position < 0 || position >= model::kMaxPositions)
      throw Error(r.where(prefix + layout::kPositions), "row " + std::to_string(row) + " has position " +
                                                            std::to_string(position) + ", outside [0, " +
                                                            std::to_string(model::kMaxPositions) + ")");
    if (acc.top1[row] < 0 || acc.top1[row] > position)
      throw Error(r.where(prefix + layout::kTop1), "row " + std::to_string(row) + " (position " +
                                                       std::to_string(position) + ") names key " +
                                                       std::to_string(acc.top1[row]) + ", outside [0, " +
                                                       std::to_string(position) + "]");
  }
}

kernels::HeadAccumulator read_head(const Reader& r, int layer, int head, int64_t pool_block) {
  kernels::HeadAccumulator acc;
  acc.layer = layer;
  acc.head = head;
  const std::string p = layout::head_prefix(layer, head);
  acc.sink_mass_sum = r.scalar(p + layout::kSinkMassSum);
  acc.local_mass_sum = r.scalar(p + layout::kLocalMassSum);
  acc.entropy_sum = r.scalar(p + layout::kEntropySum);
  const auto counts = r.read<int64_t>(p + layout::kCounts, "I64", {layout::kCountEntries});
  check_counts(r, p + layout::kCounts, counts);
  acc.rows = counts[layout::kRows];
  acc.sink_rows = counts[layout::kSinkRows];
  acc.local_rows = counts[layout::kLocalRows];
  acc.exact_rows = counts[layout::kExactRows];
  acc.column_sums = r.read<double>(p + layout::kColumnSums, "F64", {-1});
  acc.diagonal_sums = r.read<double>(p + layout::kDiagonalSums, "F64", {-1});
  acc.row_entropy = r.read<float>(p + layout::kRowEntropy, "F32", {acc.rows});
  acc.top1 = r.read<int64_t>(p + layout::kTop1, "I64", {acc.rows});
  acc.positions = r.read<int64_t>(p + layout::kPositions, "I64", {acc.rows});
  check_rows(r, p, acc);
  // exact_rows <= rows, and rows is bounded by the size of `top1`: no overflow here.
  acc.exact = r.read<float>(p + layout::kExactPacked, "F32", {acc.exact_rows * (acc.exact_rows + 1) / 2});
  acc.pooled.block = pool_block;
  acc.pooled.rows_in_block = r.read<int64_t>(p + layout::kPooledRows, "I64", {-1});
  const int64_t blocks = int64_t(acc.pooled.rows_in_block.size());
  // Each block's count is checked before it is added: a forged file's counts could
  // overflow the sum (found by fuzz/capture_file_fuzz.cpp).
  int64_t pooled_rows = 0;
  for (const int64_t in_block : acc.pooled.rows_in_block) {
    if (in_block < 0 || in_block > acc.rows)
      throw Error(r.where(p + layout::kPooledRows), "counts " + std::to_string(in_block) + " rows in a block, outside [0, " +
                                                        std::to_string(acc.rows) + "]");
    pooled_rows += in_block;  // at most blocks * rows, both bounded by the file's size
  }
  if (pooled_rows != acc.rows)
    throw Error(r.where(p + layout::kPooledRows), "counts " + std::to_string(pooled_rows) + " rows, the head has " +
                                                      std::to_string(acc.rows));
  const auto square = r.read<double>(p + layout::kPooled, "F64", {blocks, blocks});
  for (int64_t i = 0; i < blocks; ++i)
    acc.pooled.sums.emplace_back(square.begin() + i * blocks, square.begin() + i * blocks + i + 1);
  return acc;
}

CaptureFile read_capture(const io::SafetensorsFile& file) {
  CaptureFile c;
  c.metadata = file.metadata();
  const std::string where = file.path().string();
  const auto format = c.metadata.find("format");
  if (format == c.metadata.end() || format->second != kCaptureFormat)
    throw Error(where, "is not an AttnScope capture (no \"format\": \"attnscope-capture\" in its metadata)");
  const int64_t version = metadata_integer(c, where, "format_version");
  if (version != kCaptureFormatVersion)
    throw Error(where, "is capture format version " + std::to_string(version) + "; this AttnScope reads version " +
                           std::to_string(kCaptureFormatVersion));
  c.options.sink_tokens = metadata_integer(c, where, "sink_tokens");
  c.options.local_window = metadata_integer(c, where, "local_window");
  c.options.pool_block = metadata_integer(c, where, "pool_block");
  c.options.exact_limit = metadata_integer(c, where, "exact_limit");
  c.options.exact_probabilities = c.options.exact_limit > 0;
  if (c.options.pool_block < 1) throw Error(where, "metadata key 'pool_block' is 0");
  c.prompt_ids = metadata_ids(c, where, "prompt_ids");
  c.continuation_ids = metadata_ids(c, where, "continuation_ids");
  const auto heads = metadata_heads(c, where);
  const Reader reader(file);
  for (const auto& [layer, head] : heads) c.heads.push_back(read_head(reader, layer, head, c.options.pool_block));
  return c;
}

}  // namespace

CaptureFile load_capture(const std::filesystem::path& path) { return read_capture(io::SafetensorsFile::open(path)); }

CaptureFile parse_capture(std::vector<std::byte> bytes, const std::filesystem::path& name) {
  return read_capture(io::SafetensorsFile::from_bytes(std::move(bytes), name));
}

}  // namespace attnscope::capture
