// Fuzz target: a safetensors file (analysis/io/safetensors.h). Past the header checks,
// every tensor's bytes are read and every float tensor converted, so a header that
// passes with offsets outside the data is an AddressSanitizer report, not a silent read.
#include "analysis/io/safetensors.h"
#include "fuzz/fuzz_support.h"
#include "kernels/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fz = attnscope::fuzz;
  try {
    const auto file = attnscope::io::SafetensorsFile::from_bytes(fz::bytes(data, size), "fuzz.safetensors");
    uint64_t total = 0;
    for (const attnscope::io::SafetensorsEntry& e : file.tensors()) {
      const auto stored = file.bytes(e.name);
      fz::expect(stored.size() == e.bytes(), "a tensor's bytes are its data_offsets' range");
      total += stored.size();
      fz::expect(file.find(e.name) == &e, "find() returns the listed entry");
      if (e.dtype) fz::expect(file.read_f32(e.name).size() == uint64_t(e.elements()), "read_f32 gives every element");
    }
    fz::expect(total <= size, "tensors do not share bytes, so together they fit in the file");
  } catch (const attnscope::Error&) {
  }
  return 0;
}
