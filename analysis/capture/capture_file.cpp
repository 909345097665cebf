#include "analysis/capture/capture_file.h"

#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>

#include "analysis/io/safetensors.h"
#include "kernels/error.h"

namespace attnscope::capture {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors stores little-endian values");

std::string head_prefix(int layer, int head) {
  return "layer." + std::to_string(layer) + ".head." + std::to_string(head) + ".";
}

template <typename T>
std::span<const std::byte> as_bytes(const std::vector<T>& v) {
  return std::as_bytes(std::span<const T>(v));
}

// Everything one head contributes; owns the flattened arrays until the file is written.
struct HeadArrays {
  std::vector<double> scalars_f64;   // sink_mass_sum, local_mass_sum, entropy_sum
  std::vector<int64_t> counts;       // rows, sink_rows, local_rows, exact_rows
  std::vector<double> pooled;        // [blocks, blocks], zero above the diagonal
};

constexpr const char* kF64Scalars[] = {"sink_mass_sum", "local_mass_sum", "entropy_sum"};
constexpr const char* kCounts[] = {"rows", "sink_rows", "local_rows", "exact_rows"};

HeadArrays flatten(const kernels::HeadAccumulator& acc) {
  HeadArrays a;
  a.scalars_f64 = {acc.sink_mass_sum, acc.local_mass_sum, acc.entropy_sum};
  a.counts = {acc.rows, acc.sink_rows, acc.local_rows, acc.exact_rows};
  const size_t blocks = acc.pooled.sums.size();
  a.pooled.assign(blocks * blocks, 0.0);
  for (size_t i = 0; i < blocks; ++i)
    std::copy(acc.pooled.sums[i].begin(), acc.pooled.sums[i].end(), a.pooled.begin() + std::ptrdiff_t(i * blocks));
  return a;
}

std::string ids_json(std::span<const int32_t> ids) { return nlohmann::json(std::vector<int32_t>(ids.begin(), ids.end())).dump(); }

// Reads one tensor of a capture file, checking its dtype and element count.
class Reader {
 public:
  explicit Reader(const io::SafetensorsFile& file) : file_(file) {}

  template <typename T>
  std::vector<T> read(const std::string& name, const char* dtype, std::optional<int64_t> count = std::nullopt) const {
    const io::SafetensorsEntry* e = file_.find(name);
    if (e == nullptr) throw Error(file_.path().string(), "tensor " + name + " is missing");
    if (e->dtype_name != dtype)
      throw Error(file_.where(name), "is " + e->dtype_name + ", a capture stores it as " + dtype);
    if (count && e->elements() != *count)
      throw Error(file_.where(name), "has " + std::to_string(e->elements()) + " elements, expected " +
                                         std::to_string(*count));
    const auto bytes = file_.bytes(name);
    std::vector<T> out(bytes.size() / sizeof(T));
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
  int64_t elements(const std::string& name) const {
    const io::SafetensorsEntry* e = file_.find(name);
    if (e == nullptr) throw Error(file_.path().string(), "tensor " + name + " is missing");
    return e->elements();
  }

 private:
  const io::SafetensorsFile& file_;
};

int64_t metadata_integer(const CaptureFile& c, const std::string& path, const std::string& key) {
  const auto it = c.metadata.find(key);
  if (it == c.metadata.end()) throw Error(path, "metadata key '" + key + "' is missing");
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    throw Error(path, "metadata key '" + key + "' is not an integer: '" + it->second + "'");
  }
}

std::vector<int32_t> metadata_ids(const CaptureFile& c, const std::string& path, const std::string& key) {
  const auto it = c.metadata.find(key);
  if (it == c.metadata.end()) throw Error(path, "metadata key '" + key + "' is missing");
  try {
    return nlohmann::json::parse(it->second).get<std::vector<int32_t>>();
  } catch (const nlohmann::json::exception&) {
    throw Error(path, "metadata key '" + key + "' is not a JSON list of token ids");
  }
}

kernels::HeadAccumulator read_head(const Reader& r, int layer, int head, int64_t pool_block) {
  kernels::HeadAccumulator acc;
  acc.layer = layer;
  acc.head = head;
  const std::string p = head_prefix(layer, head);
  for (size_t i = 0; i < std::size(kF64Scalars); ++i) {
    const double v = r.read<double>(p + kF64Scalars[i], "F64", 1)[0];
    (i == 0 ? acc.sink_mass_sum : i == 1 ? acc.local_mass_sum : acc.entropy_sum) = v;
  }
  const auto counts = r.read<int64_t>(p + "counts", "I64", int64_t(std::size(kCounts)));
  acc.rows = counts[0];
  acc.sink_rows = counts[1];
  acc.local_rows = counts[2];
  acc.exact_rows = counts[3];
  acc.column_sums = r.read<double>(p + "column_sums", "F64");
  acc.diagonal_sums = r.read<double>(p + "diagonal_sums", "F64");
  acc.row_entropy = r.read<float>(p + "row_entropy", "F32", acc.rows);
  acc.top1 = r.read<int64_t>(p + "top1", "I64", acc.rows);
  acc.positions = r.read<int64_t>(p + "positions", "I64", acc.rows);
  acc.exact = r.read<float>(p + "exact_packed", "F32", acc.exact_rows * (acc.exact_rows + 1) / 2);
  acc.pooled.block = pool_block;
  acc.pooled.rows_in_block = r.read<int64_t>(p + "pooled_rows", "I64");
  const int64_t blocks = int64_t(acc.pooled.rows_in_block.size());
  const auto square = r.read<double>(p + "pooled", "F64", blocks * blocks);
  for (int64_t i = 0; i < blocks; ++i)
    acc.pooled.sums.emplace_back(square.begin() + i * blocks, square.begin() + i * blocks + i + 1);
  return acc;
}

}  // namespace

