#pragma once
// Brute-force double references for the mask families, written from the definitions in
// analysis/masks/mask_plan.h and docs/mask-plans.md without the engine's blocks, sorted
// rows or bit masks: a dense [rows][keys] matrix of exact probabilities and a dense
// [rows][keys] keep matrix per family. For small random heads only.
//
// Random heads use q and k entries in multiples of 1/4, so every score is exact in
// float and double and distinct scores differ by at least scale / 16: rankings (top-k,
// top columns, top blocks, Quest's bounds) cannot flip between the engine's float
// scores and this double reference.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "analysis/masks/head_attention.h"
#include "analysis/masks/mask_plan.h"

namespace attnscope::testing::masks {

using Keep = std::vector<std::vector<bool>>;  // [row][key]

struct RefHead {
  int64_t rows = 0, first_position = 0, model_window = 0, head_dim = 0;
  double scale = 0;
  std::vector<float> q, k, v;  // [rows, D], [keys, D], [keys, D]
  std::vector<std::vector<double>> p;  // exact probabilities [row][key], 0 where not visible

  int64_t keys() const { return first_position + rows; }
  int64_t position(int64_t r) const { return first_position + r; }
  bool visible(int64_t r, int64_t key) const {
    const int64_t pos = position(r);
    return key >= 0 && key <= pos && (model_window <= 0 || key > pos - model_window);
  }
  double score(int64_t r, int64_t key) const {
    double s = 0;
    for (int64_t d = 0; d < head_dim; ++d) s += double(q[std::size_t(r * head_dim + d)]) * double(k[std::size_t(key * head_dim + d)]);
    return s * scale;
  }
  attnscope::masks::HeadInputs inputs() const {
    attnscope::masks::HeadInputs in;
    in.q = q.data(), in.q_stride = head_dim;
    in.k = k.data(), in.k_stride = head_dim;
    in.v = v.data(), in.v_stride = head_dim;
    in.rows = rows, in.first_position = first_position, in.head_dim = head_dim, in.model_window = model_window;
    in.scale = float(scale);
    return in;
  }
};

inline RefHead random_head(int64_t rows, int64_t first_position, int64_t model_window, int64_t head_dim, uint32_t seed) {
  RefHead h;
  h.rows = rows, h.first_position = first_position, h.model_window = model_window, h.head_dim = head_dim;
  h.scale = 1.0 / std::sqrt(double(head_dim));
  // scale rounded to float, as the engine applies it, so both compute the same scores.
  h.scale = double(float(h.scale));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> quarter(-6, 6);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  h.q.resize(std::size_t(rows * head_dim));
  h.k.resize(std::size_t(h.keys() * head_dim));
  h.v.resize(std::size_t(h.keys() * head_dim));
  for (float& x : h.q) x = float(quarter(rng)) / 4.0f;
  for (float& x : h.k) x = float(quarter(rng)) / 4.0f;
  for (float& x : h.v) x = normal(rng);
  // A sink: key 0 scores high for every query, as in trained models.
  for (int64_t d = 0; d < head_dim; ++d) h.k[std::size_t(d)] = 1.0f;
  h.p.assign(std::size_t(rows), std::vector<double>(std::size_t(h.keys()), 0.0));
  for (int64_t r = 0; r < rows; ++r) {
    double max = -std::numeric_limits<double>::infinity();
    for (int64_t key = 0; key < h.keys(); ++key)
      if (h.visible(r, key)) max = std::max(max, h.score(r, key));
    double sum = 0;
    for (int64_t key = 0; key < h.keys(); ++key)
      if (h.visible(r, key)) sum += std::exp(h.score(r, key) - max);
    for (int64_t key = 0; key < h.keys(); ++key)
      if (h.visible(r, key)) h.p[std::size_t(r)][std::size_t(key)] = std::exp(h.score(r, key) - max) / sum;
  }
  return h;
}

inline Keep empty_keep(const RefHead& h) {
  return Keep(std::size_t(h.rows), std::vector<bool>(std::size_t(h.keys()), false));
}

// A row that keeps nothing keeps its own key.
inline void own_key_floor(const RefHead& h, Keep& keep) {
  for (int64_t r = 0; r < h.rows; ++r)
    if (std::none_of(keep[std::size_t(r)].begin(), keep[std::size_t(r)].end(), [](bool b) { return b; }))
      keep[std::size_t(r)][std::size_t(h.position(r))] = true;
}

// Indices of the `count` largest values, ties to the lower index.
inline std::set<int64_t> top_set(const std::vector<double>& values, int64_t count) {
  std::vector<int64_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return values[std::size_t(a)] > values[std::size_t(b)]; });
  order.resize(std::size_t(std::min<int64_t>(count, int64_t(order.size()))));
  return {order.begin(), order.end()};
}

