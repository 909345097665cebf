#include "plugins/lua/lua_values.h"

#include <cmath>
#include <set>

namespace attnscope::lua_plugin {

void push_json(lua_State* L, const nlohmann::json& value) {
  luaL_checkstack(L, 4, "JSON nested too deeply");
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      lua_createtable(L, 0, int(value.size()));
      for (const auto& [key, item] : value.items()) {
        push_json(L, item);
        lua_setfield(L, -2, key.c_str());
      }
      return;
    case nlohmann::json::value_t::array: {
      lua_createtable(L, int(value.size()), 0);
      lua_Integer i = 1;
      for (const auto& item : value) {
        push_json(L, item);
        lua_rawseti(L, -2, i++);
      }
      return;
    }
    case nlohmann::json::value_t::string: lua_pushstring(L, value.get_ref<const std::string&>().c_str()); return;
    case nlohmann::json::value_t::boolean: lua_pushboolean(L, value.get<bool>()); return;
    case nlohmann::json::value_t::number_integer: lua_pushinteger(L, value.get<int64_t>()); return;
    case nlohmann::json::value_t::number_unsigned: lua_pushinteger(L, lua_Integer(value.get<uint64_t>())); return;
    case nlohmann::json::value_t::number_float: lua_pushnumber(L, value.get<double>()); return;
    default: lua_pushnil(L); return;
  }
}

namespace {

nlohmann::json to_json_at(lua_State* L, int index, int depth, std::set<const void*>& open) {
  index = lua_absindex(L, index);
  switch (lua_type(L, index)) {
    case LUA_TNIL: return nullptr;
    case LUA_TBOOLEAN: return lua_toboolean(L, index) != 0;
    case LUA_TNUMBER:
      if (lua_isinteger(L, index)) return int64_t(lua_tointeger(L, index));
      if (!std::isfinite(lua_tonumber(L, index))) return nullptr;  // JSON has no NaN or infinity
      return lua_tonumber(L, index);
    case LUA_TSTRING: {
      size_t n = 0;
      const char* s = lua_tolstring(L, index, &n);
      return std::string(s, n);
    }
    case LUA_TTABLE: break;
    default: luaL_error(L, "JSON: a %s value has no JSON form", luaL_typename(L, index)); return nullptr;
  }
  if (depth > 64) luaL_error(L, "JSON: tables nested deeper than 64");
  const void* table = lua_topointer(L, index);
  if (!open.insert(table).second) luaL_error(L, "JSON: a table contains itself");
  luaL_checkstack(L, 4, "JSON nested too deeply");
  const lua_Integer length = lua_Integer(lua_rawlen(L, index));
  lua_Integer keys = 0;
  bool sequence = length > 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    ++keys;
    if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 || lua_tointeger(L, -2) > length) sequence = false;
    lua_pop(L, 1);
  }
  nlohmann::json out;
  if (sequence && keys == length) {
    out = nlohmann::json::array();
    for (lua_Integer i = 1; i <= length; ++i) {
      lua_rawgeti(L, index, i);
      out.push_back(to_json_at(L, -1, depth + 1, open));
      lua_pop(L, 1);
    }
  } else {
    out = nlohmann::json::object();
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
      std::string key;
      if (lua_type(L, -2) == LUA_TSTRING) key = lua_tostring(L, -2);
      else if (lua_isinteger(L, -2)) key = std::to_string(lua_tointeger(L, -2));
      else if (lua_type(L, -2) == LUA_TNUMBER) key = std::to_string(lua_tonumber(L, -2));
      else luaL_error(L, "JSON: a %s key has no JSON form", luaL_typename(L, -2));
      out[key] = to_json_at(L, -1, depth + 1, open);
      lua_pop(L, 1);
    }
  }
  open.erase(table);
  return out;
}

}  // namespace

nlohmann::json to_json(lua_State* L, int index) {
  std::set<const void*> open;
  return to_json_at(L, index, 0, open);
}

void push_result(lua_State* L, const plugin_support::ResultData& result) {
  lua_createtable(L, 0, 2);
  lua_createtable(L, int(result.values.size()), 0);
  lua_Integer i = 1;
  for (const plugin_support::HeadValue& v : result.values) {
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, v.layer);
    lua_setfield(L, -2, "layer");
    lua_pushinteger(L, v.head);
    lua_setfield(L, -2, "head");
    lua_pushstring(L, v.metric.c_str());
    lua_setfield(L, -2, "metric");
    if (v.text) {
      lua_pushstring(L, v.text->c_str());
      lua_setfield(L, -2, "text");
    } else if (!std::isnan(v.value)) {  // an undefined value stays nil
      lua_pushnumber(L, v.value);
      lua_setfield(L, -2, "value");
    }
    lua_rawseti(L, -2, i++);
  }
  lua_setfield(L, -2, "values");
  push_json(L, result.summary);
  lua_setfield(L, -2, "summary");
}