void save_capture(const std::filesystem::path& path, const Capture& capture,
                  const std::map<std::string, std::string>& metadata, std::span<const int32_t> prompt_ids,
                  std::span<const int32_t> continuation_ids) {
  io::SafetensorsWriter writer;
  for (const auto& [key, value] : metadata) writer.set_metadata(key, value);
  const kernels::CaptureOptions& o = capture.request().options;
  writer.set_metadata("format", kCaptureFormat);
  writer.set_metadata("format_version", std::to_string(kCaptureFormatVersion));
  writer.set_metadata("tool_version", ATTNSCOPE_VERSION);
  writer.set_metadata("sink_tokens", std::to_string(o.sink_tokens));
  writer.set_metadata("local_window", std::to_string(o.local_window));
  writer.set_metadata("pool_block", std::to_string(o.pool_block));
  writer.set_metadata("exact_limit", std::to_string(o.exact_probabilities ? o.exact_limit : 0));
  writer.set_metadata("prompt_ids", ids_json(prompt_ids));
  writer.set_metadata("continuation_ids", ids_json(continuation_ids));
  nlohmann::json heads = nlohmann::json::array();
  for (const auto& acc : capture.heads()) heads.push_back({acc.layer, acc.head});
  writer.set_metadata("heads", heads.dump());

  // The writer keeps spans: the flattened arrays must outlive write().
  std::vector<HeadArrays> arrays;
  arrays.reserve(capture.heads().size());
  for (const auto& acc : capture.heads()) {
    const HeadArrays& a = arrays.emplace_back(flatten(acc));
    const std::string p = head_prefix(acc.layer, acc.head);
    for (size_t i = 0; i < std::size(kF64Scalars); ++i)
      writer.add_raw(p + kF64Scalars[i], "F64", {}, std::as_bytes(std::span(&a.scalars_f64[i], 1)));
    writer.add_raw(p + "counts", "I64", {int64_t(a.counts.size())}, as_bytes(a.counts));
    writer.add_raw(p + "column_sums", "F64", {int64_t(acc.column_sums.size())}, as_bytes(acc.column_sums));
    writer.add_raw(p + "diagonal_sums", "F64", {int64_t(acc.diagonal_sums.size())}, as_bytes(acc.diagonal_sums));
    writer.add(p + "row_entropy", {int64_t(acc.row_entropy.size())}, acc.row_entropy);
    writer.add_raw(p + "top1", "I64", {int64_t(acc.top1.size())}, as_bytes(acc.top1));
    writer.add_raw(p + "positions", "I64", {int64_t(acc.positions.size())}, as_bytes(acc.positions));
    const int64_t blocks = int64_t(acc.pooled.sums.size());
    writer.add_raw(p + "pooled", "F64", {blocks, blocks}, as_bytes(a.pooled));
    writer.add_raw(p + "pooled_rows", "I64", {int64_t(acc.pooled.rows_in_block.size())},
                   as_bytes(acc.pooled.rows_in_block));
    const int64_t packed = acc.exact_rows * (acc.exact_rows + 1) / 2;
    writer.add(p + "exact_packed", {packed}, std::span<const float>(acc.exact.data(), size_t(packed)));
  }
  writer.write(path);
}

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
  c.prompt_ids = metadata_ids(c, where, "prompt_ids");
  c.continuation_ids = metadata_ids(c, where, "continuation_ids");
  std::vector<std::pair<int, int>> heads;
  try {
    heads = nlohmann::json::parse(c.metadata.at("heads")).get<std::vector<std::pair<int, int>>>();
  } catch (const std::exception&) {
    throw Error(where, "metadata key 'heads' is missing or not a list of [layer, head] pairs");
  }
  const Reader reader(file);
  for (const auto& [layer, head] : heads) c.heads.push_back(read_head(reader, layer, head, c.options.pool_block));
  return c;
}

}  // namespace attnscope::capture
