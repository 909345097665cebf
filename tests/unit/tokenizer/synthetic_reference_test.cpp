// Small hand-made tokenizer.json files (tests/tokenizer_data/synthetic/) give, case by case,
// exactly the ids and text Hugging Face tokenizers gives (generate_synthetic.mjs wrote both).
// They cover what the real files of reference_parity_test.cpp do not reach.
#include <catch2/catch.hpp>

#include <limits>
#include <vector>

#include "tests/unit/tokenizer/tokenizer_test_support.h"

namespace tt = attnscope::testing::tokenizer;
using attnscope::tokenizer::Tokenizer;

namespace {

void check_case(const tt::SyntheticCase& c) {
  INFO(c.fixture << "/" << c.name << " \"" << c.text << "\"");
  const Tokenizer tokenizer = Tokenizer::from_file(tt::synthetic_path(c.fixture));
  if (!c.decode_only) {
    CHECK(tokenizer.encode(c.text, true) == c.ids);
    CHECK(tokenizer.encode(c.text, false) == c.ids_no_special);
  }
  CHECK(tokenizer.decode(c.ids, false) == c.decoded);
  CHECK(tokenizer.decode(c.ids, true) == c.decoded_skip_special);
}

void check_case(const std::string& fixture, const std::string& name) { check_case(tt::synthetic_case(fixture, name)); }

}  // namespace

TEST_CASE("Empty text encodes to the post-processor's special tokens only", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "empty");
}

TEST_CASE("Characters outside the vocabulary fall back to their UTF-8 byte tokens", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "byte_fallback_two_bytes");
  check_case("sentencepiece", "byte_fallback_four_bytes");
  check_case("sentencepiece", "byte_fallback_after_unknown_run");
}

TEST_CASE("Without byte tokens a run of unknown characters becomes one fused unk", "[tokenizer][synthetic]") {
  check_case("unk_fused", "unknown_run_is_one_unk");
  check_case("unk_fused", "unknown_runs_split_by_known");
}

TEST_CASE("Special tokens glued to words are cut out of the text", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "special_tokens_glued");
}

TEST_CASE("An lstrip added token takes the spaces on its left", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "lstrip_takes_spaces_on_the_left");
}

TEST_CASE("An rstrip added token takes the spaces on its right", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "rstrip_takes_spaces_on_the_right");
}

TEST_CASE("A single_word added token matches only outside words", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "single_word_matches_alone");
  check_case("sentencepiece", "single_word_skipped_inside_word");
}

TEST_CASE("A normalized added token matches the normalized text, not the raw text", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "normalized_token_matches_its_normalized_form");
  check_case("sentencepiece", "normalized_token_does_not_match_raw");
}

TEST_CASE("Adjacent added tokens of different kinds are each matched", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "added_token_prefers_longest_match");
}

TEST_CASE("Added tokens take the ids tokenizers assigns, not the ids written in the file", "[tokenizer][synthetic]") {
  check_case("added_ids_renumbered", "added_tokens_take_assigned_ids");
}

TEST_CASE("Runs of spaces become runs of metaspace tokens", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "metaspace_runs");
}

TEST_CASE("A merge that joins a word to the next one is applied across the space", "[tokenizer][synthetic]") {
  // BpeModel cuts words before "▁" only when no merge joins across it; here one does.
  check_case("merge_across_metaspace", "merge_joins_words");
  check_case("merge_across_metaspace", "merge_joins_words_twice");
}

TEST_CASE("Byte tokens that are not valid UTF-8 decode to one replacement character per byte", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "lone_lead_byte_is_replacement_char");
  check_case("sentencepiece", "truncated_sequence_then_text");
}

TEST_CASE("Decoding skips ids that are in no vocabulary", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "unknown_ids_are_skipped");
}

TEST_CASE("Decoding negative ids skips them too", "[tokenizer][synthetic]") {
  // tokenizers takes u32 ids, so it cannot be asked; a negative id is as unknown as a huge one.
  const Tokenizer tokenizer = Tokenizer::from_file(tt::synthetic_path("sentencepiece"));
  const auto& reference = tt::synthetic_case("sentencepiece", "unknown_ids_are_skipped");
  const std::vector<int32_t> ids{1, 263, -1, 264, std::numeric_limits<int32_t>::min(), 2};
  CHECK(tokenizer.decode(ids, false) == reference.decoded);
}

TEST_CASE("Decoding can skip special tokens between text", "[tokenizer][synthetic]") {
  check_case("sentencepiece", "special_tokens_between_text");
}

TEST_CASE("Every synthetic reference case matches tokenizers", "[tokenizer][synthetic]") {
  // Also covers cases added to generate_synthetic.mjs without a test of their own above.
  for (const auto& c : tt::synthetic_cases()) check_case(c);
}

TEST_CASE("Invalid UTF-8 input is encoded as its lossy UTF-8 repair", "[tokenizer][synthetic]") {
  // tokenizers only takes valid UTF-8; each maximal invalid sequence becomes U+FFFD, as Rust's
  // String::from_utf8_lossy gives it.
  const Tokenizer tokenizer = Tokenizer::from_file(tt::synthetic_path("sentencepiece"));
  CHECK(tokenizer.encode("h\xC3", true) == tokenizer.encode("h\xEF\xBF\xBD", true));
  CHECK(tokenizer.encode("\xF0\x9F\x98 a", true) == tokenizer.encode("\xEF\xBF\xBD a", true));
}

TEST_CASE("Vocabulary queries see model and added tokens", "[tokenizer][synthetic]") {
  const Tokenizer tokenizer = Tokenizer::from_file(tt::synthetic_path("sentencepiece"));
  const int32_t lstrip_id = tt::synthetic_case("sentencepiece", "lstrip_takes_spaces_on_the_left").ids.at(2);
  CHECK(tokenizer.token_id("<L>") == lstrip_id);
  CHECK(tokenizer.token_string(lstrip_id) == "<L>");
  CHECK(tokenizer.is_special(lstrip_id));
  CHECK_FALSE(tokenizer.is_special(*tokenizer.token_id("ld")));
  CHECK(tokenizer.token_id("\xE2\x96\x81hello").has_value());
  CHECK_FALSE(tokenizer.token_id("nope").has_value());
  CHECK(tokenizer.token_string(-5).empty());
  CHECK(tokenizer.vocab_size() == *tokenizer.token_id("ld") + 1);  // the last added token
}
