// The split-KV decode path's host side: the choice (ATTNSCOPE_DECODE_KERNEL, the call's
// shape), the plan of a launch (split_decode_plan.h) on this device's SM count, the
// workspaces and the dispatch to the instantiation for the head dim and dtype.
#include "kernels/cuda/split_decode.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <string>

#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/flash_attention_launch.h"
#include "kernels/cuda/split_decode_args.h"
#include "kernels/cuda/split_decode_launch.h"
#include "kernels/cuda/split_decode_plan.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "split-KV decode attention";
constexpr const char* kVariable = "ATTNSCOPE_DECODE_KERNEL";

}  // namespace

DecodeKernel parse_decode_kernel(std::string_view name) {
  if (name.empty() || name == "split") return DecodeKernel::Split;
  if (name == "rows") return DecodeKernel::Rows;
  throw Error(kVariable, "'" + std::string(name) + "' is not split or rows");
}

DecodeKernel decode_kernel_from_environment() {
  const char* value = std::getenv(kVariable);
  return value == nullptr ? DecodeKernel::Split : parse_decode_kernel(value);
}

struct SplitDecodeWorkspace::Buffer {
  detail::DeviceBuffer partials{kWhere, "the split-KV decode partials"};
};

SplitDecodeWorkspace::SplitDecodeWorkspace() : buffer_(std::make_unique<Buffer>()) {}
SplitDecodeWorkspace::~SplitDecodeWorkspace() = default;
float* SplitDecodeWorkspace::reserve(std::size_t floats) { return buffer_->partials.reserve<float>(floats); }
std::size_t SplitDecodeWorkspace::bytes() const { return buffer_->partials.bytes(); }

int current_device_sm_count() {
  // Asked once per device: the attribute query is cheap, but not free on every decode step.
  static std::array<std::atomic<int>, 64> cache{};
  int device = 0;
  detail::check_cuda(cudaGetDevice(&device), kWhere, "cudaGetDevice");
  if (device < 0 || device >= int(cache.size())) device = 0;
  int count = cache[std::size_t(device)].load(std::memory_order_relaxed);
  if (count == 0) {
    detail::check_cuda(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device), kWhere,
                       "cudaDeviceGetAttribute(multiprocessor count)");
    cache[std::size_t(device)].store(count, std::memory_order_relaxed);
  }
  return count;
}

std::string split_decode_limitation(const FlashAttentionParams& p) {
  if (p.n < 1 || p.n > split_decode::kMaxRows)
    return std::to_string(p.n) + " query rows (the split path takes 1 to " + std::to_string(split_decode::kMaxRows) +
           ")";
  if (p.rule.kind != HeadRuleKind::Dense) return "the rule '" + describe(p.rule) + "' (the split path is dense)";
  if (p.decode_workspace == nullptr) return "no split-KV workspace in the params (decode_workspace)";
  return "";
}

bool split_decode_chosen(const FlashAttentionParams& p, FlashKernel requested) {
  return requested == FlashKernel::Automatic && decode_kernel_from_environment() == DecodeKernel::Split &&
         split_decode_limitation(p).empty();
}

bool split_decode_capture_chosen(const FlashAttentionParams& p) {
  return p.n >= 1 && p.n <= split_decode::kMaxRows && decode_kernel_from_environment() == DecodeKernel::Split;
}

void split_decode_forward(const FlashAttentionParams& p, CUstream_st* stream) {
  const std::string why = split_decode_limitation(p);
  if (!why.empty()) throw Error(kWhere, "cannot run " + why);
  const int group = p.num_heads / p.num_kv_heads;
  const int head_end = p.head_begin + p.heads_run();
  const split_decode::KeyTiles tiles = split_decode::call_key_tiles(p.first_position, p.n, p.sliding_window);

  detail::SplitForwardArgs args{};
  detail::fill_attention_operands(args, p);
  args.head_begin = p.head_begin;
  args.head_end = head_end;
  args.rows = split_decode::cta_rows(p.n, group);
  args.units = split_decode::forward_units(p.head_begin, head_end, group, args.rows.heads);
  args.splits = split_decode::choose_splits(tiles.count, args.units.count, current_device_sm_count());
  args.first_tile = int(tiles.first);
  args.tiles = int(tiles.count);
  args.partial_rows = int64_t(p.heads_run()) * p.n;
  args.partials = p.decode_workspace->reserve(
      std::size_t(split_decode::forward_workspace_floats(args.partial_rows, args.splits.count, p.head_dim)));

  auto* s = reinterpret_cast<cudaStream_t>(stream);
  detail::dispatch_head_dim(p.dtype, p.head_dim,
                            [&]<int D, typename T>() { detail::launch_split_decode_forward<D, T>(args, s); });
  detail::check_cuda(cudaGetLastError(), kWhere, "launch of the split forward failed");
}

namespace detail {

void launch_split_decode_capture_pass(const FlashAttentionParams& a, const CaptureArgs& base, int slots,
                                      DeviceBuffer& parts, cudaStream_t stream) {
  const int group = a.num_heads / a.num_kv_heads;
  const split_decode::CaptureUnits units =
      split_decode::capture_units(base.heads, slots, group, int(split_decode::kCtaRows / a.n));
  const split_decode::KeyTiles tiles = split_decode::call_key_tiles(a.first_position, a.n, a.sliding_window);

  SplitCaptureArgs args;
  args.base = base;
  for (int i = 0; i < slots; ++i) args.order[i] = uint16_t(units.order[std::size_t(i)]);
  for (int u = 0; u <= units.count(); ++u) args.unit_first[u] = uint16_t(units.first[std::size_t(u)]);
  args.rows = split_decode::cta_rows(a.n, units.most_per_kv_head);
  args.units = units.count();
  args.slots = slots;
  args.splits = split_decode::choose_splits(tiles.count, units.count(), current_device_sm_count());
  args.first_tile = int(tiles.first);
  args.tiles = int(tiles.count);
  args.parts = args.splits.count * args.rows.key_groups;
  args.partials = parts.reserve<float>(std::size_t(split_decode::capture_workspace_floats(slots, a.n, args.parts)));
  dispatch_head_dim(a.dtype, a.head_dim,
                    [&]<int D, typename T>() { launch_split_decode_capture<D, T>(args, stream); });
}

int64_t split_decode_capture_reserve_floats(int slots, int64_t rows) {
  if (rows < 1 || rows > split_decode::kMaxRows || slots < 1) return 0;
  return split_decode::capture_workspace_bound(std::min(slots, kMaxCapturedHeads), rows, current_device_sm_count());
}

}  // namespace detail
}  // namespace attnscope::kernels::cuda
