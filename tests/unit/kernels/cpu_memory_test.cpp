// CPU backend data movement: upload (dtype conversion, transposition, stacking,
// unaligned sources), allocate, download of views, embedding, copy_rows, and the
// errors each one raises.
#include <catch2/catch.hpp>

#include <cstring>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"
#include "tests/unit/kernels/kernel_test_support.h"

using namespace attnscope::testing;
namespace k = attnscope::kernels;
using Catch::Contains;

namespace {

// Stored bytes of `values` in `type` (2-byte types rounded as the converters do),
// preceded by `offset` padding bytes so the data can be misaligned on purpose.
std::vector<unsigned char> encode(const std::vector<float>& values, DType type, std::size_t offset) {
  std::vector<unsigned char> bytes(offset + values.size() * k::dtype_size(type));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (type == DType::F32) {
      std::memcpy(bytes.data() + offset + 4 * i, &values[i], 4);
    } else {
      const uint16_t h = type == DType::BF16 ? k::f32_to_bf16(values[i]) : k::f32_to_f16(values[i]);
      std::memcpy(bytes.data() + offset + 2 * i, &h, 2);
    }
  }
  return bytes;
}

float decoded(float v, DType type) {
  if (type == DType::BF16) return k::bf16_to_f32(k::f32_to_bf16(v));
  if (type == DType::F16) return k::f16_to_f32(k::f32_to_f16(v));
  return v;
}

}  // namespace

TEST_CASE("upload converts each dtype exactly, from unaligned data", "[cpu][memory]") {
  auto backend = k::make_cpu_backend();
  for (DType type : {DType::F32, DType::F16, DType::BF16}) {
    // 300 x 250 is above the size where the conversion runs in parallel chunks.
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{3, 5}, {300, 250}}) {
      const std::vector<float> values = random_values(std::size_t(rows * cols), 21);
      const std::vector<unsigned char> bytes = encode(values, type, 1);
      const HostTensorView view{type, rows, cols, bytes.data() + 1, false};
      const Tensor t = backend->upload(std::span<const HostTensorView>(&view, 1));
      REQUIRE(t.rows() == rows);
      REQUIRE(t.cols() == cols);
      REQUIRE(t.dtype() == DType::F32);
      const std::vector<float> got = backend->download(t);
      for (std::size_t i = 0; i < values.size(); ++i) REQUIRE(got[i] == decoded(values[i], type));  // exact
    }
  }
}

TEST_CASE("upload transposes Conv1D-style blocks and stacks blocks vertically", "[cpu][memory]") {
  auto backend = k::make_cpu_backend();
  // Block 0: [4, 70] plain BF16. Block 1: stored [70, 45] (in, out) F16, transposed to
  // [45, 70]. Block 2: stored [70, 333] F32 transposed (large: parallel tiles, edges
  // not multiples of the tile).
  const std::vector<float> a = random_values(4 * 70, 1), b = random_values(70 * 45, 2), c = random_values(70 * 333, 3);
  const auto ab = encode(a, DType::BF16, 0), bb = encode(b, DType::F16, 3), cb = encode(c, DType::F32, 2);
  const std::vector<HostTensorView> blocks{{DType::BF16, 4, 70, ab.data(), false},
                                           {DType::F16, 70, 45, bb.data() + 3, true},
                                           {DType::F32, 70, 333, cb.data() + 2, true}};
  const Tensor t = backend->upload(blocks);
  REQUIRE(t.rows() == 4 + 45 + 333);
  REQUIRE(t.cols() == 70);
  const Matrix m = to_matrix(*backend, t);
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t col = 0; col < 70; ++col) REQUIRE(m.at(r, col) == decoded(a[std::size_t(r * 70 + col)], DType::BF16));
  for (int64_t o = 0; o < 45; ++o)
    for (int64_t i = 0; i < 70; ++i)
      REQUIRE(m.at(4 + o, i) == decoded(b[std::size_t(i * 45 + o)], DType::F16));
  for (int64_t o = 0; o < 333; ++o)
    for (int64_t i = 0; i < 70; ++i) REQUIRE(m.at(49 + o, i) == c[std::size_t(i * 333 + o)]);
}

