#pragma once
// Index arithmetic of the key-major Hopper capture kernel (capture_key_major_kernel.cuh),
// as constexpr functions so that a CPU test (tests/gpu/capture_key_major_layout_test.cpp)
// replays them element by element against the definitions.
//
// A consumer warpgroup takes a tile of 128 keys x 128 queries as two halves of 64 keys,
// each computed as S^T = K Q^T (one m64n128 product). Thread (warp w, lane = 4g + t) holds
// element (key 64 half + 16w + 8h + g, query 8j + 2t + e) of a half in accumulator register
// 4j + 2h + e (j < 16, h, e in {0, 1}); packed to fp16 pairs, P16[h][j] holds (e = 0, e = 1).
// The sums come from two small tensor-core products a half:
//   Columns and pooled map: D_pool = P^T(64 x 128) B_pool(128 x 16), A from registers,
//     B_pool[q][n] = 1 when query q lies in the CTA's n-th row block of the pooled map.
//     Column sum of key k = sum over n of D_pool[k][n]; pooled[row block n][key block] =
//     sum over the block's keys.
//   Diagonals: the warps store the half's P transposed and skewed into a 192-row buffer,
//     K-major for a wgmma A operand: element (key 8a + b, query q) at row c = q - 8a + 56 (a
//     16-byte chunk a of the row holds keys 8a..8a+7, 128-byte swizzle: chunk a at a ^ (c % 8)),
//     so that A(192 x 64) B_diag(64 x 8) with B_diag[k][n] = (k % 8 == n) gives, in row c and
//     column n, the sum over a of P(8a + n, c + 8a - 56), all on distance q - k = c - 56 - n
//     within the half. The upper half's keys are 64 further from every query, so its m-tile
//     mt lands on the distances of the lower half's m-tile mt - 1: both halves accumulate
//     into 4 m-tiles D[C][n] of the tile (C = 64 accumulator + row), distance C - 120 - n
//     (diag_accumulator). The reader sums the 8 entries of each distance.
// A skew shift by whole 8-key chunks keeps every row 16-byte aligned (stmatrix writes 8
// fp16 a row); the remaining shift by b is what the n columns of D undo.
#if defined(__CUDACC__)
#define ATTNSCOPE_KEY_MAJOR_HD __host__ __device__
#else
#define ATTNSCOPE_KEY_MAJOR_HD
#endif

