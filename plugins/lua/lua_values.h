#pragma once
// Values between Lua and the plugin's C++: JSON to Lua tables and back (the services'
// summaries, units' parameters and outcomes, attnscope.json_*), results as Lua tables,
// head values from Lua, and option tables read with their keys checked. Built on the C++
// build of Lua 5.4 (liblua5.4-c++), whose errors are C++ exceptions: a luaL_error here
// unwinds through C++ frames safely.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <lua5.4/lua.hpp>
#include <nlohmann/json.hpp>

#include "plugins/support/plugin_job.h"

namespace attnscope::lua_plugin {

// Pushes `value`: objects as tables with string keys, arrays as sequences (1-based),
// null as nil (a hole in a sequence), numbers as integers when they are.
void push_json(lua_State* L, const nlohmann::json& value);
// The value at `index` as JSON: a table whose keys are 1..n is an array (an empty table
// an object), other tables objects (keys as strings); a Lua error for functions,
// userdata, cycles or nesting deeper than 64.
nlohmann::json to_json(lua_State* L, int index);

// {values = {{layer=, head=, metric=, value= | text=}, ...}, summary = {...}}
void push_result(lua_State* L, const plugin_support::ResultData& result);
// A list of {layer=, head=, metric=, value= | text=} (or a result table: its values).
std::vector<plugin_support::HeadValue> head_values(lua_State* L, int index, const char* what);

// An option table at `index` (or nil/none: no options): a Lua error naming `what` and
// the allowed keys for any other key, and for a value of the wrong type.
class Options {
 public:
  Options(lua_State* L, int index, const char* what, std::initializer_list<const char*> keys);
  bool has(const char* key) const;
  std::optional<int64_t> integer(const char* key) const;
  std::optional<double> number(const char* key) const;
  std::optional<std::string> text(const char* key) const;
  std::optional<bool> boolean(const char* key) const;
  // A number or a list of numbers.
  std::optional<std::vector<int64_t>> integers(const char* key) const;
  std::optional<std::vector<double>> numbers(const char* key) const;
  // A string or a list of strings.
  std::optional<std::vector<std::string>> texts(const char* key) const;

 private:
  // Pushes the key's value; false (nothing pushed) when absent.
  bool push(const char* key) const;
  [[noreturn]] void wrong(const char* key, const char* expected) const;

  lua_State* L_;
  int index_ = 0;  // absolute; 0 when there is no table
  std::string what_;
};

}  // namespace attnscope::lua_plugin