std::vector<plugin_support::HeadValue> head_values(lua_State* L, int index, const char* what) {
  index = lua_absindex(L, index);
  luaL_checktype(L, index, LUA_TTABLE);
  if (lua_getfield(L, index, "values") == LUA_TTABLE) index = lua_absindex(L, -1);  // a result table
  else lua_pop(L, 1);
  std::vector<plugin_support::HeadValue> out;
  const lua_Integer n = lua_Integer(lua_rawlen(L, index));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, i);
    if (!lua_istable(L, -1)) luaL_error(L, "%s: item %d is not a table {layer=, head=, metric=, value=}", what, int(i));
    const Options v(L, -1, what, {"layer", "head", "metric", "value", "text"});
    plugin_support::HeadValue h;
    const auto layer = v.integer("layer"), head = v.integer("head");
    const auto metric = v.text("metric");
    if (!layer || !head || !metric) luaL_error(L, "%s: item %d needs layer, head and metric", what, int(i));
    h.layer = int(*layer);
    h.head = int(*head);
    h.metric = *metric;
    h.text = v.text("text");
    h.value = h.text ? NAN : v.number("value").value_or(NAN);
    out.push_back(std::move(h));
    lua_pop(L, 1);
  }
  return out;
}

Options::Options(lua_State* L, int index, const char* what, std::initializer_list<const char*> keys)
    : L_(L), what_(what) {
  if (lua_isnoneornil(L, index)) return;
  index_ = lua_absindex(L, index);
  if (!lua_istable(L, index_)) luaL_error(L, "%s: expected a table of options, got a %s", what, luaL_typename(L, index_));
  lua_pushnil(L);
  while (lua_next(L, index_) != 0) {
    bool known = false;
    if (lua_type(L, -2) == LUA_TSTRING)
      for (const char* k : keys) known = known || std::string(k) == lua_tostring(L, -2);
    if (!known) {
      std::string list;
      for (const char* k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
      const std::string key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2);
      luaL_error(L, "%s: unknown option '%s' (its options: %s)", what, key.c_str(), list.c_str());
    }
    lua_pop(L, 1);
  }
}

bool Options::push(const char* key) const {
  if (index_ == 0) return false;
  if (lua_getfield(L_, index_, key) == LUA_TNIL) {
    lua_pop(L_, 1);
    return false;
  }
  return true;
}

void Options::wrong(const char* key, const char* expected) const {
  luaL_error(L_, "%s: option '%s' must be %s, not a %s", what_.c_str(), key, expected, luaL_typename(L_, -1));
  __builtin_unreachable();  // luaL_error throws (Lua's C++ build)
}

bool Options::has(const char* key) const {
  if (!push(key)) return false;
  lua_pop(L_, 1);
  return true;
}

std::optional<int64_t> Options::integer(const char* key) const {
  if (!push(key)) return std::nullopt;
  int is = 0;
  const lua_Integer v = lua_tointegerx(L_, -1, &is);
  if (!is) wrong(key, "an integer");
  lua_pop(L_, 1);
  return int64_t(v);
}

std::optional<double> Options::number(const char* key) const {
  if (!push(key)) return std::nullopt;
  if (lua_type(L_, -1) != LUA_TNUMBER) wrong(key, "a number");
  const double v = lua_tonumber(L_, -1);
  lua_pop(L_, 1);
  return v;
}

std::optional<std::string> Options::text(const char* key) const {
  if (!push(key)) return std::nullopt;
  if (lua_type(L_, -1) != LUA_TSTRING) wrong(key, "a string");
  std::string v = lua_tostring(L_, -1);
  lua_pop(L_, 1);
  return v;
}

std::optional<bool> Options::boolean(const char* key) const {
  if (!push(key)) return std::nullopt;
  if (lua_type(L_, -1) != LUA_TBOOLEAN) wrong(key, "true or false");
  const bool v = lua_toboolean(L_, -1) != 0;
  lua_pop(L_, 1);
  return v;
}

std::optional<std::vector<int64_t>> Options::integers(const char* key) const {
  const auto all = numbers(key);
  if (!all) return std::nullopt;
  std::vector<int64_t> out;
  for (double v : *all) {
    if (v != std::floor(v) || std::abs(v) > 9.0e15) luaL_error(L_, "%s: option '%s' must hold integers", what_.c_str(), key);
    out.push_back(int64_t(v));
  }
  return out;
}

std::optional<std::vector<double>> Options::numbers(const char* key) const {
  if (!push(key)) return std::nullopt;
  std::vector<double> out;
  if (lua_type(L_, -1) == LUA_TNUMBER) {
    out.push_back(lua_tonumber(L_, -1));
  } else if (lua_istable(L_, -1)) {
    for (lua_Integer i = 1, n = lua_Integer(lua_rawlen(L_, -1)); i <= n; ++i) {
      if (lua_rawgeti(L_, -1, i) != LUA_TNUMBER) wrong(key, "a number or a list of numbers");
      out.push_back(lua_tonumber(L_, -1));
      lua_pop(L_, 1);
    }
  } else {
    wrong(key, "a number or a list of numbers");
  }
  lua_pop(L_, 1);
  return out;
}

std::optional<std::vector<std::string>> Options::texts(const char* key) const {
  if (!push(key)) return std::nullopt;
  std::vector<std::string> out;
  if (lua_type(L_, -1) == LUA_TSTRING) {
    out.emplace_back(lua_tostring(L_, -1));
  } else if (lua_istable(L_, -1)) {
    for (lua_Integer i = 1, n = lua_Integer(lua_rawlen(L_, -1)); i <= n; ++i) {
      if (lua_rawgeti(L_, -1, i) != LUA_TSTRING) wrong(key, "a string or a list of strings");
      out.emplace_back(lua_tostring(L_, -1));
      lua_pop(L_, 1);
    }
  } else {
    wrong(key, "a string or a list of strings");
  }
  lua_pop(L_, 1);
  return out;
}

}  // namespace attnscope::lua_plugin
