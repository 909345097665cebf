#pragma once
// What the attnscope module's functions share: the handles' userdata (a host handle, null
// once released), their metatable names, and the job behind the state.
#include <lua5.4/lua.hpp>

#include "plugins/lua/lua_sandbox.h"
#include "plugins/support/plugin_job.h"

namespace attnscope::lua_plugin {

inline constexpr const char* kModelType = "attnscope.model";
inline constexpr const char* kPromptType = "attnscope.prompt";
inline constexpr const char* kRunType = "attnscope.run";

struct ModelBox {
  attnscope_model* model;
};
struct PromptBox {
  attnscope_prompt* prompt;
};
struct RunBox {
  attnscope_run* run;
};

inline plugin_support::PluginJob& job_of(lua_State* L) { return lua_job(L).job; }

// A live model at `index`; a Lua error for another type or a released one.
inline attnscope_model* model_at(lua_State* L, int index) {
  auto* box = static_cast<ModelBox*>(luaL_checkudata(L, index, kModelType));
  if (!box->model) luaL_error(L, "the model was released");
  return box->model;
}

inline attnscope_prompt* prompt_at(lua_State* L, int index) {
  auto* box = static_cast<PromptBox*>(luaL_checkudata(L, index, kPromptType));
  if (!box->prompt) luaL_error(L, "the prompt was released");
  return box->prompt;
}

inline attnscope_run* run_at(lua_State* L, int index) {
  return static_cast<RunBox*>(luaL_checkudata(L, index, kRunType))->run;
}

// The Lua-owned model at `index` for PluginJob's methods (borrowed: Lua releases it).
inline plugin_support::ModelHandle borrow_model(lua_State* L, int index) {
  return plugin_support::ModelHandle(job_of(L), model_at(L, index), false);
}

// The module's functions for the store, progress, the log and files
// (lua_job_functions.cpp), each wrapped by guarded; null-terminated.
extern const luaL_Reg kRunMethods[];
extern const luaL_Reg kStoreFunctions[];
extern const luaL_Reg kJobFunctions[];

}  // namespace attnscope::lua_plugin
