// Our own profile files: JSON with identity, run and every metric, and CSV with RFC 4180
// quoting; golden files from the known profile, round trips, and malformed files refused.
#include <catch2/catch.hpp>

#include "analysis/export/profile_document.h"
#include "export_store_support.h"
#include "kernels/error.h"

namespace ex = attnscope::exports;
namespace metric = attnscope::profile::metric;
using namespace attnscope::exports::testing;
using Catch::Contains;

namespace {

ex::ProfileDocument known_document() {
  ex::ProfileDocument d;
  d.model = {{"name", "test/tiny-gqa"}, {"architecture", "LlamaForCausalLM"}};
  d.run = {{"id", 1}, {"kind", "profile"}, {"parameters", {{"lengths", {512, 1024}}}}};
  d.units = {{"completed", 4}};
  d.heads = known_profile();
  return d;
}

std::string csv_error(const std::string& text) {
  try {
    ex::parse_profile_csv(text, tiny_shape(), "profile.csv");
  } catch (const attnscope::Error& e) {
    return e.what();
  }
  return "no error";
}

std::string json_error(const std::string& text) {
  try {
    ex::parse_profile_json(text, tiny_shape(), "profile.json");
  } catch (const attnscope::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("The profile JSON of the known profile matches its golden file", "[export]") {
  check_golden("profile/profile.json", ex::profile_json_text(known_document(), tiny_shape()));
}

TEST_CASE("The profile CSV of the known profile matches its golden file", "[export]") {
  check_golden("profile/profile.csv", ex::profile_csv_text(known_profile(), tiny_shape()));
}

TEST_CASE("A profile JSON written and read back holds the same values", "[export]") {
  const ex::ProfileDocument back =
      ex::parse_profile_json(ex::profile_json_text(known_document(), tiny_shape()), tiny_shape(), "p.json");
  const auto known = known_profile();
  CHECK(back.heads.metrics() == known.metrics());
  for (const std::string& name : known.metrics())
    for (int l = 0; l < 3; ++l)
      for (int h = 0; h < 4; ++h) CHECK(back.heads.get(name, l, h) == known.get(name, l, h));
  CHECK(back.run["parameters"]["lengths"][1] == 1024);
}

TEST_CASE("A profile CSV written and read back holds the same values", "[export]") {
  attnscope::profile::HeadProfile p = known_profile();
  p.set(metric::pattern, 0, 0, std::string("odd, \"quoted\"\ntext"));
  const auto back = ex::parse_profile_csv(ex::profile_csv_text(p, tiny_shape()), tiny_shape(), "p.csv");
  for (const std::string& name : p.metrics())
    for (int l = 0; l < 3; ++l)
      for (int h = 0; h < 4; ++h) CHECK(back.get(name, l, h) == p.get(name, l, h));
}

TEST_CASE("A stored run becomes a profile document with its model, run and units", "[export][store]") {
  const TinyStore s = make_tiny_store("document");
  const ex::StoredProfile stored = ex::read_stored_profile(s.db, s.run, tiny_shape());
  const ex::ProfileDocument d = ex::profile_document(stored, tiny_shape());
  CHECK(d.model["name"] == "test/tiny-gqa");
  CHECK(d.run["status"] == "complete");
  CHECK(d.run["parameters"]["streaming"]["sink_tokens"] == 128);
  CHECK(d.units["completed"] == 4);
  CHECK(d.units["tasks"]["needle"] == 3);
  CHECK(d.units["prompt_tokens"] == nlohmann::ordered_json({512, 801, 1024}));
}

TEST_CASE("A profile for one model is refused for another", "[export]") {
  const std::string json = ex::profile_json_text(known_document(), tiny_shape());
  CHECK_THROWS_WITH(ex::parse_profile_json(json, real_model("Meta-Llama-3.1-8B-Instruct"), "p.json"),
                    Contains("p.json: 3 \"model\".num_layers but the model") && Contains("has 32 layers"));
  const std::string csv = ex::profile_csv_text(known_profile(), tiny_shape());
  CHECK_THROWS_WITH(ex::parse_profile_csv(csv, real_model("Meta-Llama-3.1-8B-Instruct"), "p.csv"),
                    Contains("p.csv: 12 rows but the model") && Contains("has 1024 layers x query heads"));
}

TEST_CASE("Malformed profile JSON is refused with the place and the problem", "[export]") {
  const std::string head = R"({"layer": 0, "head": 0, "sink_mass": 0.5})";
  std::string heads;
  for (int i = 0; i < 12; ++i)
    heads += std::string(i ? ", " : "") + R"({"layer": )" + std::to_string(i / 4) + R"(, "head": )" + std::to_string(i % 4) + "}";
  CHECK(json_error(R"({"attnscope_profile": 1, "heads": [)" + heads + "]}") == "no error");
  CHECK_THAT(json_error(R"({"heads": []})"), Contains("is not an attnscope profile"));
  CHECK_THAT(json_error(R"({"attnscope_profile": 2, "heads": []})"), Contains("is profile format version 2"));
  CHECK_THAT(json_error(R"({"attnscope_profile": 1, "heads": [)" + head + "]}"), Contains("1 heads but the model"));
  const std::string twice = heads.substr(0, heads.rfind('{')) + R"({"layer": 0, "head": 0}]})";
  CHECK_THAT(json_error(R"({"attnscope_profile": 1, "heads": [)" + twice), Contains("layer 0 head 0 is listed twice"));
  const std::string bad_value = R"({"layer": 2, "head": 3, "sink_mass": [1]})";
  CHECK_THAT(json_error(R"({"attnscope_profile": 1, "heads": [)" + heads.substr(0, heads.rfind('{')) + bad_value + "]}"),
             Contains("\"heads\"[11].sink_mass must be a number, not a list"));
  const std::string bad_kv = R"({"layer": 2, "head": 3, "kv_head": 0})";
  CHECK_THAT(json_error(R"({"attnscope_profile": 1, "heads": [)" + heads.substr(0, heads.rfind('{')) + bad_kv + "]}"),
             Contains("kv_head 0 is not the KV head of query head 3"));
  CHECK_THAT(json_error(R"({"attnscope_profile": 1, "heads": [)"), Contains("profile.json: is not valid JSON"));
}

TEST_CASE("Malformed profile CSV is refused with the line and the problem", "[export]") {
  std::string rows;
  for (int i = 0; i < 12; ++i) rows += std::to_string(i / 4) + "," + std::to_string(i % 4) + ",0.5,local\n";
  const std::string header = "layer,head,sink_mass,pattern\n";
  CHECK(csv_error(header + rows) == "no error");
  CHECK_THAT(csv_error("head,layer\n"), Contains("profile.csv: line 1: the header must start with layer,head"));
  const std::string without_last = rows.substr(0, rows.rfind('\n', rows.size() - 2) + 1);
  CHECK_THAT(csv_error(header + without_last), Contains("11 rows but the model"));
  CHECK_THAT(csv_error(header + "0,0,x,local\n" + rows.substr(rows.find('\n') + 1)),
             Contains("line 2: sink_mass 'x' is not a finite number"));
  CHECK_THAT(csv_error(header + "0,0,nan,local\n" + rows.substr(rows.find('\n') + 1)), Contains("'nan' is not a finite number"));
  CHECK_THAT(csv_error(header + "0,0,0.5\n" + rows.substr(rows.find('\n') + 1)), Contains("line 2 has 3 cells; the header has 4"));
  CHECK_THAT(csv_error(header + "0,0,0.5,\"local\n" + rows.substr(rows.find('\n') + 1)),
             Contains("line 2: a quoted field is not closed"));
  CHECK_THAT(csv_error(header + "0,0,0.5,lo\"cal\n" + rows.substr(rows.find('\n') + 1)), Contains("a quote inside an unquoted field"));
  CHECK_THAT(csv_error(header + "0,1,0.5,local\n" + rows.substr(rows.find('\n') + 1)), Contains("layer 0 head 1 is listed twice"));
  CHECK_THAT(csv_error(header + "0,9,0.5,local\n" + rows.substr(rows.find('\n') + 1)), Contains("layer 0 head 9 is outside"));
}
