// A job's parameters from name=value texts against the declared types.
#include <catch2/catch.hpp>

#include "kernels/error.h"
#include "plugins/host/job_parameters.h"

using attnscope::plugins::JobInfo;
using attnscope::plugins::JobParameters;
using attnscope::plugins::ParameterInfo;
using attnscope::plugins::ParamType;
using Catch::Contains;

namespace {

JobInfo job() {
  JobInfo j;
  j.name = "grid";
  j.parameters = {
      {"count", ParamType::Int, std::nullopt, "3", ""},
      {"scale", ParamType::Float, std::nullopt, "0.5", ""},
      {"label", ParamType::String, std::nullopt, "", ""},
      {"loud", ParamType::Bool, std::nullopt, "no", ""},
      {"lengths", ParamType::List, ParamType::Int, "512,1k", ""},
      {"depths", ParamType::List, ParamType::Float, "", ""},
      {"model", ParamType::String, std::nullopt, std::nullopt, "which model"},
  };
  return j;
}

JobParameters parse(std::vector<std::string> given) { return JobParameters::parse("p.grid", job(), given); }

}  // namespace

TEST_CASE("given values are parsed as their types and the rest take their defaults", "[plugins]") {
  const auto p = parse({"model=m", "count=4k", "scale=1e-3", "loud=ON", "depths=0, 0.25 ,1"});
  CHECK(std::get<int64_t>(*p.find("count")) == 4096);
  CHECK(std::get<double>(*p.find("scale")) == Approx(1e-3).epsilon(1e-15));
  CHECK(std::get<bool>(*p.find("loud")));
  CHECK(std::get<std::string>(*p.find("label")).empty());
  CHECK(std::get<std::vector<int64_t>>(*p.find("lengths")) == std::vector<int64_t>{512, 1024});
  CHECK(std::get<std::vector<double>>(*p.find("depths")) == std::vector<double>{0, 0.25, 1});  // exact decimals
  CHECK(p.to_json()["lengths"] == nlohmann::json({512, 1024}));
  CHECK(p.to_json()["model"] == "m");
}

TEST_CASE("a value keeps everything after the first equals sign", "[plugins]") {
  const auto p = parse({"model=a=b"});
  CHECK(std::get<std::string>(*p.find("model")) == "a=b");
}

TEST_CASE("an undeclared parameter is refused with the declared ones", "[plugins]") {
  REQUIRE_THROWS_WITH(parse({"model=m", "colour=red"}),
                      Contains("p.grid") && Contains("no parameter 'colour'") && Contains("count, scale, label"));
}

TEST_CASE("a parameter given twice is refused", "[plugins]") {
  REQUIRE_THROWS_WITH(parse({"model=m", "count=1", "count=2"}), Contains("parameter 'count' is given twice"));
}

TEST_CASE("a required parameter missing is refused with its help", "[plugins]") {
  REQUIRE_THROWS_WITH(parse({}), Contains("needs parameter 'model' (string: which model)"));
}

TEST_CASE("values that do not parse as their type are refused naming the parameter and its type", "[plugins]") {
  REQUIRE_THROWS_WITH(parse({"model=m", "count=3.5"}), Contains("parameter 'count' (int)") && Contains("'3.5' is not an integer"));
  REQUIRE_THROWS_WITH(parse({"model=m", "scale=inf"}), Contains("'inf' is not a finite number"));
  REQUIRE_THROWS_WITH(parse({"model=m", "loud=maybe"}), Contains("'maybe' is not a bool"));
  REQUIRE_THROWS_WITH(parse({"model=m", "lengths=1,,2"}),
                      Contains("parameter 'lengths' (list of int)") && Contains("empty element 2"));
  REQUIRE_THROWS_WITH(parse({"model=m", "count"}), Contains("'count' is not name=value"));
  REQUIRE_THROWS_WITH(parse({"model=m", "count=99999999999999999999"}), Contains("is not an integer"));
}

TEST_CASE("parameter differences name each differing value before and now", "[plugins]") {
  const nlohmann::json before = {{"count", 3}, {"lengths", {512}}, {"old", true}};
  const nlohmann::json now = {{"count", 3}, {"lengths", {512, 1024}}, {"new", 1}};
  const auto diff = attnscope::plugins::parameter_differences(before, now);
  REQUIRE(diff.size() == 3);
  CHECK(diff[0] == "lengths: [512] (before) vs [512,1024] (now)");
  CHECK(diff[1] == "new: \"(none)\" (before) vs 1 (now)");
  CHECK(diff[2] == "old: true (before) vs \"(none)\" (now)");
  CHECK(attnscope::plugins::parameter_differences(before, before).empty());
}

TEST_CASE("a string value or list element that is not UTF-8 is refused before the job starts", "[plugins]") {
  CHECK_THROWS_WITH(parse({"model=\xff\xfe"}), Contains("p.grid parameter 'model' (string): the value is not UTF-8 text"));
  JobInfo names;
  names.name = "names";
  names.parameters = {{"list", ParamType::List, ParamType::String, "", ""}};
  CHECK_THROWS_WITH(JobParameters::parse("p.names", names, std::vector<std::string>{"list=ok,\xc3"}), Contains("not UTF-8"));
  const auto p = JobParameters::parse("p.names", names, std::vector<std::string>{"list=caf\xc3\xa9,\xe6\xbc\xa2"});
  CHECK(p.to_json().dump() == "{\"list\":[\"caf\xc3\xa9\",\"\xe6\xbc\xa2\"]}");
}
