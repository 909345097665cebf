#pragma once
// The CPU side of the GPU capture tests: a Problem's rounded values as float tensors of
// the CPU backend (q a column view of a wider tensor, as on the device), and for each
// captured head an accumulator on each side with the AttentionCapture that points at
// them. The tests run the same calls on both sides, then compare head by head.
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/attention_capture.h"
#include "kernels/cpu/cpu_backend.h"
#include "tests/gpu/attention_test_support.h"
#include "tests/gpu/capture_comparison.h"
#include "tests/unit/kernels/kernel_test_support.h"

namespace attnscope::testing::gpu {

struct CaptureSides {
  std::unique_ptr<kernels::Backend> cpu = kernels::make_cpu_backend();
  kernels::Tensor q_cpu, k_cpu, v_cpu, out_cpu;
  std::vector<kernels::HeadAccumulator> cpu_acc, gpu_acc;
  kernels::AttentionCapture cpu_capture, gpu_capture;

  CaptureSides(const Problem& p, const std::vector<int>& captured, const kernels::CaptureOptions& options)
      : cpu_acc(captured.size()), gpu_acc(captured.size()) {
    const int64_t qw = int64_t(p.heads) * p.dim, kvw = int64_t(p.kv_heads) * p.dim;
    std::vector<float> fused(std::size_t(p.total * (qw + 8)), 0.0f);
    for (int64_t r = 0; r < p.total; ++r) std::copy_n(p.q.begin() + r * qw, qw, fused.begin() + r * (qw + 8));
    q_cpu = make_tensor(*cpu, p.total, qw + 8, fused).column_slice(0, qw);
    k_cpu = make_tensor(*cpu, p.total, kvw, p.k);
    v_cpu = make_tensor(*cpu, p.total, kvw, p.v);
    out_cpu = cpu->allocate(p.total, qw);

    cpu_capture = kernels::AttentionCapture{options,
                                            std::vector<kernels::HeadAccumulator*>(std::size_t(p.heads), nullptr)};
    gpu_capture = cpu_capture;
    for (std::size_t i = 0; i < captured.size(); ++i) {
      cpu_acc[i].head = gpu_acc[i].head = captured[i];
      cpu_capture.heads[std::size_t(captured[i])] = &cpu_acc[i];
      gpu_capture.heads[std::size_t(captured[i])] = &gpu_acc[i];
    }
  }
  CaptureSides(const CaptureSides&) = delete;  // the captures point into the accumulators
  CaptureSides& operator=(const CaptureSides&) = delete;

  // Every captured head's accumulators agree (capture_comparison.h's bounds).
  void compare_heads(const Problem& p) const {
    for (std::size_t i = 0; i < cpu_acc.size(); ++i) compare(p, gpu_acc[i], cpu_acc[i]);
  }
};

}  // namespace attnscope::testing::gpu
