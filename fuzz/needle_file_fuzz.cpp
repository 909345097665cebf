// Fuzz target: a needles.jsonl file (analysis/tasks/needle_file.h).
#include "analysis/tasks/needle_file.h"
#include "fuzz/fuzz_support.h"
#include "kernels/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fz = attnscope::fuzz;
  try {
    const auto needles = attnscope::tasks::parse_needles(fz::text(data, size), "needles.jsonl");
    fz::expect(!needles.empty(), "a file that reads holds needles");
    for (const auto& n : needles)
      fz::expect(!n.needle.empty() && !n.question.empty() && !n.answer.empty(), "every needle has its three texts");
  } catch (const attnscope::Error&) {
  }
  return 0;
}
