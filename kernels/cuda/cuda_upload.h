#pragma once
// Weight upload: host views as they lie in the checkpoint (memory-mapped, any alignment,
// F32/F16/BF16, possibly transposed) into one device tensor of the compute type.
//
// The host only copies raw bytes, in pieces, into one of two pinned staging buffers
// (double-buffered: the host fills one while the other is in flight); the device
// converts (and transposes) after the copy. An 8B model's 16 GB then cost one memcpy
// on the host and the PCIe transfer, not a conversion loop.
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <span>

#include "kernels/backend.h"
#include "kernels/cuda/cuda_context.h"

namespace attnscope::kernels::cuda {

class WeightUploader {
 public:
  WeightUploader(std::shared_ptr<CudaContext> context, std::size_t staging_bytes);
  ~WeightUploader();
  WeightUploader(const WeightUploader&) = delete;
  WeightUploader& operator=(const WeightUploader&) = delete;

  Tensor upload(std::span<const HostTensorView> blocks);

 private:
  struct Slot {
    void* host = nullptr;    // pinned
    void* device = nullptr;  // raw bytes before conversion
    std::size_t bytes = 0;
    cudaEvent_t done = nullptr;  // recorded after the slot's last use on the stream
  };
  // The next slot, once its previous piece has left it, with room for `bytes`.
  Slot& acquire(std::size_t bytes);
  void free_slot(Slot& slot) noexcept;
  void upload_block(const HostTensorView& block, char* dst);

  std::shared_ptr<CudaContext> context_;
  std::size_t staging_bytes_;
  Slot slots_[2];
  int next_ = 0;
};

}  // namespace attnscope::kernels::cuda
