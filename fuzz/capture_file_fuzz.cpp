// Fuzz target: a capture file (analysis/capture/capture_file.h): a safetensors file whose
// metadata and tensors describe captured heads; read back and summarised as the views do.
#include "analysis/capture/capture_file.h"
#include "analysis/capture/head_summary.h"
#include "fuzz/fuzz_support.h"
#include "kernels/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fz = attnscope::fuzz;
  namespace capture = attnscope::capture;
  try {
    const capture::CaptureFile file = capture::parse_capture(fz::bytes(data, size), "fuzz.capture");
    for (const auto& head : file.heads) {
      fz::expect(head.row_entropy.size() == size_t(head.rows) && head.top1.size() == size_t(head.rows),
                 "per-row tensors have one entry per row");
      fz::expect(head.exact_rows <= head.rows, "exact rows are rows");
    }
    capture::summarize_heads(file.heads, file.options);
  } catch (const attnscope::Error&) {
  }
  return 0;
}