namespace attnscope::kernels::cuda::hopper::key_major {

constexpr int kKeys = 64;        // keys a half (one m64 product)
constexpr int kHalves = 2;
constexpr int kTileKeys = kKeys * kHalves;  // keys a consumer tile
constexpr int kQueries = 128;    // queries per CTA (the product's n)
constexpr int kSkewRows = 192;   // c in [0, 184) used, three m64 tiles of a half's diagonal product
constexpr int kSkewShift = 56;   // c = q - 8a + 56 >= 0 for a <= 7
constexpr int kDiagTiles = 3;    // m-tiles of a half's diagonal product
constexpr int kDiagAccumulators = 4;  // m-tiles of the tile's diagonal sums
constexpr int kPoolColumns = 16;  // row blocks a CTA's 128 queries may span (pool_block >= 16: at most 9)
constexpr int kPoolStride = 132;  // floats a row n of the pool plane (132: conflict-free stores, 16-byte rows)
constexpr int kDiagRows = 263;    // plane rows r = C - n + 7 (distance C - 120 - n = r - 127)
constexpr int kDiagPitch = 277;   // floats a column n of the diagonal plane (277 = 5 mod 16: conflict-free stores)
constexpr int kDiagOffset = 127;  // r = distance + 127 for distances -127 .. 127
constexpr int kTileDistances = 255;
constexpr int kFp16Scale = 14;  // p is rounded to fp16 as p * 2^14 (values down to 2^-28 keep 11 bits)

ATTNSCOPE_KEY_MAJOR_HD constexpr int key_of(int warp, int lane, int h) { return 16 * warp + 8 * h + (lane >> 2); }
ATTNSCOPE_KEY_MAJOR_HD constexpr int query_of(int lane, int j, int e) { return 8 * j + 2 * (lane & 3) + e; }

// Skew buffer: byte offset of the 16-byte chunk that holds keys 8a..8a+7 of row c.
ATTNSCOPE_KEY_MAJOR_HD constexpr int skew_row(int query, int a) { return query - 8 * a + kSkewShift; }
ATTNSCOPE_KEY_MAJOR_HD constexpr int skew_chunk_offset(int c, int a) { return c * 128 + 16 * (a ^ (c & 7)); }
// Byte offset of element (key, query) in the skew buffer.
ATTNSCOPE_KEY_MAJOR_HD constexpr int skew_offset(int key, int query) {
  return skew_chunk_offset(skew_row(query, key >> 3), key >> 3) + 2 * (key & 7);
}
// stmatrix.x4.trans number s (0..7) of a thread stores P16[h][j] for the four matrices
// i = 0..3: h = i & 1, j = 2s + (i >> 1); lane 8i + r gives the address of matrix i's
// memory row r (query 8j + r, the 8 keys 8a..8a+7 with a = 2 warp + h).
ATTNSCOPE_KEY_MAJOR_HD constexpr int stmatrix_h(int lane) { return (lane >> 3) & 1; }
ATTNSCOPE_KEY_MAJOR_HD constexpr int stmatrix_j(int lane, int s) { return 2 * s + (lane >> 4); }
ATTNSCOPE_KEY_MAJOR_HD constexpr int stmatrix_address(int warp, int lane, int s) {
  const int a = 2 * warp + stmatrix_h(lane), r = lane & 7;
  return skew_chunk_offset(skew_row(8 * stmatrix_j(lane, s) + r, a), a);
}
// The chunks of the skew buffer no tile writes (zero for the kernel's lifetime): row c,
// chunk a is written when c / 8 = j - a + 7 for some j < 16.
ATTNSCOPE_KEY_MAJOR_HD constexpr bool skew_chunk_written(int c, int a) {
  return c / 8 >= 7 - a && c / 8 <= 22 - a;
}

// B operands (K-major, 128-byte swizzle: row n of 128 bytes per 64 reduction elements).
// B_diag: 8 rows n, 64 keys; element (n, key) is 1 when key % 8 == n.
ATTNSCOPE_KEY_MAJOR_HD constexpr int b_diag_offset(int n, int key) { return n * 128 + 16 * ((key >> 3) ^ n) + 2 * (key & 7); }
// B_pool: 16 rows n, 128 queries in two 64-query blocks of 2048 bytes.
ATTNSCOPE_KEY_MAJOR_HD constexpr int b_pool_offset(int n, int query) {
  const int q = query & 63;
  return (query >> 6) * 2048 + n * 128 + 16 * ((q >> 3) ^ (n & 7)) + 2 * (q & 7);
}

// Accumulators: D_pool of a half (m64n16) register 4j + 2h + e = (key_of(h), n = 8j + 2t + e);
// the diagonal product of m-tile mt of half `half` adds into accumulator diag_accumulator
// (m64n8), whose register 2h + e is (C = diag_c(accumulator, h), n = 2t + e).
ATTNSCOPE_KEY_MAJOR_HD constexpr int pool_n(int lane, int j, int e) { return 8 * j + 2 * (lane & 3) + e; }
ATTNSCOPE_KEY_MAJOR_HD constexpr int diag_accumulator(int mt, int half) { return mt + 1 - half; }
ATTNSCOPE_KEY_MAJOR_HD constexpr int diag_c(int warp, int lane, int accumulator, int h) {
  return 64 * accumulator + key_of(warp, lane, h);
}
ATTNSCOPE_KEY_MAJOR_HD constexpr int diag_n(int lane, int e) { return 2 * (lane & 3) + e; }
// Planes the readers take: pool plane [n][kPoolStride] floats over the tile's 128 keys;
// diagonal plane [8][kDiagPitch] floats, entry (r = C - n + 7, n) at n kDiagPitch + r (the
// distance reader's lanes take consecutive r: conflict-free loads).
ATTNSCOPE_KEY_MAJOR_HD constexpr int pool_plane_index(int n, int tile_key) { return n * kPoolStride + tile_key; }
ATTNSCOPE_KEY_MAJOR_HD constexpr int diag_plane_entry(int r, int n) { return n * kDiagPitch + r; }
ATTNSCOPE_KEY_MAJOR_HD constexpr int diag_plane_index(int c, int n) { return diag_plane_entry(c - n + 7, n); }

}  // namespace attnscope::kernels::cuda::hopper::key_major

#undef ATTNSCOPE_KEY_MAJOR_HD
