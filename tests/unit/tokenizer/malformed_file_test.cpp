// A tokenizer.json that is unreadable or malformed gives attnscope::Error naming the file and
// the problem, never a crash. Each case edits the valid synthetic sentencepiece.json.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>

#include "kernels/error.h"
#include "tests/unit/tokenizer/tokenizer_test_support.h"

namespace tt = attnscope::testing::tokenizer;
using attnscope::tokenizer::Tokenizer;
using nlohmann::json;

namespace {

json valid_file() { return json::parse(tt::read_text(tt::synthetic_path("sentencepiece"))); }

// The what() of the attnscope::Error that loading `contents` from a file throws; fails the
// test when loading succeeds or throws anything else.
std::string load_error(const std::string& contents) {
  tt::TempFile file(contents);
  try {
    (void)Tokenizer::from_file(file.path());
  } catch (const attnscope::Error& e) {
    CHECK(e.where() == file.path().string());
    return e.what();
  }
  FAIL("loading succeeded");
  return "";
}

std::string load_error(const std::function<void(json&)>& edit) {
  json document = valid_file();
  edit(document);
  return load_error(document.dump());
}

using Catch::Matchers::Contains;

}  // namespace

TEST_CASE("The valid file the cases below edit loads", "[tokenizer][errors]") {
  tt::TempFile file(valid_file().dump());
  CHECK_NOTHROW(Tokenizer::from_file(file.path()));
}

TEST_CASE("A missing file is an error naming it", "[tokenizer][errors]") {
  const std::string path = (std::filesystem::temp_directory_path() / "attnscope-no-such-dir" / "tokenizer.json").string();
  try {
    (void)Tokenizer::from_file(path);
    FAIL("loading succeeded");
  } catch (const attnscope::Error& e) {
    CHECK(e.where() == path);
    CHECK_THAT(e.what(), Contains("cannot open the file: No such file or directory"));
  }
}

TEST_CASE("A folder instead of a file is an error naming it", "[tokenizer][errors]") {
  const std::string path = std::filesystem::temp_directory_path().string();
  CHECK_THROWS_WITH(Tokenizer::from_file(path), Contains(path) && Contains("is a folder"));
}

TEST_CASE("An empty file is an error", "[tokenizer][errors]") {
  CHECK_THAT(load_error(std::string()), Contains("the file is empty"));
}

TEST_CASE("Text that is not JSON is an error with the parser's position", "[tokenizer][errors]") {
  const std::string text = valid_file().dump();
  CHECK_THAT(load_error(text.substr(0, text.size() / 2)), Contains("not valid JSON: parse error at line 1"));
  CHECK_THAT(load_error("{\"model\": }"), Contains("not valid JSON"));
}

TEST_CASE("A top level that is not an object is an error", "[tokenizer][errors]") {
  CHECK_THAT(load_error("[1, 2]"), Contains("expected a JSON object at the top level"));
}

TEST_CASE("A missing model is an error", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j.erase("model"); }), Contains("missing field \"model\""));
}

TEST_CASE("An unknown model type is an error naming the type", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["model"]["type"] = "WordPiece"; }),
             Contains("model.type: unsupported model type \"WordPiece\" (only BPE is supported)"));
}

TEST_CASE("A missing vocabulary is an error", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["model"].erase("vocab"); }), Contains("model: missing field \"vocab\""));
}

TEST_CASE("A vocabulary that is not an object is an error", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["model"]["vocab"] = json::array({"a", "b"}); }),
             Contains("model.vocab: expected an object, found an array"));
}

TEST_CASE("A token id that is not a non-negative integer is an error naming the token", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["model"]["vocab"]["h"] = -3; }),
             Contains("model.vocab[\"h\"]: token id -3 is out of range"));
  CHECK_THAT(load_error([](json& j) { j["model"]["vocab"]["h"] = "7"; }),
             Contains("model.vocab[\"h\"]: expected an integer, found a string"));
}

TEST_CASE("A merge of a token that is not in the vocabulary is an error naming the merge", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["model"]["merges"][1] = "e zz"; }),
             Contains("model.merges[1]: token \"zz\" is not in the vocabulary"));
  CHECK_THAT(load_error([](json& j) { j["model"]["merges"][1] = "zz e"; }),
             Contains("model.merges[1]: token \"zz\" is not in the vocabulary"));
}

