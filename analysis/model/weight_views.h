#pragma once
// Small helpers the architecture adapters share to fill ModelWeights.
#include <initializer_list>

#include "analysis/model/model_weights.h"

namespace attnscope::model {

// One view as a role's only block.
WeightBlocks single(const kernels::HostTensorView& view);
// Matrices stacked by the backend (q, k, v; gate, up): all must share their column count.
WeightBlocks stacked(std::initializer_list<kernels::HostTensorView> views);
// A stored [in, out] matrix (GPT-2's Conv1D) given as one transposed block.
WeightBlocks transposed(kernels::HostTensorView view);
// Vectors joined end to end into one [1, sum n] float32 vector (q|k|v biases, gate|up
// biases): the backend stacks blocks row-wise, which cannot join vectors of different
// lengths. The buffer is added to `keep_alive`.
WeightBlocks joined_vectors(std::initializer_list<kernels::HostTensorView> views,
                            std::vector<std::shared_ptr<const void>>& keep_alive);

}  // namespace attnscope::model
