#include "analysis/profile/key_buckets.h"

#include <algorithm>
#include <cstddef>

#include "kernels/error.h"

namespace attnscope::profile {
namespace {

constexpr std::size_t kBuckets = std::size_t(1) << 16;

// One set of sums a thread, zero between uses (a KeyBuckets clears what it used).
struct ThreadSums {
  std::vector<KeyBuckets::Cell> cells = std::vector<KeyBuckets::Cell>(kBuckets);
  bool in_use = false;
};

ThreadSums& thread_sums() {
  thread_local ThreadSums sums;
  return sums;
}

}  // namespace

KeyBuckets::KeyBuckets() : cells_(thread_sums().cells) {
  if (thread_sums().in_use) throw Error("key buckets", "a thread may use one KeyBuckets at a time");
  thread_sums().in_use = true;
}

KeyBuckets::~KeyBuckets() {
  thread_sums().in_use = false;
  if (low_ > high_) return;
  const auto from = std::ptrdiff_t(low_), to = std::ptrdiff_t(high_) + 1;
  std::fill(cells_.begin() + from, cells_.begin() + to, Cell{});
}

void KeyBuckets::flush() {
  if (run_.count == 0) return;
  Cell& c = cells_[run_.bucket];
  c.first += run_.first;
  c.second += run_.second;
  c.count += run_.count;
  low_ = std::min(low_, run_.bucket);
  high_ = std::max(high_, run_.bucket);
  run_ = Run{};
}

std::vector<KeyBuckets::Bucket> KeyBuckets::descending() {
  flush();
  std::vector<Bucket> out;
  if (low_ > high_) return out;
  for (uint32_t b = high_ + 1; b-- > low_;)
    if (cells_[b].count > 0) out.push_back({b, cells_[b].first, cells_[b].second});
  return out;
}

}  // namespace attnscope::profile
