// Fuzz target: tokenizer.json (analysis/tokenizer/tokenizer.h), the whole construction
// (model, normalizer, pre-tokenizer with its split regex, added tokens, post-processor,
// decoder), then encoding and decoding a text. The input is the JSON, optionally followed
// by a NUL byte and the text to encode; without one a fixed text mixing scripts is used.
#include <cstring>
#include <string>

#include "analysis/tokenizer/tokenizer.h"
#include "fuzz/fuzz_support.h"
#include "kernels/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fz = attnscope::fuzz;
  const std::string_view input = fz::text(data, size);
  const size_t nul = input.find('\0');
  const std::string_view json = input.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos
                                    ? std::string_view("Hello world! 123 <s>\n\tcafé 東京 \xF0\x9F\x98\x80 don't")
                                    : input.substr(nul + 1);
  try {
    const auto tokenizer = attnscope::tokenizer::Tokenizer::from_json(json, "tokenizer.json");
    for (const bool special : {true, false}) {
      const auto ids = tokenizer.encode(text, special);
      for (const int32_t id : ids) {
        fz::expect(id >= 0 && id < tokenizer.vocab_size(), "encode gives ids inside the vocabulary");
        tokenizer.token_string(id);
      }
      tokenizer.decode(ids, false);
      tokenizer.decode(ids, true);
    }
  } catch (const attnscope::Error&) {
  }
  return 0;
}
