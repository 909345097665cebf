#pragma once
// The `attnscope` Lua module: the host's services for scripts (docs/plugins.md, "The lua
// plugin" lists every function). Models, prompts and runs are userdata released when
// collected (or when the state closes at the job's end); results are plain tables
// {values = {...}, summary = {...}}.
#include <lua5.4/lua.hpp>

namespace attnscope::lua_plugin {

// Sets the global `attnscope` (and the handles' metatables). Called while the sandbox
// is built, inside a protected call.
void open_module(lua_State* L);

}  // namespace attnscope::lua_plugin
