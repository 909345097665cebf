#include "app/gui/compute_device.h"

namespace attnscope::gui {

DeviceChoice parse_device_choice(const std::string& text) { return host::parse_device_choice(text, true, "--device"); }

ComputeDevice open_compute_device(DeviceChoice choice) {
  host::DeviceRequest request;
  request.choice = choice;
  request.program = "attnscope";
  request.where = "CUDA device";
  return host::open_compute_device(request);
}

void check_run_fits(const ComputeDevice& device, const model::ModelSpec& spec,
                    const model::MemoryEstimateOptions& options) {
  host::check_run_fits(device, spec, options, spec.max_position_embeddings, "fewer exact rows also help");
}

}  // namespace attnscope::gui
