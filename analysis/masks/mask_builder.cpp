// Dispatch to the family builders and density budgets: the family's main knob is set by
// bisection to the largest value whose realised density does not exceed the budget (the
// smallest value when even that exceeds it). Densities are monotone in every knob: more
// window, lines, blocks, mass, pages or capacity keep supersets or more entries.
#include "analysis/masks/mask_builder.h"

#include <cmath>
#include <functional>

#include "analysis/masks/mask_builders.h"
#include "analysis/masks/sorted_rows.h"

namespace attnscope::masks {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
// Spelled out for compilers without aggregate deduction (clang before 17: the fuzz build).
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

double density_of(const kernels::KeptKeys& kept, int64_t first_row) {
  const int64_t visible = kept.visible_entries_from(first_row);
  return visible == 0 ? 0.0 : double(kept.kept_entries_from(first_row)) / double(visible);
}

kernels::KeptKeys build_family(const HeadAttention& head, const MaskFamily& family) {
  return std::visit(Overloaded{
                        [&](const DenseMask&) { return build_dense(head); },
                        [&](const StreamingMask& m) { return build_streaming(head, m); },
                        [&](const WindowMask& m) { return build_window(head, m); },
                        [&](const VerticalSlashMask& m) { return build_vertical_slash(head, m); },
                        [&](const VerticalSlashOracleMask& m) { return build_vertical_slash_oracle(head, m); },
                        [&](const BlockTopKMask& m) { return build_block_topk(head, m); },
                        [&](const BlockThresholdMask& m) { return build_block_threshold(head, m); },
                        [&](const TopKMask& m) { return build_topk(head, m); },
                        [&](const TopPMask& m) { return build_topp(head, m); },
                        [&](const ThresholdMask& m) { return build_threshold(head, m); },
                        [&](const QuestMask& m) { return build_quest(head, m); },
                        [&](const SnapKVMask& m) { return build_snapkv(head, m); },
                        [&](const H2OMask& m) { return build_h2o(head, m); },
                    },
                    family);
}

struct Probe {
  MaskFamily family;
  kernels::KeptKeys kept;
  double density = 0;
};

// The largest integer knob in [lo, hi] whose density <= target (non-decreasing in knob).
Probe integer_knob(const HeadAttention& head, int64_t first_row, int64_t lo, int64_t hi, double target,
                   const std::function<MaskFamily(int64_t)>& family_at) {
  auto probe = [&](int64_t knob) {
    Probe p{family_at(knob), {}, 0};
    p.kept = build_family(head, p.family);
    p.density = density_of(p.kept, first_row);
    return p;
  };
  hi = std::max(lo, hi);
  Probe best = probe(lo);
  if (best.density > target) return best;
  Probe top = probe(hi);
  if (top.density <= target) return top;
  while (hi - lo > 1) {  // density(lo) <= target < density(hi)
    const int64_t mid = lo + (hi - lo) / 2;
    Probe p = probe(mid);
    if (p.density <= target)
      lo = mid, best = std::move(p);
    else
      hi = mid;
  }
  return best;
}

// The same for a real knob in [lo, hi]; `increasing` false when density falls as it grows.
Probe real_knob(const HeadAttention& head, int64_t first_row, double lo, double hi, bool increasing, double target,
                const std::function<MaskFamily(double)>& family_at) {
  auto probe = [&](double knob) {
    Probe p{family_at(knob), {}, 0};
    p.kept = build_family(head, p.family);
    p.density = density_of(p.kept, first_row);
    return p;
  };
  double fits = increasing ? lo : hi, over = increasing ? hi : lo;
  Probe best = probe(fits);
  if (best.density > target) return best;
  Probe edge = probe(over);
  if (edge.density <= target) return edge;
  for (int i = 0; i < 30; ++i) {
    const double mid = 0.5 * (fits + over);
    Probe p = probe(mid);
    if (p.density <= target)
      fits = mid, best = std::move(p);
    else
      over = mid;
  }
  return best;
}

// Top-p (`mass` true) or threshold knobs from the sorted rows: each probe counts the keys
// every row keeps (the builders' own rules, build_topp / build_threshold: a binary search
// per row) without building a set; the set is built once at the knob found, as real_knob
// would find it.
Probe sorted_knob(const HeadAttention& head, const SortedRows& sorted, int64_t first_row, bool mass, double target,
                  const std::function<MaskFamily(double)>& family_at) {
  const int64_t rows = head.rows();
  double visible = 0;
  for (int64_t r = first_row; r < rows; ++r) visible += double(head.visible(r));
  auto density = [&](double knob) {
    double kept = 0;
    for (int64_t r = first_row; r < rows; ++r) {
      const RankedRow row = sorted.row(r);
      kept += double(std::max<int64_t>(1, mass ? row.keys_for_mass(knob) : row.keys_at_least(knob)));
    }
    return visible > 0 ? kept / visible : 0.0;
  };
  double fits = mass ? 1e-9 : 1.0, over = mass ? 1.0 : 1e-9;
  if (density(fits) <= target && density(over) > target)
    for (int i = 0; i < 30; ++i) {
      const double mid = 0.5 * (fits + over);
      (density(mid) <= target ? fits : over) = mid;
    }
  else if (density(over) <= target)
    fits = over;
  Probe p{family_at(fits), {}, 0};
  p.kept = build_family(head, p.family);
  p.density = density_of(p.kept, first_row);
  return p;
}

// Two counts scaled together, keeping their ratio, from a total: (a, b) with a + b ~ total,
// each at least its minimum.
std::pair<int64_t, int64_t> split(int64_t total, int64_t a, int64_t b, int64_t min_a, int64_t min_b) {
  const double share = a + b > 0 ? double(a) / double(a + b) : 0.5;
  const int64_t x = std::max(min_a, int64_t(std::llround(double(total) * share)));
  return {x, std::max(min_b, total - x)};
}

Probe resolve(const HeadAttention& head, const MaskFamily& family, double d, int64_t first_row) {
  const int64_t keys = head.inputs().keys();
  return std::visit(
      Overloaded{
          [&](const DenseMask&) -> Probe { return {family, build_dense(head), 1.0}; },
          [&](const StreamingMask& m) {
            return integer_knob(head, first_row, 1, keys, d, [&](int64_t w) {
              return MaskFamily(StreamingMask{m.sink_tokens, {double(w), 0}});
            });
          },
          [&](const WindowMask&) {
            return integer_knob(head, first_row, 1, keys, d,
                                [&](int64_t w) { return MaskFamily(WindowMask{{double(w), 0}}); });
          },
          [&](const VerticalSlashMask& m) {
            return integer_knob(head, first_row, m.kept_columns + m.kept_diagonals, 2 * keys, d, [&](int64_t t) {
              auto [v, s] = split(t, m.vertical, m.slash, m.kept_columns, m.kept_diagonals);
              VerticalSlashMask x = m;
              x.vertical = v, x.slash = s;
              return MaskFamily(x);
            });
          },
          [&](const VerticalSlashOracleMask& m) {
            return integer_knob(head, first_row, 1, 2 * keys, d, [&](int64_t t) {
              auto [v, s] = split(t, m.vertical, m.slash, 0, 1);
              return MaskFamily(VerticalSlashOracleMask{v, s});
            });
          },
          [&](const BlockTopKMask& m) {
            return integer_knob(head, first_row, 2, (keys + m.block_size - 1) / m.block_size, d, [&](int64_t k) {
              BlockTopKMask x = m;
              x.blocks = k;
              return MaskFamily(x);
            });
          },
          [&](const BlockThresholdMask& m) {
            return real_knob(head, first_row, 1e-9, 1.0, true, d, [&](double mass) {
              BlockThresholdMask x = m;
              x.mass = mass;
              return MaskFamily(x);
            });
          },
          [&](const TopKMask& m) -> Probe {
            // Per row: d x the row's visible keys, rounded to the nearest key, at least 1.
            std::vector<int64_t> per_row(static_cast<std::size_t>(head.rows()), 1);
            for (int64_t r = 0; r < head.rows(); ++r)
              per_row[std::size_t(r)] = std::max<int64_t>(1, std::llround(d * double(head.visible(r))));
            Probe p{m, build_topk(head, m, &per_row), 0};
            p.density = density_of(p.kept, first_row);
            return p;
          },
          [&](const TopPMask&) {
            if (const SortedRows* sorted = head.sorted_rows())
              return sorted_knob(head, *sorted, first_row, true, d, [&](double mass) { return MaskFamily(TopPMask{mass}); });
            return real_knob(head, first_row, 1e-9, 1.0, true, d, [&](double mass) { return MaskFamily(TopPMask{mass}); });
          },
          [&](const ThresholdMask&) {
            if (const SortedRows* sorted = head.sorted_rows())
              return sorted_knob(head, *sorted, first_row, false, d, [&](double p) { return MaskFamily(ThresholdMask{p}); });
            return real_knob(head, first_row, 1e-9, 1.0, false, d,
                             [&](double p) { return MaskFamily(ThresholdMask{p}); });
          },
          [&](const QuestMask& m) {
            return integer_knob(head, first_row, 1, (keys + m.page_size - 1) / m.page_size, d, [&](int64_t pages) {
              return MaskFamily(QuestMask{m.page_size, pages * m.page_size, m.decode_rows});
            });
          },
          [&](const SnapKVMask& m) {
            return integer_knob(head, first_row, m.observation_window + 1, keys + m.observation_window, d,
                                [&](int64_t capacity) {
                                  SnapKVMask x = m;
                                  x.capacity = capacity;
                                  return MaskFamily(x);
                                });
          },
          [&](const H2OMask& m) {
            return integer_knob(head, first_row, 1, keys, d, [&](int64_t t) {
              auto [heavy, recent] = split(t, m.heavy, m.recent, 0, 1);
              return MaskFamily(H2OMask{heavy, recent, m.decode_rows});
            });
          },
      },
      family);
}

}  // namespace

int64_t first_governed_row(const HeadAttention& head, const MaskFamily& family) {
  return std::visit(Overloaded{
                        [&](const QuestMask& m) { return first_decode_row(head, m.decode_rows); },
                        [&](const SnapKVMask& m) { return first_decode_row(head, m.decode_rows); },
                        [&](const H2OMask& m) { return first_decode_row(head, m.decode_rows); },
                        [&](const auto&) { return int64_t(0); },
                    },
                    family);
}

BuiltMask build_mask(const HeadAttention& head, const HeadMask& mask) {
  check_mask(mask, "mask");
  BuiltMask out;
  out.first_row = first_governed_row(head, mask.family);
  if (!mask.density) {
    out.kept = build_family(head, mask.family);
    out.used = mask;
    out.density = density_of(out.kept, out.first_row);
    return out;
  }
  Probe p = resolve(head, mask.family, *mask.density, out.first_row);
  out.kept = std::move(p.kept);
  out.density = p.density;
  out.used = {std::move(p.family), std::nullopt};
  if (std::holds_alternative<TopKMask>(mask.family)) out.used.density = mask.density;
  return out;
}

}  // namespace attnscope::masks
