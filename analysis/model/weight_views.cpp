#include "analysis/model/weight_views.h"

#include "kernels/guarded_read.h"

namespace attnscope::model {

WeightBlocks single(const kernels::HostTensorView& view) { return WeightBlocks{{view}}; }

WeightBlocks stacked(std::initializer_list<kernels::HostTensorView> views) { return WeightBlocks{views}; }

WeightBlocks transposed(kernels::HostTensorView view) {
  view.transposed = true;
  return single(view);
}

WeightBlocks joined_vectors(std::initializer_list<kernels::HostTensorView> views,
                            std::vector<std::shared_ptr<const void>>& keep_alive) {
  int64_t total = 0;
  for (const auto& v : views) total += v.rows * v.cols;
  auto buffer = std::make_shared<std::vector<float>>(std::size_t(total));
  float* out = buffer->data();
  for (const auto& v : views) {
    // The views point into the checkpoint's mapping: a file truncated under it faults.
    if (!kernels::guarded([&] { kernels::convert_to_f32(v.data, v.dtype, std::size_t(v.rows * v.cols), out); }))
      throw kernels::MappedReadFault("checkpoint weights", kernels::kMappedReadFaultProblem);
    out += v.rows * v.cols;
  }
  kernels::HostTensorView joined;
  joined.dtype = kernels::DType::F32;
  joined.rows = 1;
  joined.cols = total;
  joined.data = buffer->data();
  keep_alive.push_back(std::move(buffer));
  return single(joined);
}

}  // namespace attnscope::model
