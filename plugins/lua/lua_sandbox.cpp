#include "plugins/lua/lua_sandbox.h"

#include <cstdlib>
#include <cstring>

#include "plugins/lua/lua_module.h"

namespace attnscope::lua_plugin {
namespace {

namespace fs = std::filesystem;

// The allocator: refuses what would take the state past its limit (Lua then raises
// "not enough memory", which the script may catch; the job does not die).
void* limited_alloc(void* user, void* block, size_t old_size, size_t new_size) {
  LuaJob& job = *static_cast<LuaJob*>(user);
  const size_t old = block ? old_size : 0;  // without a block old_size is a type tag
  if (new_size == 0) {
    std::free(block);
    job.memory_used -= old;
    return nullptr;
  }
  if (new_size > old && new_size - old > job.memory_limit - std::min(job.memory_used, job.memory_limit)) return nullptr;
  void* grown = std::realloc(block, new_size);
  if (grown) job.memory_used = job.memory_used - old + new_size;
  return grown;
}

// Every 10000 instructions: stop when the user cancelled. From then on at every
// instruction, so that a script that catches the error with pcall and goes on is
// stopped at its next instruction outside the pcall.
void cancel_hook(lua_State* L, lua_Debug*) {
  LuaJob& job = lua_job(L);
  if (!job.cancelled && !job.job.cancelled()) return;
  job.cancelled = true;
  lua_sethook(L, cancel_hook, LUA_MASKCOUNT, 1);
  luaL_error(L, "cancelled by the user");
}

int print_to_log(lua_State* L) {
  std::string line;
  for (int i = 1, n = lua_gettop(L); i <= n; ++i) {
    line += i > 1 ? "\t" : "";
    line += luaL_tolstring(L, i, nullptr);
    lua_pop(L, 1);
  }
  lua_job(L).job.log(ATTNSCOPE_LOG_INFO, line);
  return 0;
}

// load(chunk [, chunkname [, mode [, env]]]) with mode forced to "t": binary chunks can
// crash the VM, so only text is loaded.
int load_text(lua_State* L) {
  const int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  if (n >= 2) lua_pushvalue(L, 2);
  else lua_pushnil(L);
  lua_pushliteral(L, "t");
  if (n >= 4) lua_pushvalue(L, 4);
  lua_call(L, n >= 4 ? 4 : 3, LUA_MULTRET);
  return lua_gettop(L) - n;
}

bool writes(const char* mode) { return std::strpbrk(mode, "wa+") != nullptr; }

// io.open(name [, mode]) inside the output folder.
int io_open(lua_State* L) {
  const std::string name = luaL_checkstring(L, 1);
  const char* mode = luaL_optstring(L, 2, "r");
  const fs::path path = output_path(L, name);
  if (writes(mode)) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
  }
  const int base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushstring(L, path.c_str());
  lua_pushstring(L, mode);
  lua_call(L, 2, LUA_MULTRET);
  return lua_gettop(L) - base;
}

// io.lines(name, ...) inside the output folder (a name is required: no standard input).
int io_lines(lua_State* L) {
  const std::string name = luaL_checkstring(L, 1);
  const fs::path path = output_path(L, name);
  const int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushstring(L, path.c_str());
  for (int i = 2; i <= n; ++i) lua_pushvalue(L, i);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L) - n;
}

// io.close(file): a file is required (the default output is not the script's).
int io_close(lua_State* L) {
  luaL_checkudata(L, 1, LUA_FILEHANDLE);
  const int base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_call(L, 1, LUA_MULTRET);
  return lua_gettop(L) - base;
}

void remove_field(lua_State* L, int table, const char* name) {
  table = lua_absindex(L, table);
  lua_pushnil(L);
  lua_setfield(L, table, name);
}

// Replaces global `name`'s function with `wrapper`, given the original as its upvalue.
void wrap_global(lua_State* L, const char* name, lua_CFunction wrapper) {
  lua_getglobal(L, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setglobal(L, name);
}

const luaL_Reg kLibraries[] = {{LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
                               {LUA_TABLIBNAME, luaopen_table},  {LUA_MATHLIBNAME, luaopen_math},
                               {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine}};

int open_libraries(lua_State* L) {
  for (const luaL_Reg& lib : kLibraries) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  // base: no file loading, text chunks only, print to the log.
  lua_pushglobaltable(L);
  const int globals = lua_gettop(L);
  remove_field(L, globals, "dofile");
  remove_field(L, globals, "loadfile");
  wrap_global(L, "load", load_text);
  lua_pushcfunction(L, guarded<print_to_log>);
  lua_setglobal(L, "print");
  lua_getglobal(L, "string");
  remove_field(L, -1, "dump");
  lua_pop(L, 1);

  // os: the clock and dates only.
  luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
  lua_createtable(L, 0, 4);
  for (const char* keep : {"clock", "time", "date", "difftime"}) {
    lua_getfield(L, -2, keep);
    lua_setfield(L, -2, keep);
  }
  lua_setglobal(L, "os");
  lua_pop(L, 1);

  // io: files of the output folder only, through the io library's own handles.
  luaL_requiref(L, LUA_IOLIBNAME, luaopen_io, 0);
  const int io = lua_gettop(L);
  lua_createtable(L, 0, 4);
  for (const luaL_Reg& f : {luaL_Reg{"open", guarded<io_open>}, luaL_Reg{"lines", guarded<io_lines>},
                            luaL_Reg{"close", io_close}}) {
    lua_getfield(L, io, f.name);
    lua_pushcclosure(L, f.func, 1);
    lua_setfield(L, -2, f.name);
  }
  lua_getfield(L, io, "type");
  lua_setfield(L, -2, "type");
  lua_setglobal(L, "io");
  lua_pop(L, 1);
  // The loaded-modules table would hand out the full os and io: emptied.
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);

  open_module(L);
  lua_pop(L, 1);  // the global table
  return 0;
}

}  // namespace

LuaJob& lua_job(lua_State* L) { return **static_cast<LuaJob**>(lua_getextraspace(L)); }

LuaState open_sandbox(LuaJob& job) {
  LuaState state(lua_newstate(limited_alloc, &job));
  if (!state) throw plugin_support::JobFailure(ATTNSCOPE_OUT_OF_MEMORY, "lua: no memory for a Lua state");
  lua_State* L = state.get();
  *static_cast<LuaJob**>(lua_getextraspace(L)) = &job;
  lua_pushcfunction(L, open_libraries);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    const std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "an error without a message";
    throw plugin_support::JobFailure(ATTNSCOPE_ERROR, "lua: cannot set up the Lua state: " + message);
  }
  lua_sethook(L, cancel_hook, LUA_MASKCOUNT, 10000);
  return state;
}

fs::path output_path(lua_State* L, const std::string& name) {
  const LuaJob& job = lua_job(L);
  const fs::path relative(name);
  bool inside = !name.empty() && relative.is_relative();
  for (const auto& part : relative) inside = inside && part != ".." && part != "." && !part.empty();
  if (!inside) luaL_error(L, "'%s' is not a file of the job's output folder (a relative name, no '.' or '..')", name.c_str());
  const fs::path path = job.output_folder / relative;
  // A symbolic link in the folder must not lead out of it.
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(path, ec);
  const std::string root = job.output_folder.string() + "/";
  if (ec || resolved.string().compare(0, root.size(), root) != 0)
    luaL_error(L, "'%s' leads out of the job's output folder", name.c_str());
  return resolved;
}

}  // namespace attnscope::lua_plugin
