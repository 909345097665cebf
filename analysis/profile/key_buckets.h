#pragma once
// Elements filed by a key into buckets that are ordered as the keys are, with two sums
// per bucket: how the greedy metrics (the density a head needs, the block-sparse
// candidate) find where their heaviest-first walk ends without sorting every pooled
// block (131K a head at 32K tokens; the sorts were most of the profile's host time).
// Every element of a higher bucket has a larger key than every element of a lower one,
// so a walk in key order takes whole buckets until the one where it ends, and only that
// bucket's elements need sorting.
//
// A bucket is the sign, exponent and first 4 mantissa bits of the key (16 buckets an
// octave); keys <= 0 and NaN share the lowest. The sums live in per-thread arrays that
// are cleared where they were used when the KeyBuckets goes: one KeyBuckets a thread at
// a time (attnscope::Error for a second).
#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace attnscope::profile {

class KeyBuckets {
 public:
  KeyBuckets();
  ~KeyBuckets();
  KeyBuckets(const KeyBuckets&) = delete;
  KeyBuckets& operator=(const KeyBuckets&) = delete;

  static uint32_t bucket(double key) { return key > 0 ? uint32_t(std::bit_cast<uint64_t>(key) >> 48) : 0; }

  // Files one element. Neighbours often share a bucket (a pooled row's blocks), so a run
  // of them is summed here and goes into the bucket once: the sums are rounded in another
  // order than one by one (callers allow for rounding), without a chain of stores.
  void add(double key, double first, double second) {
    const uint32_t b = bucket(key);
    if (b != run_.bucket) {
      flush();
      run_.bucket = b;
    }
    run_.first += first;
    run_.second += second;
    run_.count += 1;
  }

  struct Bucket {
    uint32_t index = 0;
    double first = 0;   // the sums of what add() was given
    double second = 0;
  };
  // The buckets that hold elements, the largest keys first.
  std::vector<Bucket> descending();

  struct Cell {
    double first = 0, second = 0;
    uint64_t count = 0;
  };

 private:
  void flush();

  std::vector<Cell>& cells_;
  struct Run : Cell {
    uint32_t bucket = 0;
  } run_;                                 // the elements since the bucket last changed
  uint32_t low_ = UINT32_MAX, high_ = 0;  // the buckets used
};

}  // namespace attnscope::profile
