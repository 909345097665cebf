// CUDA backend data movement: upload (types, alignment, transposed and stacked blocks,
// pieces through the staging buffers), zero-filled allocation, download of views,
// embedding, copy_rows, memory errors and queries. All of these are exact: the
// expected values are the inputs rounded to the compute type on the host.
#include <cstring>

#include "kernels/error.h"
#include "tests/gpu/cuda_test_support.h"

using namespace attnscope::testing::cuda_backend;
namespace k = attnscope::kernels;
using Catch::Contains;

namespace {

// values encoded as `type` at byte offset `misalign` of a buffer (checkpoint data
// need not be aligned); the view points into `storage`.
HostTensorView encoded_view(const std::vector<float>& values, int64_t rows, int64_t cols, DType type,
                            std::size_t misalign, std::vector<unsigned char>& storage, bool transposed = false) {
  const std::size_t size = k::dtype_size(type);
  storage.assign(values.size() * size + misalign, 0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    unsigned char* at = storage.data() + misalign + i * size;
    if (type == DType::F32) {
      std::memcpy(at, &values[i], 4);
    } else {
      const uint16_t bits = type == DType::BF16 ? k::f32_to_bf16(values[i]) : k::f32_to_f16(values[i]);
      std::memcpy(at, &bits, 2);
    }
  }
  return HostTensorView{type, rows, cols, storage.data() + misalign, transposed};
}

// What the stored value is after decoding, rounded to the compute type.
float stored_then_rounded(float v, DType stored, DType compute) {
  const float decoded = stored == DType::F32 ? v : round_to(v, stored);
  return round_to(decoded, compute);
}

}  // namespace

TEST_CASE("cuda_device_available names the device problem or the backend names its device", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  CHECK_THAT(gpu->name(), Contains("cuda") && Contains("BF16"));
}

TEST_CASE("upload converts F32, F16 and BF16 views at any alignment exactly", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  uint32_t seed = 10;
  for (DType compute : {DType::BF16, DType::F16})
    for (std::size_t staging : {std::size_t(256), std::size_t(16) << 20}) {  // many pieces, one piece
      Backends b = make_backends(compute, staging);
      for (DType stored : {DType::F32, DType::F16, DType::BF16})
        for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {3, 37}, {65, 1000}})
          for (std::size_t misalign : {0, 1, 3}) {
            INFO(type_label(compute) << " from " << k::dtype_name(stored) << " [" << rows << ", " << cols
                                     << "] misaligned by " << misalign << ", staging " << staging);
            std::mt19937 rng(++seed);
            std::normal_distribution<float> dist(0.0f, 3.0f);
            std::vector<float> values(std::size_t(rows * cols));
            for (float& v : values) v = dist(rng);
            std::vector<unsigned char> storage;
            const HostTensorView view = encoded_view(values, rows, cols, stored, misalign, storage);
            const Tensor t = b.gpu->upload(std::span<const HostTensorView>(&view, 1));
            REQUIRE(t.rows() == rows);
            REQUIRE(t.cols() == cols);
            REQUIRE(t.dtype() == compute);
            REQUIRE(t.device() == k::Device::Cuda);
            const std::vector<float> got = b.gpu->download(t);
            int64_t wrong = 0;
            for (std::size_t i = 0; i < values.size(); ++i)
              wrong += got[i] == stored_then_rounded(values[i], stored, compute) ? 0 : 1;
            CHECK(wrong == 0);
          }
    }
}

TEST_CASE("upload transposes Conv1D blocks and stacks blocks vertically", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  for (DType compute : {DType::BF16, DType::F16})
    for (std::size_t staging : {std::size_t(64), std::size_t(16) << 10, std::size_t(16) << 20}) {
      INFO(type_label(compute) << ", staging " << staging);
      Backends b = make_backends(compute, staging);
      // [5, 40] F32 + transposed stored [40, 300] (logical [300, 40]) BF16 + [3, 40] F16.
      const std::vector<float> a = rounded_values(5 * 40, 1, DType::BF16, 2.0f);
      const std::vector<float> t = rounded_values(40 * 300, 2, DType::BF16, 2.0f);
      const std::vector<float> c = rounded_values(3 * 40, 3, DType::F16, 2.0f);
      std::vector<unsigned char> sa, st, sc;
      const HostTensorView blocks[] = {encoded_view(a, 5, 40, DType::F32, 2, sa),
                                       encoded_view(t, 40, 300, DType::BF16, 1, st, true),
                                       encoded_view(c, 3, 40, DType::F16, 0, sc)};
      const Tensor gpu = b.gpu->upload(blocks);
      const Tensor cpu = b.cpu->upload(blocks);
      REQUIRE(gpu.rows() == 308);
      REQUIRE(gpu.cols() == 40);
      const std::vector<float> got = b.gpu->download(gpu), want = b.cpu->download(cpu);
      int64_t wrong = 0;
      for (std::size_t i = 0; i < want.size(); ++i) wrong += got[i] == round_to(want[i], compute) ? 0 : 1;
      CHECK(wrong == 0);
    }
}

