#pragma once
// A backend-owned 2-D tensor (rows x cols, row-major, with a row stride so that
// column slices of a fused projection are views, not copies).
#include <cstdint>
#include <memory>

#include "kernels/dtype.h"

namespace attnscope::kernels {

enum class Device { Host, Cuda };

// Memory owned by a backend; freed by the deleter the backend installed.
struct Buffer {
  void* data = nullptr;
  std::size_t bytes = 0;
  Device device = Device::Host;
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Buffer> buffer, DType dtype, int64_t rows, int64_t cols)
      : buffer_(std::move(buffer)), dtype_(dtype), rows_(rows), cols_(cols), row_stride_(cols) {}

  bool empty() const { return buffer_ == nullptr; }
  DType dtype() const { return dtype_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t row_stride() const { return row_stride_; }
  int64_t elements() const { return rows_ * cols_; }
  bool contiguous() const { return row_stride_ == cols_; }
  Device device() const { return buffer_ ? buffer_->device : Device::Host; }

  // Typed pointer to element (0, 0) of this view.
  template <typename T>
  T* data() const {
    return reinterpret_cast<T*>(static_cast<char*>(buffer_->data) + offset_ * int64_t(dtype_size(dtype_)));
  }

  // Rows [begin, begin + count) as a view.
  Tensor row_slice(int64_t begin, int64_t count) const {
    Tensor t = *this;
    t.offset_ += begin * row_stride_;
    t.rows_ = count;
    return t;
  }

  // Columns [begin, begin + count) as a view (same rows, same stride).
  Tensor column_slice(int64_t begin, int64_t count) const {
    Tensor t = *this;
    t.offset_ += begin;
    t.cols_ = count;
    return t;
  }

 private:
  std::shared_ptr<Buffer> buffer_;
  DType dtype_ = DType::F32;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
  int64_t row_stride_ = 0;
  int64_t offset_ = 0;  // in elements from buffer start
};

}  // namespace attnscope::kernels
