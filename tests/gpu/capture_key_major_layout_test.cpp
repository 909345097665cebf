// The key-major Hopper capture kernel's layouts replayed on the CPU with the index
// functions the kernel uses (hopper/capture_key_major_layout.h): the threads' elements,
// the stmatrix.trans stores into the skew buffer, the two products (as wgmma reads its
// K-major, 128-byte-swizzled operands), the planes the consumers store and the sums the
// readers form must give the direct column, pooled and diagonal sums of a random
// 128 x 128 tile (two halves of 64 keys). Runs without a GPU.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/cuda/hopper/capture_key_major_layout.h"

namespace km = attnscope::kernels::cuda::hopper::key_major;

namespace {

constexpr int kWarps = 4, kLanes = 32;
using Tile = std::vector<std::vector<double>>;  // [key][query]

Tile random_tile(uint32_t seed, int keys) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  Tile p(keys, std::vector<double>(km::kQueries));
  for (auto& row : p)
    for (double& x : row) x = dist(rng);
  return p;
}

// Element (h, j, e) of a thread in half `half` of the tile, as the accumulator holds it.
double element(const Tile& p, int warp, int lane, int h, int j, int e, int half = 0) {
  return p[km::kKeys * half + km::key_of(warp, lane, h)][km::query_of(lane, j, e)];
}

// The skew buffer as stmatrix.x4.trans writes one half of the tile: byte offset -> value
// (every 2 bytes).
std::map<int, double> skew_buffer(const Tile& p, int half = 0) {
  std::map<int, double> bytes;
  for (int warp = 0; warp < kWarps; ++warp)
    for (int s = 0; s < 8; ++s)
      for (int lane = 0; lane < kLanes; ++lane) {
        // Lane 8i + r addresses memory row r of matrix i; the row's element b is the
        // fragment element (row b, column r) of matrix i: thread 4b + r / 2, half r % 2 of
        // its register i = P16[h][j] with h = i & 1, j = 2s + (i >> 1).
        const int i = lane >> 3, r = lane & 7, h = i & 1, j = 2 * s + (i >> 1);
        REQUIRE(km::stmatrix_h(lane) == h);
        REQUIRE(km::stmatrix_j(lane, s) == j);
        const int address = km::stmatrix_address(warp, lane, s);
        for (int b = 0; b < 8; ++b) {
          const int owner = 4 * b + r / 2;
          const double v = element(p, warp, owner, h, j, r % 2, half);
          REQUIRE(bytes.count(address + 2 * b) == 0);  // one writer a byte pair
          bytes[address + 2 * b] = v;
          REQUIRE(address + 2 * b == km::skew_offset(km::key_of(warp, owner, h), km::query_of(owner, j, r % 2)));
        }
      }
  return bytes;
}

// wgmma's read of element (row, k) of a K-major operand in the 128-byte swizzle layout:
// 64 elements a row, row `row` at 128 row, chunk k / 8 at (k / 8) ^ (row % 8).
int swizzled_offset(int row, int k) { return row * 128 + 16 * ((k / 8) ^ (row % 8)) + 2 * (k % 8); }

}  // namespace

TEST_CASE("Key-major capture layout: the threads' elements cover the 64 x 128 tile once", "[capture][layout]") {
  std::set<std::pair<int, int>> seen;
  for (int warp = 0; warp < kWarps; ++warp)
    for (int lane = 0; lane < kLanes; ++lane)
      for (int h = 0; h < 2; ++h)
        for (int j = 0; j < 16; ++j)
          for (int e = 0; e < 2; ++e) seen.insert({km::key_of(warp, lane, h), km::query_of(lane, j, e)});
  CHECK(seen.size() == std::size_t(km::kKeys * km::kQueries));
}

TEST_CASE("Key-major capture layout: stmatrix fills the skew buffer where the products read it", "[capture][layout]") {
  const Tile p = random_tile(11, km::kKeys);
  const std::map<int, double> bytes = skew_buffer(p);
  CHECK(bytes.size() == std::size_t(km::kKeys * km::kQueries));
  // Chunks written and never written as the kernel assumes (it zeroes the others once).
  for (int c = 0; c < km::kSkewRows; ++c)
    for (int a = 0; a < 8; ++a) {
      INFO("row " << c << " chunk " << a);
      CHECK(bytes.count(km::skew_chunk_offset(c, a)) == (km::skew_chunk_written(c, a) ? 1u : 0u));
    }
  // Each matrix's 8 rows lie in 8 distinct 16-byte bank groups: no conflict in a phase.
  for (int warp = 0; warp < kWarps; ++warp)
    for (int s = 0; s < 8; ++s)
      for (int i = 0; i < 4; ++i) {
        std::set<int> groups;
        for (int r = 0; r < 8; ++r) groups.insert((km::stmatrix_address(warp, 8 * i + r, s) % 128) / 16);
        CHECK(groups.size() == 8u);
      }
}

