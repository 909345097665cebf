#pragma once
// What the split-KV decode kernels (split_decode_forward.cuh, split_decode_capture.cuh)
// read and write: device pointers and the plan (split_decode_plan.h). Plain C++, filled by
// split_decode.cu and attention_capture_pass.cu.
#include <cstdint>

#include "kernels/cuda/attention_capture_args.h"
#include "kernels/cuda/attention_operands.h"
#include "kernels/cuda/split_decode_plan.h"

namespace attnscope::kernels::cuda::detail {

struct SplitForwardArgs : AttentionOperands {
  int head_begin, head_end;
  split_decode::CtaRows rows;
  split_decode::ForwardUnits units;
  split_decode::Splits splits;
  int first_tile, tiles;
  float* partials;  // the workspace: split_decode::partial_output / partial_stats
  int64_t partial_rows;  // (head_end - head_begin) * n
};

struct SplitCaptureArgs {
  CaptureArgs base;  // the launch's heads (slots), buffers and thresholds, as the pass fills them
  uint16_t order[kMaxCapturedHeads] = {};           // slots sorted by KV head
  uint16_t unit_first[kMaxCapturedHeads + 1] = {};  // unit u: order[unit_first[u] .. unit_first[u + 1])
  split_decode::CtaRows rows;
  split_decode::Splits splits;
  int units = 0, slots = 0, first_tile = 0, tiles = 0;
  int parts = 0;              // per row: splits.count * rows.key_groups
  float* partials = nullptr;  // split_decode::capture_part_index, kCapturePlanes planes
};

}  // namespace attnscope::kernels::cuda::detail
