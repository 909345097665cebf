#pragma once
// The CPU reference backend: float32 storage and compute, matrix products through
// CBLAS (OpenBLAS), row/head parallelism through OpenMP.
#include <memory>

#include "kernels/backend.h"

namespace attnscope::kernels {

// threads: OpenMP threads for every operation (and OpenBLAS calls made outside our
// own parallel regions); 0 uses omp_get_max_threads(), i.e. all cores unless
// OMP_NUM_THREADS says otherwise.
std::unique_ptr<Backend> make_cpu_backend(int threads = 0);

}  // namespace attnscope::kernels