inline Keep ref_sink_window(const RefHead& h, int64_t sinks, int64_t window) {
  Keep keep = empty_keep(h);
  for (int64_t r = 0; r < h.rows; ++r)
    for (int64_t key = 0; key < h.keys(); ++key)
      keep[std::size_t(r)][std::size_t(key)] = h.visible(r, key) && (key < sinks || key > h.position(r) - window);
  own_key_floor(h, keep);
  return keep;
}

inline Keep ref_lines(const RefHead& h, const std::set<int64_t>& columns, const std::set<int64_t>& distances) {
  Keep keep = empty_keep(h);
  for (int64_t r = 0; r < h.rows; ++r)
    for (int64_t key = 0; key < h.keys(); ++key)
      keep[std::size_t(r)][std::size_t(key)] =
          h.visible(r, key) && (columns.count(key) > 0 || distances.count(h.position(r) - key) > 0);
  own_key_floor(h, keep);
  return keep;
}

inline Keep ref_vertical_slash(const RefHead& h, const attnscope::masks::VerticalSlashMask& m) {
  std::vector<double> column(std::size_t(h.keys()), 0.0), diagonal(std::size_t(h.keys()), 0.0);
  for (int64_t r = std::max<int64_t>(0, h.rows - m.last_queries); r < h.rows; ++r)
    for (int64_t key = 0; key < h.keys(); ++key) {
      column[std::size_t(key)] += h.p[std::size_t(r)][std::size_t(key)];
      if (h.visible(r, key)) diagonal[std::size_t(h.position(r) - key)] += h.p[std::size_t(r)][std::size_t(key)];
    }
  for (int64_t c = 0; c < std::min(m.kept_columns, h.keys()); ++c) column[std::size_t(c)] = 1e300;
  for (int64_t d = 0; d < std::min(m.kept_diagonals, h.keys()); ++d) diagonal[std::size_t(d)] = 1e300;
  return ref_lines(h, top_set(column, m.vertical), top_set(diagonal, m.slash));
}

inline Keep ref_vertical_slash_oracle(const RefHead& h, const attnscope::masks::VerticalSlashOracleMask& m) {
  std::vector<double> column(std::size_t(h.keys()), 0.0), diagonal(std::size_t(h.keys()), 0.0);
  for (int64_t r = 0; r < h.rows; ++r)
    for (int64_t key = 0; key < h.keys(); ++key)
      if (h.visible(r, key)) {
        column[std::size_t(key)] += h.p[std::size_t(r)][std::size_t(key)];
        diagonal[std::size_t(h.position(r) - key)] += h.p[std::size_t(r)][std::size_t(key)];
      }
  return ref_lines(h, top_set(column, m.vertical), top_set(diagonal, m.slash));
}

