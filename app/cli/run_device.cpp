#include "app/cli/run_device.h"

namespace attnscope::cli {

RunDevice open_run_device(const Arguments& args) {
  host::DeviceRequest request;
  request.choice = host::parse_device_choice(args.value_or("device", "cpu"), false);
  request.cpu_threads = int(args.integer_or("threads", 0, 0, 1024));
  request.program = "attnscope-cli";
  request.where = "--device cuda";
  return host::open_compute_device(request);
}

void check_run_fits(const RunDevice& device, const model::ModelSpec& spec, const model::MemoryEstimateOptions& options,
                    int64_t context_limit) {
  host::check_run_fits(device, spec, options, context_limit, kMemoryHint);
}

void rethrow_out_of_memory(const OutOfMemory& error, const RunDevice& device, const model::ModelSpec& spec,
                           const model::MemoryEstimateOptions& options, int64_t context_limit) {
  host::rethrow_out_of_memory(error, device, spec, options, context_limit, kMemoryHint);
}

}  // namespace attnscope::cli
