// The real Llama 2 (Mistral vocabulary), Llama 3, Qwen 3 and GPT-2 tokenizer.json files give,
// for every corpus item, exactly the ids and text Hugging Face tokenizers gives
// (tests/tokenizer_data/reference/, written by generate_reference.mjs).
#include <catch2/catch.hpp>

#include "tests/unit/tokenizer/tokenizer_test_support.h"

namespace tt = attnscope::testing::tokenizer;
using attnscope::tokenizer::Tokenizer;

namespace {

enum class Check { EncodeWithSpecial, EncodeWithoutSpecial, Decode, DecodeSkippingSpecial };

void check_against_reference(const std::string& name, Check check) {
  const Tokenizer* tokenizer = tt::cached_tokenizer(name);
  if (tokenizer == nullptr) {
    FAIL(tt::cached_tokenizer_path(name).string() + " is missing: run scripts/fetch_test_data.sh");
    return;
  }
  const auto& corpus = tt::corpus();
  const auto reference = tt::reference(name);
  REQUIRE(reference.size() == corpus.size());
  for (size_t i = 0; i < corpus.size(); ++i) {
    const auto& item = corpus[i];
    const auto& expected = reference[i];
    INFO(name << " corpus item " << i << " \"" << item.name << "\"");
    REQUIRE(expected.name == item.name);
    switch (check) {
      case Check::EncodeWithSpecial:
        CHECK(tokenizer->encode(item.text, true) == expected.ids);
        break;
      case Check::EncodeWithoutSpecial:
        CHECK(tokenizer->encode(item.text, false) == expected.ids_no_special);
        break;
      case Check::Decode:
        CHECK(tokenizer->decode(expected.ids, false) == expected.decoded);
        break;
      case Check::DecodeSkippingSpecial:
        CHECK(tokenizer->decode(expected.ids, true) == expected.decoded_skip_special);
        break;
    }
  }
}

}  // namespace

TEST_CASE("GPT-2 encodes every corpus item with special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("gpt2", Check::EncodeWithSpecial);
}
TEST_CASE("GPT-2 encodes every corpus item without special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("gpt2", Check::EncodeWithoutSpecial);
}
TEST_CASE("GPT-2 decodes every corpus item as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("gpt2", Check::Decode);
}
TEST_CASE("GPT-2 decodes every corpus item skipping special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("gpt2", Check::DecodeSkippingSpecial);
}

TEST_CASE("Llama 2 encodes every corpus item with special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("llama2", Check::EncodeWithSpecial);
}
TEST_CASE("Llama 2 encodes every corpus item without special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("llama2", Check::EncodeWithoutSpecial);
}
TEST_CASE("Llama 2 decodes every corpus item as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("llama2", Check::Decode);
}
TEST_CASE("Llama 2 decodes every corpus item skipping special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("llama2", Check::DecodeSkippingSpecial);
}

TEST_CASE("Llama 3 encodes every corpus item with special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("llama3", Check::EncodeWithSpecial);
}
TEST_CASE("Llama 3 encodes every corpus item without special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("llama3", Check::EncodeWithoutSpecial);
}
TEST_CASE("Llama 3 decodes every corpus item as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("llama3", Check::Decode);
}
TEST_CASE("Llama 3 decodes every corpus item skipping special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("llama3", Check::DecodeSkippingSpecial);
}

TEST_CASE("Qwen 3 encodes every corpus item with special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("qwen3", Check::EncodeWithSpecial);
}
TEST_CASE("Qwen 3 encodes every corpus item without special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("qwen3", Check::EncodeWithoutSpecial);
}
TEST_CASE("Qwen 3 decodes every corpus item as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("qwen3", Check::Decode);
}
TEST_CASE("Qwen 3 decodes every corpus item skipping special tokens as tokenizers does", "[tokenizer][reference]") {
  check_against_reference("qwen3", Check::DecodeSkippingSpecial);
}
