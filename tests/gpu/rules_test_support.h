#pragma once
// Helpers of the backend tests under per-head rules (attention_rules_test.cpp,
// selected_rules_test.cpp): one attention problem prefilled chunk by chunk on a backend,
// the environment's kernel choice set for a scope, and one head's columns.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "kernels/attention_rules.h"
#include "tests/gpu/cuda_test_support.h"

namespace attnscope::testing::cuda_backend {

// Sets ATTNSCOPE_FLASH_KERNEL for its lifetime (read on every call), then restores it.
class FlashKernelEnvironment {
 public:
  explicit FlashKernelEnvironment(const char* value) {
    if (const char* old = std::getenv("ATTNSCOPE_FLASH_KERNEL")) old_ = old;
    if (value != nullptr)
      setenv("ATTNSCOPE_FLASH_KERNEL", value, 1);
    else
      unsetenv("ATTNSCOPE_FLASH_KERNEL");
  }
  ~FlashKernelEnvironment() {
    if (old_)
      setenv("ATTNSCOPE_FLASH_KERNEL", old_->c_str(), 1);
    else
      unsetenv("ATTNSCOPE_FLASH_KERNEL");
  }
  FlashKernelEnvironment(const FlashKernelEnvironment&) = delete;
  FlashKernelEnvironment& operator=(const FlashKernelEnvironment&) = delete;

 private:
  std::optional<std::string> old_;
};

struct RulesShape {
  int heads, kv_heads, dim;
  int64_t model_window;
};

// Prefills `qkv` ([total, (H + 2 Hkv) D], already rounded) chunk by chunk under `rules`;
// on the GPU out is a NaN-padded view, so every element must be written and nothing
// around it. Returns out [total, H D].
inline std::vector<float> run_attention(Backend& backend, const std::vector<float>& qkv, int64_t total,
                                        const RulesShape& c, const kernels::AttentionRules& rules,
                                        const std::vector<int64_t>& chunks, bool on_gpu) {
  const int64_t qw = int64_t(c.heads) * c.dim, kvw = int64_t(c.kv_heads) * c.dim;
  Tensor fused = upload_f32(backend, total, qw + 2 * kvw, qkv);
  Tensor k_cache = backend.allocate(total + 5, kvw), v_cache = backend.allocate(total + 5, kvw);
  std::vector<float> all(std::size_t(total * qw), 0.0f);
  int64_t first = 0;
  for (int64_t n : chunks) {
    const Tensor rows = fused.row_slice(first, n);
    backend.copy_rows(rows.column_slice(qw, kvw), k_cache, first);
    backend.copy_rows(rows.column_slice(qw + kvw, kvw), v_cache, first);
    const kernels::AttentionShape shape{c.heads, c.kv_heads, c.dim, first, c.model_window,
                                        float(1.0 / std::sqrt(double(c.dim)))};
    std::vector<float> out;
    if (on_gpu) {
      PaddedView o = padded_view(backend, n, qw, 8, 8);
      backend.attention(rows.column_slice(0, qw), k_cache, v_cache, shape, o.view, nullptr, &rules);
      out = written_view(backend, o);
    } else {
      Tensor o = backend.allocate(n, qw);
      backend.attention(rows.column_slice(0, qw), k_cache, v_cache, shape, o, nullptr, &rules);
      out = backend.download(o);
    }
    std::copy(out.begin(), out.end(), all.begin() + first * qw);
    first += n;
  }
  return all;
}

// One head's columns of [rows, heads * dim].
inline std::vector<float> head_columns(const std::vector<float>& all, int heads, int dim, int head) {
  std::vector<float> out;
  const std::size_t width = std::size_t(heads) * std::size_t(dim);
  for (std::size_t r = 0; r < all.size() / width; ++r)
    out.insert(out.end(), all.begin() + std::ptrdiff_t(r * width + std::size_t(head * dim)),
               all.begin() + std::ptrdiff_t(r * width + std::size_t((head + 1) * dim)));
  return out;
}

}  // namespace attnscope::testing::cuda_backend
