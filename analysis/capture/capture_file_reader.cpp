// load_capture: reads a file written by save_capture back into accumulators, checking
// every tensor's dtype and shape and that the counts agree with each other, so a
// truncated, forged or foreign file is refused with the file and tensor named.
#include <bit>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "analysis/capture/capture_file.h"
#include "analysis/capture/capture_file_layout.h"
#include "analysis/io/safetensors.h"
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
    const auto bytes = file_.bytes(name);
    std::vector<T> out(bytes.size() / sizeof(T));
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
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

template <typename T>
T metadata_json(const CaptureFile& c, const std::string& path, const std::string& key, const char* what) {
  try {
    return nlohmann::json::parse(metadata_value(c, path, key)).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(path, "metadata key '" + key + "' is not " + what);
  }
}

// Counts must fit the rows they count; checked before they size any read.
void check_counts(const Reader& r, const std::string& name, const std::vector<int64_t>& counts) {
  const int64_t rows = counts[layout::kRows];
  for (int i = 0; i < layout::kCountEntries; ++i)
    if (counts[size_t(i)] < 0 || counts[size_t(i)] > rows)
      throw Error(r.where(name), "entry " + std::to_string(i) + " is " + std::to_string(counts[size_t(i)]) +
                                     ", outside [0, rows = " + std::to_string(rows) + "]");
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
  // exact_rows <= rows, and rows is bounded by the size of `top1`: no overflow here.
  acc.exact = r.read<float>(p + layout::kExactPacked, "F32", {acc.exact_rows * (acc.exact_rows + 1) / 2});
  acc.pooled.block = pool_block;
  acc.pooled.rows_in_block = r.read<int64_t>(p + layout::kPooledRows, "I64", {-1});
  const int64_t blocks = int64_t(acc.pooled.rows_in_block.size());
  const auto& rows_in_block = acc.pooled.rows_in_block;
  const int64_t pooled_rows = std::accumulate(rows_in_block.begin(), rows_in_block.end(), int64_t(0));
  if (pooled_rows != acc.rows)
    throw Error(r.where(p + layout::kPooledRows), "counts " + std::to_string(pooled_rows) + " rows, the head has " +
                                                      std::to_string(acc.rows));
  const auto square = r.read<double>(p + layout::kPooled, "F64", {blocks, blocks});
  for (int64_t i = 0; i < blocks; ++i)
    acc.pooled.sums.emplace_back(square.begin() + i * blocks, square.begin() + i * blocks + i + 1);
  return acc;
}

}  // namespace

CaptureFile load_capture(const std::filesystem::path& path) {
  const auto file = io::SafetensorsFile::open(path);
  CaptureFile c;
  c.metadata = file.metadata();
  const std::string where = path.string();
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
  c.prompt_ids = metadata_json<std::vector<int32_t>>(c, where, "prompt_ids", "a JSON list of token ids");
  c.continuation_ids = metadata_json<std::vector<int32_t>>(c, where, "continuation_ids", "a JSON list of token ids");
  const auto heads =
      metadata_json<std::vector<std::pair<int, int>>>(c, where, "heads", "a JSON list of [layer, head] pairs");
  const Reader reader(file);
  for (const auto& [layer, head] : heads) c.heads.push_back(read_head(reader, layer, head, c.options.pool_block));
  return c;
}

}  // namespace attnscope::capture
