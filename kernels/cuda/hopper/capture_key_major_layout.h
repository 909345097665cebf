#pragma once
// Index arithmetic of the key-major Hopper capture kernel (capture_key_major_kernel.cuh),
// as constexpr functions so that a CPU test (tests/gpu/capture_key_major_layout_test.cpp)
// replays them element by element against the definitions.
//
// A consumer warpgroup computes S^T = K Q^T for a tile of 64 keys x 128 queries. Thread
// (warp w, lane = 4g + t) holds element (key 16w + 8h + g, query 8j + 2t + e) in
// accumulator register 4j + 2h + e (j < 16, h, e in {0, 1}); packed to fp16 pairs, P16[h][j]
// holds (e = 0, e = 1). The sums come from two small tensor-core products:
//   Columns and pooled map: D_pool = P^T(64 x 128) B_pool(128 x 16), A from registers,
//     B_pool[q][n] = 1 when query q lies in the CTA's n-th row block of the pooled map.
//     Column sum of key k = sum over n of D_pool[k][n]; pooled[row block n][key block] =
//     sum over the block's keys.
//   Diagonals: the warps store P transposed and skewed into a 192-row buffer, K-major for
//     a wgmma A operand: element (key 8a + b, query q) at row c = q - 8a + 56 (a 16-byte
//     chunk a of the row holds keys 8a..8a+7, 128-byte swizzle: chunk a at a ^ (c % 8)),
//     so that D_diag = A(192 x 64) B_diag(64 x 8) with B_diag[k][n] = (k % 8 == n) gives
//     D_diag[c][n] = sum over a of P(8a + n, c + 8a - 56), all on distance q - k =
//     c - 56 - n. The reader sums the 8 entries of each distance.
// A skew shift by whole 8-key chunks keeps every row 16-byte aligned (stmatrix writes 8
// fp16 a row); the remaining shift by b is what the n columns of D_diag undo.
#if defined(__CUDACC__)
#define ATTNSCOPE_KEY_MAJOR_HD __host__ __device__
#else
#define ATTNSCOPE_KEY_MAJOR_HD
#endif

namespace attnscope::kernels::cuda::hopper::key_major {

constexpr int kKeys = 64;       // keys per tile (one m64 product)
constexpr int kQueries = 128;   // queries per CTA (the product's n)
constexpr int kSkewRows = 192;  // c in [0, 184) used, three m64 tiles of the diagonal product
constexpr int kSkewShift = 56;  // c = q - 8a + 56 >= 0 for a <= 7
constexpr int kPoolColumns = 16;  // row blocks a CTA's 128 queries may span (pool_block >= 16: at most 9)
constexpr int kPoolStride = 68;   // floats a row n of the pool plane (68: conflict-free stores)
constexpr int kDiagRows = 200;    // plane rows r = c - n + 7 (distance c - 56 - n = r - 63)
constexpr int kDiagOffset = 63;   // r = distance + 63 for distances -63 .. 127
constexpr int kTileDistances = 191;
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

// Accumulators: D_pool (m64n16) register 4j + 2h + e = (key_of(h), n = 8j + 2t + e);
// D_diag of m-tile mt (m64n8) register 2h + e = (c = 64 mt + key_of(h), n = 2t + e).
ATTNSCOPE_KEY_MAJOR_HD constexpr int pool_n(int lane, int j, int e) { return 8 * j + 2 * (lane & 3) + e; }
ATTNSCOPE_KEY_MAJOR_HD constexpr int diag_c(int warp, int lane, int mt, int h) { return 64 * mt + key_of(warp, lane, h); }
ATTNSCOPE_KEY_MAJOR_HD constexpr int diag_n(int lane, int e) { return 2 * (lane & 3) + e; }
// Planes the reader takes: pool plane [n][kPoolStride] floats; diagonal plane [kDiagRows][8]
// floats, entry (r = c - n + 7, n).
ATTNSCOPE_KEY_MAJOR_HD constexpr int pool_plane_index(int n, int key) { return n * kPoolStride + key; }
ATTNSCOPE_KEY_MAJOR_HD constexpr int diag_plane_index(int c, int n) { return 8 * (c - n + 7) + n; }

}  // namespace attnscope::kernels::cuda::hopper::key_major

#undef ATTNSCOPE_KEY_MAJOR_HD