TEST_CASE("Key-major capture layout: the products and the readers give the tile's sums", "[capture][layout]") {
  const Tile p = random_tile(12, km::kTileKeys);
  // B operands as the kernel writes them (entries 1 here; 2^-14 in the kernel).
  std::map<int, double> b_diag, b_pool;
  for (int n = 0; n < 8; ++n)
    for (int key = 0; key < km::kKeys; ++key) {
      const int at = km::b_diag_offset(n, key);
      REQUIRE(b_diag.count(at) == 0);
      REQUIRE(at == swizzled_offset(n, key));
      b_diag[at] = key % 8 == n ? 1.0 : 0.0;
    }
  const int first_pos = 1000, pool_block = 48, rows_valid = 120;  // 3 row blocks, the last rows invalid
  for (int n = 0; n < km::kPoolColumns; ++n)
    for (int q = 0; q < km::kQueries; ++q) {
      const int at = km::b_pool_offset(n, q);
      REQUIRE(b_pool.count(at) == 0);
      REQUIRE(at == (q / 64) * 2048 + swizzled_offset(n, q % 64));
      b_pool[at] = q < rows_valid && (first_pos + q) / pool_block - first_pos / pool_block == n ? 1.0 : 0.0;
    }

  // Per half: its skew buffer, its diagonal m-tiles D[c][n] = sum_k A[c][k] B_diag[n][k] added
  // into the tile's accumulators, and D_pool[k][n] = sum_q P[k][q] B_pool[n][q] from the A
  // fragments (a0 = P16[0][2ks], a1 = P16[1][2ks], a2 = P16[0][2ks + 1], a3 = P16[1][2ks + 1]:
  // rows g / g + 8, k 2t.. / 2t + 8..) into the pool plane's keys 64 half + key_of.
  std::map<std::tuple<int, int, int, int, int>, double> accumulators;  // (warp, lane, accumulator, h, e)
  std::vector<double> pool_plane(km::kPoolColumns * km::kPoolStride, 0.0);
  std::set<int> pool_written;
  for (int half = 0; half < km::kHalves; ++half) {
    const std::map<int, double> skew = skew_buffer(p, half);
    auto skew_at = [&](int offset) {
      const auto it = skew.find(offset);
      return it == skew.end() ? 0.0 : it->second;  // zeroed once
    };
    for (int warp = 0; warp < kWarps; ++warp)
      for (int lane = 0; lane < kLanes; ++lane) {
        for (int mt = 0; mt < km::kDiagTiles; ++mt)
          for (int h = 0; h < 2; ++h)
            for (int e = 0; e < 2; ++e) {
              const int c = 64 * mt + km::key_of(warp, lane, h), n = km::diag_n(lane, e);
              double d = 0.0;
              for (int k = 0; k < km::kKeys; ++k) d += skew_at(swizzled_offset(c, k)) * b_diag.at(swizzled_offset(n, k));
              const int a = km::diag_accumulator(mt, half);
              REQUIRE(a >= 0);
              REQUIRE(a < km::kDiagAccumulators);
              // The kernel's first product into an accumulator overwrites it.
              const bool first = half == 0 || a == 0;
              const auto at = std::make_tuple(warp, lane, a, h, e);
              REQUIRE(accumulators.count(at) == (first ? 0u : 1u));
              accumulators[at] += d;
            }
        for (int j = 0; j < 2; ++j)
          for (int h = 0; h < 2; ++h)
            for (int e = 0; e < 2; ++e) {
              const int n = km::pool_n(lane, j, e);
              double d = 0.0;
              for (int ks = 0; ks < 8; ++ks)
                for (int part = 0; part < 2; ++part)  // a0/a1 (k 2t..) and a2/a3 (k 2t + 8..)
                  for (int t = 0; t < 4; ++t)         // the quad's lanes hold k 2t, 2t + 1
                    for (int x = 0; x < 2; ++x) {
                      const int q = 16 * ks + 8 * part + 2 * t + x;
                      const int holder = 4 * (lane >> 2) + t;  // same row (g) of the warp
                      REQUIRE(km::query_of(holder, 2 * ks + part, x) == q);
                      d += element(p, warp, holder, h, 2 * ks + part, x, half) *
                           b_pool.at((q / 64) * 2048 + swizzled_offset(n, q % 64));
                    }
              const int at = km::pool_plane_index(n, km::kKeys * half + km::key_of(warp, lane, h));
              REQUIRE(pool_written.insert(at).second);
              pool_plane[at] = d;
            }
      }
  }
  // Both halves wrote every accumulator the kernel stores.
  CHECK(accumulators.size() == std::size_t(kWarps * kLanes * km::kDiagAccumulators * 4));

  // The consumer's stores into the diagonal plane; the distance reader sums row r = distance + 127.
  std::vector<double> diag_plane(8 * km::kDiagPitch, 0.0);
  std::set<int> diag_written;
  for (const auto& [where, d] : accumulators) {
    const auto [warp, lane, a, h, e] = where;
    const int at = km::diag_plane_index(km::diag_c(warp, lane, a, h), km::diag_n(lane, e));
    REQUIRE(at >= 0);
    REQUIRE(at < 8 * km::kDiagPitch);
    REQUIRE(at % km::kDiagPitch < km::kDiagRows);
    REQUIRE(diag_written.insert(at).second);
    diag_plane[at] = d;
  }
  for (int r = 0; r < km::kDiagRows; ++r) {
    const int distance = r - km::kDiagOffset;
    double want = 0.0;
    for (int k = 0; k < km::kTileKeys; ++k)
      if (k + distance >= 0 && k + distance < km::kQueries) want += p[k][k + distance];
    double got = 0.0;
    for (int n = 0; n < 8; ++n) got += diag_plane[km::diag_plane_entry(r, n)];
    INFO("distance " << distance);
    if (r >= km::kTileDistances) {
      CHECK(got == 0.0);  // rows the reader skips hold nothing
    } else {
      CHECK(std::fabs(got - want) <= 1e-12 * (1.0 + want));
    }
  }

  // The column reader: lane L takes keys 4L .. 4L + 3 of every row block's plane row.
  const int blocks = (first_pos + rows_valid - 1) / pool_block - first_pos / pool_block + 1;
  for (int key = 0; key < km::kTileKeys; ++key) {
    double column = 0.0, want = 0.0;
    for (int n = 0; n < blocks; ++n) column += pool_plane[km::pool_plane_index(n, key)];
    for (int q = 0; q < rows_valid; ++q) want += p[key][q];
    INFO("key " << key);
    CHECK(std::fabs(column - want) <= 1e-12 * want);
    for (int n = 0; n < blocks; ++n) {
      double block = 0.0;
      for (int q = 0; q < rows_valid; ++q)
        if ((first_pos + q) / pool_block - first_pos / pool_block == n) block += p[key][q];
      CHECK(std::fabs(pool_plane[km::pool_plane_index(n, key)] - block) <= 1e-12 * (1.0 + block));
    }
  }
  // Its 16-byte loads: every row of the plane starts 16-byte aligned.
  CHECK((4 * km::kPoolStride) % 16 == 0);
}