// Exact block masses; chosen blocks per query block: the first block its first row sees,
// the blocks of its rows' positions, then by mass (ties to the lower block).
inline Keep ref_block(const RefHead& h, int64_t B, int64_t k_blocks, double mass_share, bool by_mass) {
  const int64_t qbs = (h.rows + B - 1) / B;
  Keep keep = empty_keep(h);
  for (int64_t qb = 0; qb < qbs; ++qb) {
    const int64_t r0 = qb * B, r1 = std::min(h.rows, r0 + B);
    const int64_t pos0 = h.position(r0);
    const int64_t first = (h.model_window > 0 ? std::max<int64_t>(0, pos0 - h.model_window + 1) : 0) / B;
    const int64_t diag0 = std::max(first, pos0 / B), last = h.position(r1 - 1) / B;
    std::vector<double> mass(std::size_t(last + 1), 0.0);
    double total = 0;
    // Keys past the block's last position are invisible to it (probability 0) and past
    // the end of `mass` (AddressSanitizer found the read).
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t key = 0; key < std::min(h.keys(), (last + 1) * B); ++key)
        mass[std::size_t(key / B)] += h.p[std::size_t(r)][std::size_t(key)];
    for (int64_t kb = first; kb <= last; ++kb) total += mass[std::size_t(kb)];
    std::vector<int64_t> order{first};
    for (int64_t kb = std::max(first + 1, diag0); kb <= last; ++kb) order.push_back(kb);
    const std::size_t forced = order.size();
    std::vector<int64_t> rest;
    for (int64_t kb = first + 1; kb < diag0; ++kb) rest.push_back(kb);
    std::stable_sort(rest.begin(), rest.end(), [&](int64_t a, int64_t b) { return mass[std::size_t(a)] > mass[std::size_t(b)]; });
    order.insert(order.end(), rest.begin(), rest.end());
    std::set<int64_t> chosen;
    double kept = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (by_mass ? (i >= forced && kept >= mass_share * total) : (i >= std::max<std::size_t>(forced, std::size_t(k_blocks))))
        break;
      chosen.insert(order[i]);
      kept += mass[std::size_t(order[i])];
    }
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t key = 0; key < h.keys(); ++key)
        keep[std::size_t(r)][std::size_t(key)] = h.visible(r, key) && chosen.count(key / B) > 0;
  }
  own_key_floor(h, keep);
  return keep;
}

// Row-wise: keys in decreasing probability (ties: lower key), how many by `count_of`.
template <class CountOf>
Keep ref_rows(const RefHead& h, CountOf count_of) {
  Keep keep = empty_keep(h);
  for (int64_t r = 0; r < h.rows; ++r) {
    std::vector<int64_t> keys;
    for (int64_t key = 0; key < h.keys(); ++key)
      if (h.visible(r, key)) keys.push_back(key);
    const auto& p = h.p[std::size_t(r)];
    std::stable_sort(keys.begin(), keys.end(), [&](int64_t a, int64_t b) { return p[std::size_t(a)] > p[std::size_t(b)]; });
    std::vector<double> sorted;
    for (int64_t key : keys) sorted.push_back(p[std::size_t(key)]);
    const int64_t n = std::clamp<int64_t>(count_of(r, sorted), 1, int64_t(keys.size()));
    for (int64_t i = 0; i < n; ++i) keep[std::size_t(r)][std::size_t(keys[std::size_t(i)])] = true;
  }
  return keep;
}

inline Keep ref_topk(const RefHead& h, int64_t k) {
  return ref_rows(h, [&](int64_t, const std::vector<double>&) { return k; });
}

inline Keep ref_topp(const RefHead& h, double mass) {
  return ref_rows(h, [&](int64_t, const std::vector<double>& sorted) {
    double sum = 0;
    for (std::size_t i = 0; i < sorted.size(); ++i)
      if ((sum += sorted[i]) >= mass) return int64_t(i + 1);
    return int64_t(sorted.size());
  });
}

inline Keep ref_threshold(const RefHead& h, double probability) {
  return ref_rows(h, [&](int64_t, const std::vector<double>& sorted) {
    int64_t n = 0;
    while (n < int64_t(sorted.size()) && sorted[std::size_t(n)] >= probability) ++n;
    return n;
  });
}

