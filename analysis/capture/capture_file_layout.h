#pragma once
// The names a capture file uses (internal to analysis/capture): the one place the
// writer and the reader agree on. docs/capture-format.md documents each of them.
#include <array>
#include <string>

namespace attnscope::capture::layout {

// Metadata keys the writer sets itself; a caller's metadata may not use them.
inline constexpr std::array<const char*, 10> kReservedKeys = {
    "format",     "format_version", "tool_version", "sink_tokens",      "local_window",
    "pool_block", "exact_limit",    "prompt_ids",   "continuation_ids", "heads"};

// Per-head tensors, after the prefix "layer.L.head.H.".
inline constexpr const char* kSinkMassSum = "sink_mass_sum";    // F64 []
inline constexpr const char* kLocalMassSum = "local_mass_sum";  // F64 []
inline constexpr const char* kEntropySum = "entropy_sum";       // F64 []
inline constexpr const char* kCounts = "counts";                // I64 [4]
inline constexpr const char* kColumnSums = "column_sums";       // F64 [K]
inline constexpr const char* kDiagonalSums = "diagonal_sums";   // F64 [D]
inline constexpr const char* kRowEntropy = "row_entropy";       // F32 [R]
inline constexpr const char* kTop1 = "top1";                    // I64 [R]
inline constexpr const char* kPositions = "positions";          // I64 [R]
inline constexpr const char* kPooled = "pooled";                // F64 [B, B]
inline constexpr const char* kPooledRows = "pooled_rows";       // I64 [B]
inline constexpr const char* kExactPacked = "exact_packed";     // F32 [n (n + 1) / 2]

// Order of the entries of `counts`.
enum CountIndex { kRows = 0, kSinkRows = 1, kLocalRows = 2, kExactRows = 3, kCountEntries = 4 };

inline std::string head_prefix(int layer, int head) {
  std::string prefix = "layer.";
  prefix += std::to_string(layer);
  prefix += ".head.";
  prefix += std::to_string(head);
  prefix += '.';
  return prefix;
}

}  // namespace attnscope::capture::layout