TEST_CASE("Key-major capture layout: the planes' stores and the readers' loads are conflict-free", "[capture][layout]") {
  // One store instruction of the consumers: fixed (accumulator or j, h, e), the warp's 32 lanes.
  for (int warp = 0; warp < kWarps; ++warp)
    for (int h = 0; h < 2; ++h)
      for (int e = 0; e < 2; ++e) {
        for (int a = 0; a < km::kDiagAccumulators; ++a) {
          std::set<int> banks;
          for (int lane = 0; lane < kLanes; ++lane)
            banks.insert(km::diag_plane_index(km::diag_c(warp, lane, a, h), km::diag_n(lane, e)) % 32);
          CHECK(banks.size() == std::size_t(kLanes));
        }
        for (int j = 0; j < 2; ++j) {
          std::set<int> banks;
          for (int lane = 0; lane < kLanes; ++lane)
            banks.insert(km::pool_plane_index(km::pool_n(lane, j, e), km::key_of(warp, lane, h)) % 32);
          CHECK(banks.size() == std::size_t(kLanes));
        }
      }
  // The distance reader: lane L loads entry (r0 + L, n) for each n.
  for (int r0 = 0; r0 + kLanes <= km::kDiagRows; r0 += 7)
    for (int n = 0; n < 8; ++n) {
      std::set<int> banks;
      for (int lane = 0; lane < kLanes; ++lane) banks.insert(km::diag_plane_entry(r0 + lane, n) % 32);
      CHECK(banks.size() == std::size_t(kLanes));
    }
}