TEST_CASE("A merge whose result is not in the vocabulary is an error", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["model"]["merges"][1] = "e h"; }),
             Contains("model.merges[1]: merged token \"eh\" is not in the vocabulary"));
}

TEST_CASE("A merge that is not two tokens is an error", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["model"]["merges"][0] = "e"; }),
             Contains("model.merges[0]: expected \"<left> <right>\" with exactly one space"));
  CHECK_THAT(load_error([](json& j) { j["model"]["merges"][0] = json::array({"e"}); }),
             Contains("model.merges[0]: expected a pair of strings"));
  CHECK_THAT(load_error([](json& j) { j["model"]["merges"] = "e l"; }),
             Contains("model.merges: expected an array, found a string"));
}

TEST_CASE("BPE dropout is refused", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["model"]["dropout"] = 0.1; }), Contains("model.dropout: BPE dropout is not supported"));
}

TEST_CASE("An unknown normalizer type is an error naming the type", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["normalizer"]["normalizers"][1]["type"] = "Precompiled"; }),
             Contains("normalizer.normalizers[1].type: unsupported normalizer type \"Precompiled\""));
}

TEST_CASE("An unknown pre-tokenizer type is an error naming the type", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["pre_tokenizer"] = {{"type", "UnicodeScripts"}}; }),
             Contains("pre_tokenizer.type: unsupported pre-tokenizer type \"UnicodeScripts\""));
}

TEST_CASE("An unknown decoder type is an error naming the type", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["decoder"]["decoders"][2]["type"] = "WordPiece"; }),
             Contains("decoder.decoders[2].type: unsupported decoder type \"WordPiece\""));
}

TEST_CASE("An unknown post-processor type is an error naming the type", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["post_processor"] = {{"type", "Magic"}}; }),
             Contains("post_processor.type: unsupported post-processor type \"Magic\""));
}

TEST_CASE("A component without a type is an error", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["decoder"].erase("type"); }), Contains("decoder: missing field \"type\""));
  CHECK_THAT(load_error([](json& j) { j["normalizer"] = "NFC"; }),
             Contains("normalizer: expected an object, found a string"));
}

TEST_CASE("An invalid regex is an error with PCRE2's message", "[tokenizer][errors]") {
  const json split = {{"type", "Split"},
                      {"pattern", {{"Regex", "(unclosed"}}},
                      {"behavior", "Isolated"},
                      {"invert", false}};
  CHECK_THAT(load_error([&](json& j) { j["pre_tokenizer"] = split; }),
             Contains("pre_tokenizer.pattern.Regex: invalid regular expression at offset 9: missing closing parenthesis"));
  CHECK_THAT(load_error([](json& j) { j["normalizer"]["normalizers"][1]["pattern"] = {{"Regex", "a{2,1}"}}; }),
             Contains("normalizer.normalizers[1].pattern.Regex: invalid regular expression"));
}

TEST_CASE("A Split pattern that is neither String nor Regex is an error", "[tokenizer][errors]") {
  const json split = {{"type", "Split"}, {"pattern", {{"Glob", "*"}}}, {"behavior", "Isolated"}};
  CHECK_THAT(load_error([&](json& j) { j["pre_tokenizer"] = split; }),
             Contains("pre_tokenizer.pattern: expected {\"String\": ...} or {\"Regex\": ...}"));
}

TEST_CASE("An unknown split behavior is an error naming it", "[tokenizer][errors]") {
  const json split = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}};
  CHECK_THAT(load_error([&](json& j) { j["pre_tokenizer"] = split; }),
             Contains("pre_tokenizer.behavior: unknown split behavior \"Sideways\""));
}

TEST_CASE("An added token without content is an error", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["added_tokens"][3].erase("content"); }),
             Contains("added_tokens[3]: missing field \"content\""));
}

TEST_CASE("A template naming an undefined special token is an error", "[tokenizer][errors]") {
  CHECK_THAT(load_error([](json& j) { j["post_processor"]["special_tokens"].erase("<s>"); }),
             Contains("post_processor.single[0].SpecialToken: special token \"<s>\" is missing from special_tokens"));
}

