#pragma once
// A head's mask drawn over its attention map (docs/mask-lab.md's kept-key sets): what
// the mask drops is fogged over, what it keeps is left as it is. Two levels, like the map:
//  - one pixel per (query block, key block) of the kept set: clear where the block is
//    kept whole or not visible (the causal future), fogged where it is dropped, and in
//    between for a partial block by the share of its visible entries it drops;
//  - once few enough rows are in view, the dropped entries themselves, as runs of keys
//    per row (a row has a handful of runs, so this costs what is on screen).
#include <cstdint>
#include <vector>

#include "kernels/kept_keys.h"
#include "views/color_scale.h"

namespace attnscope::views {

// The shade of a dropped entry, drawn over the map's colours: a pale fog, so that what a
// mask drops greys out on the dark low end of the ramp as well as on the bright high end,
// and what it keeps stays in its colours.
constexpr PackedColor kDroppedShade = pack_color(215, 215, 222, 170);
// Token runs are drawn when at most this many rows are in view.
constexpr int64_t kMaskRunRows = 512;

// Visible (row, key) entries of a kept set's block (query_block, key_block): causal and
// the model's window, counted per row.
int64_t visible_entries_in_block(const kernels::KeptKeys& kept, int64_t query_block, int64_t key_block);

// The block pixels, row-major [query_blocks][key_blocks] with key_blocks = query_blocks
// for a prefill from position 0 (blocks * block tokens a side).
struct MaskBlockImage {
  int64_t blocks = 0;     // a side
  int64_t block = 64;     // tokens a block spans
  std::vector<PackedColor> pixels;
};
MaskBlockImage mask_block_image(const kernels::KeptKeys& kept);

// Dropped keys [key_begin, key_end) of one row (`query`: the row's position).
struct DroppedRun {
  int64_t query = 0;
  int64_t key_begin = 0, key_end = 0;
  bool operator==(const DroppedRun&) const = default;
};
// The visible entries of rows [query_begin, query_end) with keys in [key_begin, key_end)
// that the set does not keep, as runs per row in row order. Rows outside the set are skipped.
std::vector<DroppedRun> dropped_runs(const kernels::KeptKeys& kept, int64_t query_begin, int64_t query_end,
                                     int64_t key_begin, int64_t key_end);

}  // namespace attnscope::views