inline void dense_rows_before(const RefHead& h, int64_t first_decode, Keep& keep) {
  for (int64_t r = 0; r < first_decode; ++r)
    for (int64_t key = 0; key < h.keys(); ++key) keep[std::size_t(r)][std::size_t(key)] = h.visible(r, key);
}

inline Keep ref_quest(const RefHead& h, const attnscope::masks::QuestMask& m) {
  const int64_t c = std::max<int64_t>(0, h.rows - m.decode_rows), P = m.page_size, D = h.head_dim;
  Keep keep = empty_keep(h);
  dense_rows_before(h, c, keep);
  for (int64_t r = c; r < h.rows; ++r) {
    const int64_t pos = h.position(r), own = pos / P;
    const int64_t first_page = (h.model_window > 0 ? std::max<int64_t>(0, pos - h.model_window + 1) : 0) / P;
    std::vector<double> bound(std::size_t(own), -1e300);
    for (int64_t page = first_page; page < own; ++page) {
      double s = 0;
      for (int64_t d = 0; d < D; ++d) {
        double lo = 1e300, hi = -1e300;
        for (int64_t key = page * P; key < (page + 1) * P; ++key)
          lo = std::min(lo, double(h.k[std::size_t(key * D + d)])), hi = std::max(hi, double(h.k[std::size_t(key * D + d)]));
        const double q = h.q[std::size_t(r * D + d)];
        s += std::max(q * lo, q * hi);
      }
      bound[std::size_t(page)] = s;
    }
    std::set<int64_t> pages = top_set(bound, std::min(own - first_page, std::max<int64_t>(1, m.token_budget / P) - 1));
    pages.insert(own);
    for (int64_t key = 0; key < h.keys(); ++key)
      keep[std::size_t(r)][std::size_t(key)] = h.visible(r, key) && pages.count(key / P) > 0;
  }
  own_key_floor(h, keep);
  return keep;
}

inline Keep ref_snapkv(const RefHead& h, const attnscope::masks::SnapKVMask& m) {
  const int64_t c = std::max<int64_t>(0, h.rows - m.decode_rows);
  const int64_t w0 = std::max<int64_t>(0, c - m.observation_window), window_key = h.position(w0);
  const int64_t select = m.capacity - m.observation_window;
  std::set<int64_t> kept;
  if (c > 0 && window_key > select) {
    std::vector<double> votes(static_cast<std::size_t>(window_key), 0.0);
    std::vector<double> pooled(static_cast<std::size_t>(window_key), 0.0);
    for (int64_t r = w0; r < c; ++r)
      for (int64_t key = 0; key < window_key; ++key) votes[std::size_t(key)] += h.p[std::size_t(r)][std::size_t(key)];
    for (int64_t i = 0; i < window_key; ++i) {
      double mx = -1e300, sum = 0;
      for (int64_t j = i - m.kernel / 2; j <= i + m.kernel / 2; ++j) {
        const double x = (j >= 0 && j < window_key) ? votes[std::size_t(j)] : 0.0;  // zero padding for the average
        if (j >= 0 && j < window_key) mx = std::max(mx, x);
        sum += x;
      }
      pooled[std::size_t(i)] = m.pooling == attnscope::masks::Pooling::Max ? mx : sum / double(m.kernel);
    }
    kept = top_set(pooled, select);
  } else {
    for (int64_t key = 0; key < window_key; ++key) kept.insert(key);
  }
  Keep keep = empty_keep(h);
  dense_rows_before(h, c, keep);
  for (int64_t r = c; r < h.rows; ++r)
    for (int64_t key = 0; key < h.keys(); ++key)
      keep[std::size_t(r)][std::size_t(key)] = h.visible(r, key) && (key >= window_key || kept.count(key) > 0);
  own_key_floor(h, keep);
  return keep;
}

