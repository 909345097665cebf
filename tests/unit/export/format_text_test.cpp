// The text pieces the formats share: floats as Python's repr writes them (the originals'
// writers are Python), NumPy's %.18e, and JSON in Python's layout.
#include <catch2/catch.hpp>

#include "analysis/export/format_text.h"
#include "kernels/error.h"

namespace ex = attnscope::exports;
using Catch::Contains;

TEST_CASE("Floats are written as Python's repr writes them", "[export]") {
  CHECK(ex::python_number(0.0) == "0.0");
  CHECK(ex::python_number(-0.0) == "-0.0");
  CHECK(ex::python_number(1024.0) == "1024.0");
  CHECK(ex::python_number(-1024.0) == "-1024.0");
  CHECK(ex::python_number(0.625) == "0.625");
  CHECK(ex::python_number(0.0001) == "0.0001");
  CHECK(ex::python_number(0.00001) == "1e-05");
  CHECK(ex::python_number(1.5e-7) == "1.5e-07");
  CHECK(ex::python_number(1e15) == "1000000000000000.0");
  CHECK(ex::python_number(1e16) == "1e+16");
  CHECK(ex::python_number(123.456) == "123.456");
  CHECK(ex::python_number(0.1 + 0.2) == "0.30000000000000004");
}

TEST_CASE("Of two shortest digit strings Python's repr takes the one closest to the value", "[export]") {
  // 0.97251129150390625 exactly: ...062 and ...063 both read back; ...062 is closer.
  CHECK(ex::python_number(0.97251129150390625) == "0.9725112915039062");
}

TEST_CASE("NumPy's default savetxt format is %.18e", "[export]") {
  CHECK(ex::numpy_e18(0.859375) == "8.593750000000000000e-01");
  CHECK(ex::numpy_e18(-9.250640869140625e-05) == "-9.250640869140625000e-05");
  CHECK(ex::numpy_e18(1.0) == "1.000000000000000000e+00");
}

TEST_CASE("JSON is laid out as Python's json.dumps lays it out", "[export]") {
  nlohmann::ordered_json doc;
  doc["b"] = nlohmann::ordered_json::array({1, 2.5, "x", nullptr});
  doc["a"] = nlohmann::ordered_json::object();
  CHECK(ex::python_json(doc) == R"({"b": [1, 2.5, "x", null], "a": {}})");
  CHECK(ex::python_json(doc, 2) == "{\n  \"b\": [\n    1,\n    2.5,\n    \"x\",\n    null\n  ],\n  \"a\": {}\n}");
}

TEST_CASE("Malformed JSON is refused naming the file, with a word on NaN", "[export]") {
  CHECK_THROWS_WITH(ex::parse_json_text("{\"a\": [1, 2", "f.json"), Contains("f.json: is not valid JSON"));
  CHECK_THROWS_WITH(ex::parse_json_text("[NaN]", "f.json"), Contains("NaN and Infinity"));
}

TEST_CASE("An index is a plain decimal below its limit", "[export]") {
  CHECK(ex::parse_index("0", 4) == 0);
  CHECK(ex::parse_index("3", 4) == 3);
  CHECK_FALSE(ex::parse_index("4", 4).has_value());
  CHECK_FALSE(ex::parse_index("01", 4).has_value());
  CHECK_FALSE(ex::parse_index("-1", 4).has_value());
  CHECK_FALSE(ex::parse_index(" 1", 4).has_value());
  CHECK_FALSE(ex::parse_index("", 4).has_value());
}
