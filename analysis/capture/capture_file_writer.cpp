// save_capture: a Capture's accumulators as one safetensors file (docs/capture-format.md).
// Sums stay F64 (they are accumulated in double; F32 would lose the small columns of
// a long run), per-row values keep the type the accumulator holds.
#include <algorithm>
#include <bit>
#include <nlohmann/json.hpp>

#include "analysis/capture/capture_file.h"
#include "analysis/capture/capture_file_layout.h"
#include "analysis/io/safetensors.h"
#include "kernels/error.h"

namespace attnscope::capture {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors stores little-endian values");

template <typename T>
std::span<const std::byte> as_bytes(const std::vector<T>& v) {
  return std::as_bytes(std::span<const T>(v));
}

int64_t length(std::size_t size) { return int64_t(size); }

// What one head contributes beyond its own vectors; owned here until the file is written
// because the writer keeps spans, not copies.
struct HeadArrays {
  double sink_mass_sum = 0;
  double local_mass_sum = 0;
  double entropy_sum = 0;
  std::vector<int64_t> counts;  // layout::CountIndex order
  std::vector<double> pooled;   // [blocks, blocks], zero above the diagonal
};

HeadArrays flatten(const kernels::HeadAccumulator& acc) {
  HeadArrays a;
  a.sink_mass_sum = acc.sink_mass_sum;
  a.local_mass_sum = acc.local_mass_sum;
  a.entropy_sum = acc.entropy_sum;
  a.counts.assign(layout::kCountEntries, 0);
  a.counts[layout::kRows] = acc.rows;
  a.counts[layout::kSinkRows] = acc.sink_rows;
  a.counts[layout::kLocalRows] = acc.local_rows;
  a.counts[layout::kExactRows] = acc.exact_rows;
  const size_t blocks = acc.pooled.sums.size();
  a.pooled.assign(blocks * blocks, 0.0);
  for (size_t i = 0; i < blocks; ++i)
    std::copy(acc.pooled.sums[i].begin(), acc.pooled.sums[i].end(), a.pooled.begin() + std::ptrdiff_t(i * blocks));
  return a;
}

// An accumulator the reader would refuse means a bug upstream: say so now rather than
// write a file that cannot be opened.
void check_consistent(const kernels::HeadAccumulator& acc, const std::string& file) {
  const std::string where = file + ": layer " + std::to_string(acc.layer) + " head " + std::to_string(acc.head);
  const auto rows = size_t(acc.rows);
  const size_t blocks = acc.pooled.sums.size();
  const int64_t packed = acc.exact_rows * (acc.exact_rows + 1) / 2;
  if (acc.row_entropy.size() != rows || acc.top1.size() != rows || acc.positions.size() != rows)
    throw Error(where, "per-row records do not match the row count " + std::to_string(acc.rows));
  if (acc.pooled.rows_in_block.size() != blocks)
    throw Error(where, "the pooled map has " + std::to_string(blocks) + " block rows but " +
                           std::to_string(acc.pooled.rows_in_block.size()) + " row counts");
  for (size_t i = 0; i < blocks; ++i)
    if (acc.pooled.sums[i].size() != i + 1)
      throw Error(where, "pooled block row " + std::to_string(i) + " is not causal");
  if (acc.exact_rows < 0 || length(acc.exact.size()) < packed)
    throw Error(where, "holds fewer exact probabilities than its " + std::to_string(acc.exact_rows) + " exact rows");
}

std::string ids_json(std::span<const int32_t> ids) {
  return nlohmann::json(std::vector<int32_t>(ids.begin(), ids.end())).dump();
}

void add_head(io::SafetensorsWriter& writer, const kernels::HeadAccumulator& acc, const HeadArrays& a) {
  const std::string p = layout::head_prefix(acc.layer, acc.head);
  writer.add_raw(p + layout::kSinkMassSum, "F64", {}, std::as_bytes(std::span(&a.sink_mass_sum, 1)));
  writer.add_raw(p + layout::kLocalMassSum, "F64", {}, std::as_bytes(std::span(&a.local_mass_sum, 1)));
  writer.add_raw(p + layout::kEntropySum, "F64", {}, std::as_bytes(std::span(&a.entropy_sum, 1)));
  writer.add_raw(p + layout::kCounts, "I64", {length(a.counts.size())}, as_bytes(a.counts));
  writer.add_raw(p + layout::kColumnSums, "F64", {length(acc.column_sums.size())}, as_bytes(acc.column_sums));
  writer.add_raw(p + layout::kDiagonalSums, "F64", {length(acc.diagonal_sums.size())}, as_bytes(acc.diagonal_sums));
  writer.add(p + layout::kRowEntropy, {length(acc.row_entropy.size())}, acc.row_entropy);
  writer.add_raw(p + layout::kTop1, "I64", {length(acc.top1.size())}, as_bytes(acc.top1));
  writer.add_raw(p + layout::kPositions, "I64", {length(acc.positions.size())}, as_bytes(acc.positions));
  const int64_t blocks = length(acc.pooled.sums.size());
  writer.add_raw(p + layout::kPooled, "F64", {blocks, blocks}, as_bytes(a.pooled));
  writer.add_raw(p + layout::kPooledRows, "I64", {blocks}, as_bytes(acc.pooled.rows_in_block));
  const int64_t packed = acc.exact_rows * (acc.exact_rows + 1) / 2;
  writer.add(p + layout::kExactPacked, {packed}, std::span<const float>(acc.exact.data(), size_t(packed)));
}

}  // namespace

void save_capture(const std::filesystem::path& path, const Capture& capture,
                  const std::map<std::string, std::string>& metadata, std::span<const int32_t> prompt_ids,
                  std::span<const int32_t> continuation_ids) {
  const std::string where = path.string();
  io::SafetensorsWriter writer;
  for (const auto& [key, value] : metadata) {
    const auto& reserved = layout::kReservedKeys;
    if (std::find(reserved.begin(), reserved.end(), key) != reserved.end())
      throw Error(where, "metadata key '" + key + "' is one the capture format sets itself");
    writer.set_metadata(key, value);
  }
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

  std::vector<HeadArrays> arrays;
  arrays.reserve(capture.heads().size());  // no reallocation: the writer holds spans into it
  for (const auto& acc : capture.heads()) {
    check_consistent(acc, where);
    add_head(writer, acc, arrays.emplace_back(flatten(acc)));
  }
  writer.write(path);
}

}  // namespace attnscope::capture
