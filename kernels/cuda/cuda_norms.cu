// rms_norm and layer_norm. A team of threads (a power of two, 1 to 1024) normalises
// one group: a whole row (hidden states) or one head (Qwen3's q_norm / k_norm, group
// = weight.cols()). Teams are sized to give each thread about 4 accesses of V
// elements; a block of 256 threads (or one bigger team) holds several teams.
// Statistics are fp32 sums in registers, reduced by warp shuffles and, for teams
// over a warp, through shared memory. The row is re-read for each pass (from L1/L2):
// DRAM still sees one read and one write.
//   rms_norm:   y = w * round(x * rsqrt(mean(x^2) + eps))  (LlamaRMSNorm: the normalised
//               value is cast to the input type before the weight multiplies it)
//   layer_norm: y = (x - mean) * rsqrt(var + eps) * w + b   (biased variance, two passes)
// y may alias x (the same view): each thread reads an element before writing it, and
// every read of the statistics passes finishes (team_sum) before the first write.
#include "kernels/cuda/cuda_context.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/cuda_vector.cuh"

namespace attnscope::kernels::cuda {
namespace {

constexpr int kBlock = 256;

struct GroupShape {
  int64_t groups = 0;  // rows * groups per row
  int64_t groups_per_row = 0;
  int group = 0;  // elements per group
  int team = 1;
  int block = kBlock;
};

// Pointer offsets of team t's group; inactive teams (past the end) read group 0.
struct GroupAt {
  int64_t row = 0, column = 0;
  bool active = false;
};
__device__ __forceinline__ GroupAt group_at(int64_t t, const GroupShape& s) {
  GroupAt g;
  g.active = t < s.groups;
  if (g.active) {
    g.row = t / s.groups_per_row;
    g.column = (t % s.groups_per_row) * s.group;
  }
  return g;
}

template <typename T, int V>
__global__ void rms_norm_kernel(const T* x, int64_t xs, const T* w, T* y, int64_t ys, GroupShape s, float eps) {
  extern __shared__ float partial[];
  // Every thread runs the same number of iterations: team_sum synchronises the block.
  const int teams_per_block = blockDim.x / s.team, member = threadIdx.x % s.team;
  for (int64_t base = int64_t(blockIdx.x) * teams_per_block; base < s.groups;
       base += int64_t(gridDim.x) * teams_per_block) {
    const GroupAt g = group_at(base + threadIdx.x / s.team, s);
    const T* xg = x + g.row * xs + g.column;
    float squares = 0.0f;
    if (g.active)
      for (int i = member * V; i < s.group; i += s.team * V) {
        const Vec<T, V> v = load_vec<T, V>(xg + i);
#pragma unroll
        for (int e = 0; e < V; ++e) squares += to_float(v.v[e]) * to_float(v.v[e]);
      }
    const float inv = rsqrtf(team_sum(squares, s.team, partial) / float(s.group) + eps);
    if (!g.active) continue;
    T* yg = y + g.row * ys + g.column;
    for (int i = member * V; i < s.group; i += s.team * V) {
      const Vec<T, V> v = load_vec<T, V>(xg + i), wv = load_vec<T, V>(w + i);
      Vec<T, V> o;
#pragma unroll
      for (int e = 0; e < V; ++e) o.v[e] = from_float<T>(to_float(wv.v[e]) * round_to<T>(to_float(v.v[e]) * inv));
      store_vec<T, V>(yg + i, o);
    }
  }
}

template <typename T, int V>
__global__ void layer_norm_kernel(const T* x, int64_t xs, const T* w, const T* b, T* y, int64_t ys, GroupShape s,
                                  float eps) {
  extern __shared__ float partial[];
  // Every thread runs the same number of iterations: team_sum synchronises the block.
  const int teams_per_block = blockDim.x / s.team, member = threadIdx.x % s.team;
  for (int64_t base = int64_t(blockIdx.x) * teams_per_block; base < s.groups;
       base += int64_t(gridDim.x) * teams_per_block) {
    const GroupAt g = group_at(base + threadIdx.x / s.team, s);
    const T* xg = x + g.row * xs;
    float sum = 0.0f;
    if (g.active)
      for (int i = member * V; i < s.group; i += s.team * V) {
        const Vec<T, V> v = load_vec<T, V>(xg + i);
#pragma unroll
        for (int e = 0; e < V; ++e) sum += to_float(v.v[e]);
      }
    const float mean = team_sum(sum, s.team, partial) / float(s.group);
    // Second pass on x - mean: a one-pass E[x^2] - mean^2 cancels when |mean| >> std.
    float squares = 0.0f;
    if (g.active)
      for (int i = member * V; i < s.group; i += s.team * V) {
        const Vec<T, V> v = load_vec<T, V>(xg + i);
#pragma unroll
        for (int e = 0; e < V; ++e) {
          const float d = to_float(v.v[e]) - mean;
          squares += d * d;
        }
      }
    const float inv = rsqrtf(team_sum(squares, s.team, partial) / float(s.group) + eps);
    if (!g.active) continue;
    T* yg = y + g.row * ys;
    for (int i = member * V; i < s.group; i += s.team * V) {
      const Vec<T, V> v = load_vec<T, V>(xg + i), wv = load_vec<T, V>(w + i), bv = load_vec<T, V>(b + i);
      Vec<T, V> o;
#pragma unroll
      for (int e = 0; e < V; ++e)
        o.v[e] = from_float<T>((to_float(v.v[e]) - mean) * inv * to_float(wv.v[e]) + to_float(bv.v[e]));
      store_vec<T, V>(yg + i, o);
    }
  }
}

GroupShape group_shape(int64_t rows, int64_t cols, int64_t group, int vector) {
  GroupShape s;
  s.group = int(group);
  s.groups_per_row = cols / group;
  s.groups = rows * s.groups_per_row;
  const int64_t accesses = (group + vector - 1) / vector;
  while (s.team < 1024 && int64_t(s.team) * 4 < accesses) s.team *= 2;
  s.block = std::max(kBlock, s.team);
  return s;
}

template <typename F>
void launch_groups(const GroupShape& s, F&& launch) {
  if (s.groups == 0) return;
  const int64_t teams_per_block = s.block / s.team;
  const unsigned blocks = unsigned(std::min<int64_t>((s.groups + teams_per_block - 1) / teams_per_block, 1 << 20));
  launch(blocks, unsigned(s.block), std::size_t(s.block / 32) * sizeof(float));
}

}  // namespace

void launch_rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& y, cudaStream_t stream) {
  with_device_type(x.dtype(), [&]<typename T>() {
    const auto run = [&]<int V>() {
      const GroupShape s = group_shape(x.rows(), x.cols(), weight.cols(), V);
      launch_groups(s, [&](unsigned blocks, unsigned threads, std::size_t shared) {
        rms_norm_kernel<T, V><<<blocks, threads, shared, stream>>>(x.data<T>(), x.row_stride(), weight.data<T>(),
                                                                   y.data<T>(), y.row_stride(), s, eps);
      });
    };
    if (vectorizable({&x, &weight, &y}))
      run.template operator()<kVector>();
    else
      run.template operator()<1>();
  });
  check_launch("rms_norm");
}

void launch_layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps, Tensor& y,
                       cudaStream_t stream) {
  with_device_type(x.dtype(), [&]<typename T>() {
    const auto run = [&]<int V>() {
      const GroupShape s = group_shape(x.rows(), x.cols(), x.cols(), V);
      launch_groups(s, [&](unsigned blocks, unsigned threads, std::size_t shared) {
        layer_norm_kernel<T, V><<<blocks, threads, shared, stream>>>(
            x.data<T>(), x.row_stride(), weight.data<T>(), bias.data<T>(), y.data<T>(), y.row_stride(), s, eps);
      });
    };
    if (vectorizable({&x, &weight, &bias, &y}))
      run.template operator()<kVector>();
    else
      run.template operator()<1>();
  });
  check_launch("layer_norm");
}

}  // namespace attnscope::kernels::cuda