TEST_CASE("upload refuses bad block lists", "[cpu][memory]") {
  auto backend = k::make_cpu_backend();
  const std::vector<float> data(64, 1.0f);
  CHECK_THROWS_WITH(backend->upload({}), Contains("upload") && Contains("no weight blocks"));
  const std::vector<HostTensorView> mismatched{{DType::F32, 2, 8, data.data(), false},
                                               {DType::F32, 2, 7, data.data(), false}};
  CHECK_THROWS_AS(backend->upload(mismatched), attnscope::Error);
  CHECK_THROWS_WITH(backend->upload(mismatched), Contains("block 1 [2, 7]") && Contains("8 columns"));
  // Transposed [8, 2] is logically [2, 8]: stacking it under a [2, 8] block is fine...
  const std::vector<HostTensorView> transposed{{DType::F32, 2, 8, data.data(), false},
                                               {DType::F32, 8, 2, data.data(), true}};
  CHECK(backend->upload(transposed).rows() == 4);
  // ...but not untransposed.
  const std::vector<HostTensorView> wrong{{DType::F32, 2, 8, data.data(), false},
                                          {DType::F32, 8, 2, data.data(), false}};
  CHECK_THROWS_AS(backend->upload(wrong), attnscope::Error);
  const std::vector<HostTensorView> missing{{DType::F32, 2, 8, nullptr, false}};
  CHECK_THROWS_WITH(backend->upload(missing), Contains("no data"));
}

TEST_CASE("allocate gives zeros; download copies views row by row", "[cpu][memory]") {
  auto backend = k::make_cpu_backend();
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{0, 5}, {1, 1}, {513, 700}}) {
    const Tensor t = backend->allocate(rows, cols);
    REQUIRE(t.rows() == rows);
    REQUIRE(t.cols() == cols);
    const std::vector<float> host = backend->download(t);
    REQUIRE(host.size() == std::size_t(rows * cols));
    for (float x : host) REQUIRE(x == 0.0f);
  }
  const std::vector<float> values = random_values(6 * 10, 5);
  const Tensor t = make_tensor(*backend, 6, 10, values);
  const Tensor view = t.row_slice(1, 3).column_slice(4, 5);
  const std::vector<float> got = backend->download(view);
  REQUIRE(got.size() == 15);
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t c = 0; c < 5; ++c) REQUIRE(got[std::size_t(r * 5 + c)] == values[std::size_t((r + 1) * 10 + c + 4)]);
  CHECK_THROWS_AS(backend->allocate(-1, 3), attnscope::Error);
  CHECK_THROWS_AS(backend->download(Tensor()), attnscope::Error);
}

TEST_CASE("embedding gathers rows and rejects ids outside the table", "[cpu][memory]") {
  auto backend = k::make_cpu_backend();
  const std::vector<float> table_values = random_values(50 * 16, 6);
  const Tensor table = make_tensor(*backend, 50, 16, table_values);
  const std::vector<int32_t> ids{0, 49, 7, 7, 3};
  // Output as a column view of a wider tensor: the row stride must be honoured.
  Tensor wide = backend->allocate(5, 20);
  Tensor out = wide.column_slice(2, 16);
  backend->embedding(table, ids, out);
  const Matrix m = to_matrix(*backend, wide);
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t c = 0; c < 16; ++c) REQUIRE(m.at(i, c + 2) == table_values[std::size_t(ids[std::size_t(i)] * 16 + c)]);
    REQUIRE(m.at(i, 0) == 0.0);
    REQUIRE(m.at(i, 18) == 0.0);
  }
  const std::vector<int32_t> bad{1, 50};
  Tensor out2 = backend->allocate(2, 16);
  CHECK_THROWS_WITH(backend->embedding(table, bad, out2), Contains("embedding") && Contains("id 50"));
  const std::vector<int32_t> negative{-1};
  Tensor out1 = backend->allocate(1, 16);
  CHECK_THROWS_AS(backend->embedding(table, negative, out1), attnscope::Error);
  CHECK_THROWS_WITH(backend->embedding(table, ids, out2), Contains("embedding") && Contains("[2, 16]"));
}

TEST_CASE("copy_rows writes a strided view into cache rows", "[cpu][memory]") {
  auto backend = k::make_cpu_backend();
  const std::vector<float> values = random_values(4 * 12, 7);
  const Tensor fused = make_tensor(*backend, 4, 12, values);
  const Tensor k_view = fused.column_slice(4, 4);
  Tensor cache = backend->allocate(10, 4);
  backend->copy_rows(k_view, cache, 5);
  const Matrix m = to_matrix(*backend, cache);
  for (int64_t r = 0; r < 10; ++r)
    for (int64_t c = 0; c < 4; ++c)
      REQUIRE(m.at(r, c) == (r >= 5 && r < 9 ? values[std::size_t((r - 5) * 12 + 4 + c)] : 0.0f));
  CHECK_THROWS_WITH(backend->copy_rows(k_view, cache, 7), Contains("copy_rows") && Contains("at row 7"));
  CHECK_THROWS_AS(backend->copy_rows(k_view, cache, -1), attnscope::Error);
  Tensor narrow = backend->allocate(10, 3);
  CHECK_THROWS_AS(backend->copy_rows(k_view, narrow, 0), attnscope::Error);
}
