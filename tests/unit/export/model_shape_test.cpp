// The model shape every profile is checked against: read from config.json, with errors
// naming the file and the key.
#include <catch2/catch.hpp>

#include "analysis/export/model_shape.h"
#include "export_test_support.h"
#include "kernels/error.h"

namespace ex = attnscope::exports;
using namespace attnscope::exports::testing;
using Catch::Contains;

TEST_CASE("The model shape comes from config.json's layer and head counts", "[export]") {
  const ex::ModelShape s = real_model("Qwen2.5-7B-Instruct-1M");
  CHECK(s.layers == 28);
  CHECK(s.heads == 28);
  CHECK(s.kv_heads == 4);
  CHECK(s.group_size() == 7);
  CHECK(s.kv_head_of(13) == 1);
  CHECK(s.name == "Qwen/Qwen2.5-7B-Instruct-1M");
  CHECK(s.architecture == "Qwen2ForCausalLM");
}

TEST_CASE("A config.json without num_key_value_heads has one KV head per query head", "[export]") {
  const ex::ModelShape s = ex::model_shape_from_config({{"num_hidden_layers", 2}, {"num_attention_heads", 4}}, "c.json", "m");
  CHECK(s.kv_heads == 4);
  CHECK(s.name == "m");
}

TEST_CASE("The bundled sample model's shape is 8 layers of 8 query and 2 KV heads", "[export]") {
  const ex::ModelShape s = ex::read_model_shape(std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama");
  CHECK(s.layers == 8);
  CHECK(s.heads == 8);
  CHECK(s.kv_heads == 2);
  CHECK(s.name == "sample-llama");
}

TEST_CASE("A config.json with bad counts is refused naming the file and the key", "[export]") {
  CHECK_THROWS_WITH(ex::model_shape_from_config({{"num_attention_heads", 4}}, "c.json", "m"),
                    "c.json: \"num_hidden_layers\" is missing");
  CHECK_THROWS_WITH(ex::model_shape_from_config({{"num_hidden_layers", 2}, {"num_attention_heads", 6}, {"num_key_value_heads", 4}},
                                                "c.json", "m"),
                    Contains("c.json: \"num_key_value_heads\" (4) does not divide the 6 attention heads"));
  CHECK_THROWS_WITH(ex::model_shape_from_config({{"num_hidden_layers", "2"}, {"num_attention_heads", 4}}, "c.json", "m"),
                    Contains("\"num_hidden_layers\" must be a positive integer"));
  CHECK_THROWS_WITH(ex::read_model_shape(temp_dir("no_config")), Contains("config.json: the file is missing"));
}
