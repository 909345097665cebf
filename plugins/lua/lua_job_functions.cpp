// The attnscope module's functions for the store (runs, units, values read back),
// progress, cancellation, the log, files in the output folder and JSON.
#include <cmath>

#include "plugins/lua/lua_handles.h"
#include "plugins/lua/lua_values.h"

namespace attnscope::lua_plugin {
namespace {

namespace ps = plugin_support;

// ---- the store ----------------------------------------------------------------------

int begin_run(lua_State* L) {
  attnscope_run* run = job_of(L).begin_run(borrow_model(L, 1));
  auto* box = static_cast<RunBox*>(lua_newuserdatauv(L, sizeof(RunBox), 0));
  box->run = run;  // runs have no release: the host ends them when the job returns
  luaL_setmetatable(L, kRunType);
  return 1;
}

int run_id(lua_State* L) {
  lua_pushinteger(L, job_of(L).run_id(run_at(L, 1)));
  return 1;
}

int run_done(lua_State* L) {
  lua_pushboolean(L, job_of(L).unit_done(run_at(L, 1), luaL_checkinteger(L, 2)));
  return 1;
}

// run:commit{ordinal=, task=, parameters={}, outcome={}, prompt=, values=}
int run_commit(lua_State* L) {
  attnscope_run* run = run_at(L, 1);
  const Options o(L, 2, "commit", {"ordinal", "task", "parameters", "outcome", "prompt", "values"});
  ps::Unit unit;
  const auto ordinal = o.integer("ordinal");
  const auto task = o.text("task");
  if (!ordinal || !task) luaL_error(L, "commit: give the unit's ordinal and task");
  unit.ordinal = *ordinal;
  unit.task = *task;
  for (const char* key : {"parameters", "outcome"}) {
    lua_getfield(L, 2, key);
    if (!lua_isnil(L, -1)) {
      nlohmann::json value = to_json(L, -1);
      if (value.is_array() || !value.is_object()) luaL_error(L, "commit: %s must be a table with named fields", key);
      (std::string(key) == "parameters" ? unit.parameters : unit.outcome) = std::move(value);
    }
    lua_pop(L, 1);
  }
  if (lua_getfield(L, 2, "prompt") != LUA_TNIL) unit.prompt = prompt_at(L, -1);
  lua_pop(L, 1);
  if (lua_getfield(L, 2, "values") != LUA_TNIL) unit.values = head_values(L, -1, "commit values");
  lua_pop(L, 1);
  job_of(L).commit_unit(run, unit);
  return 0;
}

int run_record(lua_State* L) {
  attnscope_run* run = run_at(L, 1);
  job_of(L).record_run_values(run, head_values(L, 2, "record"));
  return 0;
}

int read_values(lua_State* L) {
  push_result(L, job_of(L).read_values(luaL_checkinteger(L, 1), luaL_optinteger(L, 2, -1)));
  return 1;
}

// ---- progress, log, files -------------------------------------------------------------

int progress(lua_State* L) {
  job_of(L).progress(luaL_checknumber(L, 1), luaL_optstring(L, 2, ""));
  return 0;
}

int cancelled(lua_State* L) {
  lua_pushboolean(L, job_of(L).cancelled());
  return 1;
}

// log(message) or log(level, message); level "debug", "info", "warning" or "error".
int log(lua_State* L) {
  int32_t level = ATTNSCOPE_LOG_INFO;
  if (lua_gettop(L) >= 2) {
    const std::string name = luaL_checkstring(L, 1);
    level = name == "debug" ? ATTNSCOPE_LOG_DEBUG : name == "info" ? ATTNSCOPE_LOG_INFO
            : name == "warning" ? ATTNSCOPE_LOG_WARNING : name == "error" ? ATTNSCOPE_LOG_ERROR : -1;
    if (level < 0) luaL_error(L, "log: level is debug, info, warning or error, not '%s'", name.c_str());
  }
  job_of(L).log(level, luaL_checkstring(L, lua_gettop(L) >= 2 ? 2 : 1));
  return 0;
}

int write_file(lua_State* L) {
  size_t size = 0;
  const std::string name = luaL_checkstring(L, 1);
  const char* data = luaL_checklstring(L, 2, &size);
  job_of(L).write_file(name, std::string(data, size));
  return 0;
}

// write_png(name, width, height, channels, pixels): pixels a string of width * height * channels bytes.
int write_png(lua_State* L) {
  const std::string name = luaL_checkstring(L, 1);
  const lua_Integer width = luaL_checkinteger(L, 2), height = luaL_checkinteger(L, 3), channels = luaL_checkinteger(L, 4);
  size_t size = 0;
  const char* pixels = luaL_checklstring(L, 5, &size);
  if (width < 1 || height < 1 || width > (1 << 24) || height > (1 << 24) || channels < 1 || channels > 4 ||
      uint64_t(width) * uint64_t(height) * uint64_t(channels) != size)
    luaL_error(L, "write_png: %d bytes of pixels are not %d x %d x %d", int(size), int(width), int(height), int(channels));
  job_of(L).write_png(name, uint32_t(width), uint32_t(height), uint32_t(channels),
                      std::vector<uint8_t>(pixels, pixels + size));
  return 0;
}

int output_folder(lua_State* L) {
  lua_pushstring(L, job_of(L).output_folder().c_str());
  return 1;
}

int data_folder(lua_State* L) {
  lua_pushstring(L, job_of(L).data_folder().c_str());
  return 1;
}

int json_encode(lua_State* L) {
  const nlohmann::json value = to_json(L, 1);
  const lua_Integer indent = luaL_optinteger(L, 2, -1);
  const std::string text = value.dump(int(indent), ' ', false, nlohmann::json::error_handler_t::replace);
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int json_decode(lua_State* L) {
  size_t size = 0;
  const char* text = luaL_checklstring(L, 1, &size);
  push_json(L, nlohmann::json::parse(text, text + size));
  return 1;
}

}  // namespace

const luaL_Reg kRunMethods[] = {{"id", guarded<run_id>},
                                {"done", guarded<run_done>},
                                {"commit", guarded<run_commit>},
                                {"record", guarded<run_record>},
                                {nullptr, nullptr}};

const luaL_Reg kStoreFunctions[] = {{"begin_run", guarded<begin_run>}, {"read", guarded<read_values>}, {nullptr, nullptr}};

const luaL_Reg kJobFunctions[] = {{"progress", guarded<progress>},
                                  {"cancelled", guarded<cancelled>},
                                  {"log", guarded<log>},
                                  {"write_file", guarded<write_file>},
                                  {"write_png", guarded<write_png>},
                                  {"output_folder", guarded<output_folder>},
                                  {"data_folder", guarded<data_folder>},
                                  {"json_encode", guarded<json_encode>},
                                  {"json_decode", guarded<json_decode>},
                                  {nullptr, nullptr}};

}  // namespace attnscope::lua_plugin