TEST_CASE("Components nested too deeply are an error, not a stack overflow", "[tokenizer][errors]") {
  // Written as text: building (and dumping) 100000 levels with nlohmann would take long.
  constexpr int kLevels = 100000;
  std::string normalizer;
  for (int i = 0; i < kLevels; ++i) normalizer += R"({"type": "Sequence", "normalizers": [)";
  normalizer += R"({"type": "NFC"})";
  for (int i = 0; i < kLevels; ++i) normalizer += "]}";
  json document = valid_file();
  document["normalizer"] = "NORMALIZER";
  std::string text = document.dump();
  text.replace(text.find("\"NORMALIZER\""), 12, normalizer);
  CHECK_THAT(load_error(text), Contains("nested more than 128 levels deep"));
}

TEST_CASE("An unk_token missing from the vocabulary is an error when an unknown character is encoded",
          "[tokenizer][errors]") {
  tt::TempFile file([] {
    json j = json::parse(tt::read_text(tt::synthetic_path("unk_fused")));
    j["model"]["unk_token"] = "<missing>";
    return j.dump();
  }());
  const Tokenizer tokenizer = Tokenizer::from_file(file.path());
  CHECK(tokenizer.encode("hello", false).size() == 1);  // no unknown character, no error
  CHECK_THROWS_WITH(tokenizer.encode("h\xC3\xA9", false),
                    Contains(file.path().string()) && Contains("model.unk_token \"<missing>\" is not in the vocabulary"));
}

TEST_CASE("Randomly damaged files load or give attnscope::Error, and what loads encodes and decodes",
          "[tokenizer][errors]") {
  // A seeded stand-in for a fuzzer: replace a few values anywhere in the document by values of
  // other kinds, sometimes also one byte of the text.
  const json base = valid_file();
  const json replacements[] = {nullptr, -1, "\xE2\x96\x81", json::array(), json::object(), 3000000000ull, 0.5, "", "(?<"};
  std::mt19937 rng(20261123);
  int loaded = 0;
  for (int round = 0; round < 300; ++round) {
    json document = base;
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
      json* node = &document;
      while ((node->is_object() || node->is_array()) && !node->empty() && rng() % 4 != 0) {
        node = &*std::next(node->begin(), static_cast<std::ptrdiff_t>(rng() % node->size()));
      }
      *node = replacements[rng() % std::size(replacements)];
    }
    std::string text = document.dump();
    if (rng() % 5 == 0) text[rng() % text.size()] = static_cast<char>(rng());
    INFO("round " << round);
    try {
      const Tokenizer tokenizer = Tokenizer::from_json(text, "damaged");
      ++loaded;
      for (const char* input : {"hello world <s> \xC3\xA9\xF0\x9F\x98\x80 <L>  x", "", "\xFF\xFE", "o ld"}) {
        const auto ids = tokenizer.encode(input, true);
        (void)tokenizer.decode(ids, false);
      }
      (void)tokenizer.decode(std::vector<int32_t>{-1, 0, 5, 300, 1000000}, true);
    } catch (const attnscope::Error&) {
      // expected for most rounds
    }
  }
  CHECK(loaded > 0);  // the edits sometimes leave a usable file, so both paths run
}

TEST_CASE("A model's tokenizer with ids past the model's vocabulary is refused naming both files", "[tokenizer][errors]") {
  std::string pattern = (std::filesystem::temp_directory_path() / "attnscope-vocab-XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  const std::filesystem::path dir = pattern;
  std::ofstream(dir / "tokenizer.json") << valid_file().dump();
  const int64_t size = Tokenizer::from_file(dir / "tokenizer.json").vocab_size();
  CHECK(attnscope::tokenizer::load_model_tokenizer(dir, size).vocab_size() == size);
  CHECK_THROWS_WITH(attnscope::tokenizer::load_model_tokenizer(dir, size - 1),
                    Contains((dir / "tokenizer.json").string() + ": has token ids up to " + std::to_string(size - 1)) &&
                        Contains("vocabulary of " + std::to_string(size - 1)) && Contains("config.json"));
  std::filesystem::remove_all(dir);
}
