#pragma once
// Kept-key sets for the block-sparse GPU tests, made with the set's own builder
// (kernels/kept_keys.h), and the double-precision attention of one row over the entries a
// set keeps (the definition the kernel implements: softmax over the kept entries only).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kept_keys.h"
#include "tests/gpu/attention_test_support.h"

namespace attnscope::testing::gpu {

// What a head keeps.
enum class SetKind {
  Full,          // every visible entry: every kept block is full
  RandomBits,    // each visible key with probability 0.3: partial blocks
  OwnKeyOnly,    // nothing: every row keeps its own key (the builder's rule)
  SinkWindow,    // keys [0, 4) and the last 40: a window that crosses blocks
  RandomBlocks,  // whole (query block, key block) pairs with probability 0.4: full blocks, rows
                 // left empty keep their own key
  Mixed,         // per row: dense, random bits, nothing, or one random range
};
constexpr SetKind kSetKinds[] = {SetKind::Full,       SetKind::RandomBits,   SetKind::OwnKeyOnly,
                                 SetKind::SinkWindow, SetKind::RandomBlocks, SetKind::Mixed};

inline std::string kind_name(SetKind kind) {
  switch (kind) {
    case SetKind::Full: return "full";
    case SetKind::RandomBits: return "random bits";
    case SetKind::OwnKeyOnly: return "own key only";
    case SetKind::SinkWindow: return "sink 4 + window 40";
    case SetKind::RandomBlocks: return "random blocks";
    case SetKind::Mixed: return "mixed rows";
  }
  return "?";
}

inline kernels::KeptKeys make_kept_keys(SetKind kind, int64_t first_position, int64_t rows, int64_t model_window,
                                        uint32_t seed) {
  kernels::KeptKeysBuilder b(first_position, rows, model_window);
  std::mt19937 rng(seed);
  std::bernoulli_distribution often(0.3), blocks(0.4);
  const int64_t keys = first_position + rows;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t p = first_position + r;
    SetKind row_kind = kind;
    if (kind == SetKind::Mixed) row_kind = r % 4 == 0 ? SetKind::Full : r % 4 == 1 ? SetKind::RandomBits : SetKind::OwnKeyOnly;
    switch (row_kind) {
      case SetKind::Full: b.keep_row(r); break;
      case SetKind::RandomBits:
        for (int64_t key = 0; key <= p; ++key)
          if (often(rng)) b.keep(r, key, key + 1);
        break;
      case SetKind::SinkWindow:
        b.keep(r, 0, 4);
        b.keep(r, p - 39, p + 1);
        break;
      default: break;
    }
    if (kind == SetKind::Mixed && r % 4 == 3) {
      std::uniform_int_distribution<int64_t> at(0, p);
      const int64_t lo = at(rng);
      b.keep(r, lo, std::min(p + 1, lo + 1 + at(rng) / 3));
    }
  }
  if (kind == SetKind::RandomBlocks)
    for (int64_t qb = 0; qb * 64 < rows; ++qb)
      for (int64_t kb = 0; kb * 64 < keys; ++kb)
        if (blocks(rng)) b.keep_block(qb, kb);
  return b.finish();
}

// Double attention of call row `row` (position p.first + row) of `head` over the entries
// `kept` keeps: probs over keys [0, pos] (0 where dropped), out, sum p |v| and lse.
inline ReferenceRow reference_kept_row(const Problem& p, int head, const kernels::KeptKeys& kept, int64_t row) {
  const int kvh = head / (p.heads / p.kv_heads);
  const int64_t pos = kept.first_position() + row;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  kept.row_ranges(row, ranges);
  ReferenceRow r;
  r.probs.assign(std::size_t(pos + 1), 0.0);
  double max = -1e300;
  for (const auto& [lo, hi] : ranges)
    for (int64_t key = lo; key < hi; ++key)
      max = std::max(max, r.probs[std::size_t(key)] = reference_score(p, head, pos, key));
  double sum = 0;
  for (const auto& [lo, hi] : ranges)
    for (int64_t key = lo; key < hi; ++key) sum += (r.probs[std::size_t(key)] = std::exp(r.probs[std::size_t(key)] - max));
  r.lse = max + std::log(sum);
  r.out.assign(std::size_t(p.dim), 0.0);
  r.magnitude.assign(std::size_t(p.dim), 0.0);
  for (const auto& [lo, hi] : ranges)
    for (int64_t key = lo; key < hi; ++key) {
      const double w = (r.probs[std::size_t(key)] /= sum);
      for (int d = 0; d < p.dim; ++d) {
        const double v = p.v[std::size_t((key * p.kv_heads + kvh) * p.dim + d)];
        r.out[std::size_t(d)] += w * v;
        r.magnitude[std::size_t(d)] += w * std::fabs(v);
      }
    }
  return r;
}

}  // namespace attnscope::testing::gpu