inline Keep ref_h2o(const RefHead& h, const attnscope::masks::H2OMask& m) {
  const int64_t c = std::max<int64_t>(0, h.rows - m.decode_rows);
  Keep keep = empty_keep(h);
  dense_rows_before(h, c, keep);
  if (c == h.rows) return keep;
  std::vector<double> score(std::size_t(h.keys()), 0.0);
  for (int64_t r = 0; r < c; ++r)
    for (int64_t key = 0; key < h.keys(); ++key) score[std::size_t(key)] += h.p[std::size_t(r)][std::size_t(key)];
  const int64_t end = h.position(c);
  const int64_t lo = h.model_window > 0 ? std::max<int64_t>(0, end - h.model_window + 1) : 0;
  const int64_t recent_from = std::max(lo, end - m.recent);
  std::vector<double> older(std::size_t(recent_from), -1e300);
  for (int64_t key = lo; key < recent_from; ++key) older[std::size_t(key)] = score[std::size_t(key)];
  std::set<int64_t> cache = top_set(older, std::min(m.heavy, recent_from - lo));
  for (int64_t key = recent_from; key < end; ++key) cache.insert(key);
  for (int64_t r = c; r < h.rows; ++r) {
    const int64_t pos = h.position(r);
    cache.insert(pos);
    for (auto it = cache.begin(); it != cache.end();) it = h.visible(r, *it) ? std::next(it) : cache.erase(it);
    for (int64_t key : cache) keep[std::size_t(r)][std::size_t(key)] = true;
    double max = -1e300, sum = 0;
    for (int64_t key : cache) max = std::max(max, h.score(r, key));
    for (int64_t key : cache) sum += std::exp(h.score(r, key) - max);
    for (int64_t key : cache) score[std::size_t(key)] += std::exp(h.score(r, key) - max) / sum;
    while (int64_t(cache.size()) > m.heavy + m.recent) {
      int64_t victim = -1;
      for (int64_t key : cache)
        if (key <= pos - m.recent && (victim < 0 || score[std::size_t(key)] < score[std::size_t(victim)])) victim = key;
      if (victim < 0) break;
      cache.erase(victim);
    }
  }
  return keep;
}

// Recall and sparse output of one kept matrix in double.
struct RefEvaluation {
  double recall = 0, output_rel_l2 = 0, output_cosine = 0, density = 0;
  std::vector<double> row_recall;
};

inline RefEvaluation ref_evaluate(const RefHead& h, const Keep& keep, int64_t first_row) {
  RefEvaluation e;
  const int64_t D = h.head_dim;
  double diff2 = 0, full2 = 0, kept = 0, visible = 0;
  for (int64_t r = first_row; r < h.rows; ++r) {
    double mass = 0;
    std::vector<double> full(std::size_t(D), 0.0), sparse(std::size_t(D), 0.0);
    for (int64_t key = 0; key < h.keys(); ++key) {
      const double p = h.p[std::size_t(r)][std::size_t(key)];
      visible += h.visible(r, key);
      for (int64_t d = 0; d < D; ++d) full[std::size_t(d)] += p * h.v[std::size_t(key * D + d)];
      if (!keep[std::size_t(r)][std::size_t(key)]) continue;
      kept += 1;
      mass += p;
      for (int64_t d = 0; d < D; ++d) sparse[std::size_t(d)] += p * h.v[std::size_t(key * D + d)];
    }
    double d2 = 0, f2 = 0, s2 = 0, dot = 0;
    for (int64_t d = 0; d < D; ++d) {
      const double s = sparse[std::size_t(d)] / mass, f = full[std::size_t(d)];
      d2 += (s - f) * (s - f), f2 += f * f, s2 += s * s, dot += s * f;
    }
    diff2 += d2, full2 += f2;
    e.output_cosine += dot / std::sqrt(f2 * s2);
    e.recall += mass;
    e.row_recall.push_back(mass);
  }
  const double rows = double(h.rows - first_row);
  e.recall /= rows;
  e.output_cosine /= rows;
  e.output_rel_l2 = std::sqrt(diff2 / full2);
  e.density = kept / visible;
  return e;
}

}  // namespace attnscope::testing::masks
