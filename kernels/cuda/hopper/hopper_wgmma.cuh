#pragma once
// wgmma.mma_async wrappers of the sm_90a attention kernel (fp32 accumulators, bf16 or
// fp16 operands; T is __nv_bfloat16 or __half). One warpgroup (128 threads) issues each;
// the accumulator fragment d of an m64nN tile holds, in thread (warp w, lane = 4g + t),
//   d[4j + 2h + e] = element (row 16w + g + 8h, column 8j + 2t + e),  j < N/8, h, e in {0, 1}
// and a register A fragment (k16 step) is the mma.m16n8k16 A layout of the warp's 16 rows:
//   a0 = row g, k 2t..2t+1; a1 = row g+8, same k; a2 = row g, k 2t+8..; a3 = row g+8, k 2t+8..
// The caller fences (wgmma_fence), commits and waits (hopper_ptx.cuh); `accumulate` = 0
// overwrites d (the first k step of a product), 1 adds to it.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

// Operand lists of the 32 and 64 accumulator registers.
#define ATTNSCOPE_WGMMA_ACC32                                              \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
#define ATTNSCOPE_WGMMA_ACC64                                                        \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "           \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define ATTNSCOPE_WGMMA_OUT32                                                                                 \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), \
      "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]),  \
      "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), \
      "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
#define ATTNSCOPE_WGMMA_OUT64                                                                                 \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), \
      "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]),  \
      "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), \
      "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), \
      "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), \
      "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), \
      "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), \
      "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])

// d[64x128] (+)= A[64x16] B[16x128], A and B from shared memory, both K-major (S = Q K^T).
#define ATTNSCOPE_WGMMA_M64N128_SS(TYPE)                                                      \
  asm volatile(                                                                               \
      "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"                                            \
      "wgmma.mma_async.sync.aligned.m64n128k16.f32." TYPE "." TYPE " {" ATTNSCOPE_WGMMA_ACC64 \
      "}, %64, %65, p, 1, 1, 0, 0;\n}\n"                                                      \
      : ATTNSCOPE_WGMMA_OUT64                                                                 \
      : "l"(a), "l"(b), "r"(accumulate))

// d[64xN] (+)= A[64x16] B[16xN], A from registers, B MN-major in shared memory (O += P V).
#define ATTNSCOPE_WGMMA_RS(N, TYPE, ACC, OUT, A0, A1, A2, A3, DESC, ACCUMULATE)                                     \
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %" ACCUMULATE                                                      \
               ", 0;\n"                                                                                             \
               "wgmma.mma_async.sync.aligned.m64n" N "k16.f32." TYPE "." TYPE " {" ACC "}, {%" A0 ", %" A1 ", %" A2 \
               ", %" A3 "}, %" DESC ", p, 1, 1, 1;\n}\n"                                                            \
               : OUT                                                                                                \
               : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "l"(b), "r"(accumulate))

namespace attnscope::kernels::cuda::hopper {

template <typename T>
__device__ __forceinline__ void wgmma_m64n128k16_ss(float (&d)[64], uint64_t a, uint64_t b, int accumulate) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>)
    ATTNSCOPE_WGMMA_M64N128_SS("bf16");
  else
    ATTNSCOPE_WGMMA_M64N128_SS("f16");
}

// O += P V for one k16 step: N = head dim (64 or 128), B transposed (MN-major).
template <int N, typename T>
__device__ __forceinline__ void wgmma_m64k16_rs(float (&d)[N / 2], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                                uint64_t b, int accumulate) {
  static_assert(N == 64 || N == 128, "PV wgmma is instantiated for N = 64 and 128");
  constexpr bool kBf16 = std::is_same_v<T, __nv_bfloat16>;
  if constexpr (N == 128) {
    if constexpr (kBf16)
      ATTNSCOPE_WGMMA_RS("128", "bf16", ATTNSCOPE_WGMMA_ACC64, ATTNSCOPE_WGMMA_OUT64, "64", "65", "66", "67", "68",
                         "69");
    else
      ATTNSCOPE_WGMMA_RS("128", "f16", ATTNSCOPE_WGMMA_ACC64, ATTNSCOPE_WGMMA_OUT64, "64", "65", "66", "67", "68",
                         "69");
  } else {
    if constexpr (kBf16)
      ATTNSCOPE_WGMMA_RS("64", "bf16", ATTNSCOPE_WGMMA_ACC32, ATTNSCOPE_WGMMA_OUT32, "32", "33", "34", "35", "36",
                         "37");
    else
      ATTNSCOPE_WGMMA_RS("64", "f16", ATTNSCOPE_WGMMA_ACC32, ATTNSCOPE_WGMMA_OUT32, "32", "33", "34", "35", "36", "37");
  }
}

}  // namespace attnscope::kernels::cuda::hopper

#undef ATTNSCOPE_WGMMA_RS
#undef ATTNSCOPE_WGMMA_M64N128_SS
#undef ATTNSCOPE_WGMMA_OUT64
#undef ATTNSCOPE_WGMMA_OUT32
#undef ATTNSCOPE_WGMMA_ACC64
#undef ATTNSCOPE_WGMMA_ACC32
