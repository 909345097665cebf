#pragma once
// The Lua state a script runs in (docs/plugins.md, "The lua plugin"): Lua 5.4 with base,
// string, table, math, utf8 and coroutine; os only for clock, time, date and difftime;
// io only for files inside the job's output folder (io.open, io.lines, io.close,
// io.type); no package / require, no debug, no dofile / loadfile, load of text only,
// print to the job's log. Memory is capped by the allocator, and a count hook stops a
// running script when the user cancels.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include <lua5.4/lua.hpp>

#include "plugins/support/plugin_job.h"

namespace attnscope::lua_plugin {

// What the module's functions and the hooks reach through the state's extra space.
struct LuaJob {
  explicit LuaJob(plugin_support::PluginJob& j) : job(j) {}
  plugin_support::PluginJob& job;
  std::filesystem::path output_folder;  // canonical: where io may open files
  size_t memory_limit = 0;              // bytes the state may hold
  size_t memory_used = 0;
  bool cancelled = false;               // the script stopped because the user cancelled
};

LuaJob& lua_job(lua_State* L);

struct StateCloser {
  void operator()(lua_State* L) const { lua_close(L); }
};
using LuaState = std::unique_ptr<lua_State, StateCloser>;

// A new sandboxed state for `job` with the attnscope module as a global; JobFailure when
// it cannot be built (no memory).
LuaState open_sandbox(LuaJob& job);

// `name` inside the output folder (relative, no "." or "..", and no symbolic link leading
// out): the path to open; a Lua error otherwise.
std::filesystem::path output_path(lua_State* L, const std::string& name);

// Runs `body` for a Lua C function: its exceptions (a failing service: JobFailure; JSON
// errors, std::bad_alloc) become Lua errors with the script's position, so that a
// script can pcall a service; a cancelled service marks the job cancelled.
template <int (*body)(lua_State*)>
int guarded(lua_State* L) {
  std::string message;
  try {
    return body(L);
  } catch (const plugin_support::JobFailure& e) {
    if (e.status() == ATTNSCOPE_CANCELLED) lua_job(L).cancelled = true;
    message = e.what();
  } catch (const std::exception& e) {  // Lua's own errors are not std::exceptions: they pass
    message = e.what();
  }
  return luaL_error(L, "%s", message.c_str());
}

}  // namespace attnscope::lua_plugin