TEST_CASE("upload refuses blocks that disagree in columns", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  const std::vector<float> v(12, 1.0f);
  const HostTensorView blocks[] = {{DType::F32, 3, 4, v.data(), false}, {DType::F32, 2, 3, v.data(), false}};
  CHECK_THROWS_WITH(gpu->upload(blocks), Contains("upload") && Contains("columns"));
}

TEST_CASE("allocate returns zero-filled tensors, also after the pool reuses memory", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  {
    // Dirty memory that goes back to the pool, so the next allocation may reuse it.
    const Tensor dirty = upload_f32(*gpu, 64, 64, rounded_values(64 * 64, 5, DType::BF16));
    (void)dirty;
  }
  const Tensor t = gpu->allocate(64, 64);
  const std::vector<float> got = gpu->download(t);
  int64_t nonzero = 0;
  for (float x : got) nonzero += x == 0.0f && !std::signbit(x) ? 0 : 1;
  CHECK(nonzero == 0);
  const Tensor empty = gpu->allocate(0, 16);
  CHECK(empty.rows() == 0);
  CHECK(gpu->download(empty).empty());
}

TEST_CASE("download copies a strided column view", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  const std::vector<float> v = rounded_values(7 * 30, 6, DType::BF16);
  const Tensor wide = upload_f32(*gpu, 7, 30, v);
  const std::vector<float> got = gpu->download(wide.column_slice(5, 11).row_slice(2, 4));
  REQUIRE(got.size() == 44);
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t c = 0; c < 11; ++c) REQUIRE(got[std::size_t(r * 11 + c)] == v[std::size_t((r + 2) * 30 + 5 + c)]);
}

TEST_CASE("embedding gathers table rows into every element of a view", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  for (DType compute : {DType::BF16, DType::F16}) {
    Backends b = make_backends(compute);
    for (int64_t cols : {64, 13})
      for (int64_t offset : {8, 3}) {  // 16-byte accesses, then single elements
        INFO(type_label(compute) << " cols " << cols << " offset " << offset);
        const std::vector<float> table_values =
            rounded_values(std::size_t(50 * cols), uint32_t(cols + offset), compute);
        const Tensor table = upload_f32(*b.gpu, 50, cols, table_values);
        std::vector<int32_t> ids = {0, 49, 7, 7, 3, 12, 0, 48, 25};
        for (int rep = 0; rep < 3; ++rep) {  // 9, 18, 36 ids: the pinned buffer is reused
          PaddedView out = padded_view(*b.gpu, int64_t(ids.size()), cols, offset, 5);
          b.gpu->embedding(table, ids, out.view);
          const std::vector<float> got = written_view(*b.gpu, out);
          for (std::size_t i = 0; i < ids.size(); ++i)
            for (int64_t c = 0; c < cols; ++c)
              REQUIRE(got[i * std::size_t(cols) + std::size_t(c)] == table_values[std::size_t(ids[i] * cols + c)]);
          const std::vector<int32_t> copy = ids;
          ids.insert(ids.end(), copy.begin(), copy.end());
        }
      }
    {  // more ids than the first pinned buffer holds (4096): it grows
      const std::vector<float> values = rounded_values(50 * 16, 77, compute);
      const Tensor table = upload_f32(*b.gpu, 50, 16, values);
      std::vector<int32_t> ids(5000);
      for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 7) % 50);
      Tensor out = b.gpu->allocate(5000, 16);
      b.gpu->embedding(table, ids, out);
      const std::vector<float> got = b.gpu->download(out);
      int64_t wrong = 0;
      for (std::size_t i = 0; i < ids.size(); ++i)
        for (std::size_t c = 0; c < 16; ++c) wrong += got[i * 16 + c] == values[std::size_t(ids[i]) * 16 + c] ? 0 : 1;
      CHECK(wrong == 0);
    }
    const Tensor table = b.gpu->allocate(10, 8);
    Tensor out = b.gpu->allocate(1, 8);
    const std::vector<int32_t> bad = {10};
    CHECK_THROWS_WITH(b.gpu->embedding(table, bad, out), Contains("embedding") && Contains("id 10"));
  }
}

