#include "views/mask_overlay.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace attnscope::views {

int64_t visible_entries_in_block(const kernels::KeptKeys& kept, int64_t query_block, int64_t key_block) {
  const int64_t b = kept.block();
  const int64_t row_end = std::min((query_block + 1) * b, kept.rows());
  const int64_t key_begin = key_block * b, key_end = (key_block + 1) * b;
  const int64_t window = kept.model_window();
  int64_t count = 0;
  for (int64_t row = query_block * b; row < row_end; ++row) {
    const int64_t position = kept.first_position() + row;
    const int64_t first = window > 0 ? std::max<int64_t>(0, position - window + 1) : 0;
    const int64_t lo = std::max(key_begin, first), hi = std::min(key_end - 1, position);
    if (hi >= lo) count += hi - lo + 1;
  }
  return count;
}

MaskBlockImage mask_block_image(const kernels::KeptKeys& kept) {
  MaskBlockImage image;
  image.block = kept.block();
  const int64_t keys = kept.first_position() + kept.rows();
  image.blocks = std::max(kept.query_blocks(), (keys + image.block - 1) / image.block);
  const size_t side = size_t(image.blocks);
  image.pixels.assign(side * side, pack_color(0, 0, 0, 0));
  const uint8_t full_alpha = uint8_t(kDroppedShade >> 24);
  for (int64_t qb = 0; qb < kept.query_blocks(); ++qb) {
    // Every visible block starts dropped; kept blocks then clear their share.
    const int64_t last_key_block = (kept.first_position() + std::min((qb + 1) * image.block, kept.rows()) - 1) / image.block;
    for (int64_t kb = 0; kb <= last_key_block && kb < image.blocks; ++kb)
      if (visible_entries_in_block(kept, qb, kb) > 0) image.pixels[size_t(qb) * side + size_t(kb)] = kDroppedShade;
    for (const kernels::KeptKeyBlock& block : kept.blocks_of(qb)) {
      PackedColor& pixel = image.pixels[size_t(qb) * side + size_t(block.key_block)];
      if (block.mask < 0) {
        pixel = pack_color(0, 0, 0, 0);
        continue;
      }
      int64_t bits = 0;
      const uint64_t* words = kept.mask_words(block.mask);
      for (int64_t w = 0; w < kept.words_per_mask(); ++w) bits += std::popcount(words[w]);
      const int64_t visible = std::max<int64_t>(1, visible_entries_in_block(kept, qb, block.key_block));
      const double dropped = std::clamp(1.0 - double(bits) / double(visible), 0.0, 1.0);
      pixel = (kDroppedShade & 0x00ffffffu) | PackedColor(uint8_t(dropped * full_alpha + 0.5)) << 24;
    }
  }
  return image;
}

std::vector<DroppedRun> dropped_runs(const kernels::KeptKeys& kept, int64_t query_begin, int64_t query_end,
                                     int64_t key_begin, int64_t key_end) {
  std::vector<DroppedRun> runs;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  const int64_t window = kept.model_window();
  const int64_t first_row = std::max<int64_t>(0, query_begin - kept.first_position());
  const int64_t end_row = std::min(kept.rows(), query_end - kept.first_position());
  for (int64_t row = first_row; row < end_row; ++row) {
    const int64_t position = kept.first_position() + row;
    const int64_t lo = std::max(key_begin, window > 0 ? std::max<int64_t>(0, position - window + 1) : int64_t(0));
    const int64_t hi = std::min(key_end, position + 1);  // visible keys in view: [lo, hi)
    if (hi <= lo) continue;
    ranges.clear();
    kept.row_ranges(row, ranges);
    int64_t at = lo;
    for (const auto& [begin, end] : ranges) {
      if (end <= at) continue;
      if (begin >= hi) break;
      if (begin > at) runs.push_back({position, at, begin});
      at = std::max(at, end);
    }
    if (at < hi) runs.push_back({position, at, hi});
  }
  return runs;
}

}  // namespace attnscope::views