TEST_CASE("copy_rows writes a column view into cache rows and nothing else", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  // k is columns [24, 40) of a fused [6, 56] q|k|v tensor, as in the transformer.
  const std::vector<float> qkv = rounded_values(6 * 56, 7, DType::BF16);
  const Tensor fused = upload_f32(*gpu, 6, 56, qkv);
  const Tensor key = fused.column_slice(24, 16);
  const std::vector<float> nan(20 * 16, kNaN);
  Tensor cache = upload_f32(*gpu, 20, 16, nan);
  gpu->copy_rows(key, cache, 9);
  const std::vector<float> got = gpu->download(cache);
  for (int64_t r = 0; r < 20; ++r)
    for (int64_t c = 0; c < 16; ++c) {
      const float x = got[std::size_t(r * 16 + c)];
      if (r >= 9 && r < 15)
        REQUIRE(x == qkv[std::size_t((r - 9) * 56 + 24 + c)]);
      else
        REQUIRE(std::isnan(x));
    }
  CHECK_THROWS_WITH(gpu->copy_rows(key, cache, 15), Contains("copy_rows") && Contains("does not fit"));
}

TEST_CASE("an allocation beyond the device's memory states bytes and free memory, and the backend goes on",
          "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  const int64_t huge = int64_t(1) << 20;  // [2^20, 2^20] bf16: 2 TiB
  CHECK_THROWS_WITH(gpu->allocate(huge, huge), Contains("allocate") && Contains("cannot allocate") &&
                                                   Contains("2199023255552 bytes") && Contains("free of"));
  const Tensor small = gpu->allocate(2, 2);
  CHECK(gpu->download(small) == std::vector<float>(4, 0.0f));
}

TEST_CASE("memory info counts freed tensors as cached for reuse", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  const k::CudaMemoryInfo before = k::cuda_memory_info(*gpu);
  CHECK(before.total > 0);
  CHECK(before.free <= before.total);
  {
    const Tensor t = gpu->allocate(8192, 4096);  // 64 MiB
    CHECK(k::cuda_memory_info(*gpu).backend_used >= (std::size_t(64) << 20));
  }
  gpu->download(gpu->allocate(1, 1));  // synchronise: the free has happened
  const k::CudaMemoryInfo after = k::cuda_memory_info(*gpu);
  CHECK(after.backend_cached >= (std::size_t(63) << 20));  // the 1-element tensor may reuse a little
  CHECK(k::free_device_memory(*gpu) == after.available());
  auto cpu = k::make_cpu_backend(1);
  CHECK_THROWS_WITH(k::free_device_memory(*cpu), Contains("not a CUDA backend"));
}

TEST_CASE("the memory peak counts a tensor already freed until reset_cuda_memory_peak", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  const std::size_t tensor_bytes = std::size_t(64) << 20;
  k::reset_cuda_memory_peak(*gpu);
  const std::size_t before = k::cuda_memory_info(*gpu).backend_used;
  {
    const Tensor t = gpu->allocate(8192, 4096);  // 64 MiB
    (void)t;
  }
  gpu->download(gpu->allocate(1, 1));  // synchronise: the free has happened
  const k::CudaMemoryInfo after = k::cuda_memory_info(*gpu);
  CHECK(after.backend_used < before + tensor_bytes);
  CHECK(after.backend_peak >= before + tensor_bytes);
  k::reset_cuda_memory_peak(*gpu);
  const k::CudaMemoryInfo reset = k::cuda_memory_info(*gpu);
  CHECK(reset.backend_peak < before + tensor_bytes);
  CHECK(reset.backend_peak >= reset.backend_used);
  auto cpu = k::make_cpu_backend(1);
  CHECK_THROWS_WITH(k::reset_cuda_memory_peak(*cpu), Contains("not a CUDA backend"));
}

TEST_CASE("ops refuse host tensors and tensors of the other compute type", "[gpu][memory]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  auto cpu = k::make_cpu_backend(1);
  Tensor host = cpu->allocate(2, 8);
  Tensor device = gpu->allocate(2, 8);
  CHECK_THROWS_WITH(gpu->add(host, device, device), Contains("add") && Contains("on the host"));
  k::CudaBackendOptions fp16;
  fp16.dtype = DType::F16;
  auto gpu16 = k::make_cuda_backend(fp16);
  Tensor half = gpu16->allocate(2, 8);
  CHECK_THROWS_WITH(gpu->add(half, device, device), Contains("add") && Contains("not a BF16 tensor"));
}
