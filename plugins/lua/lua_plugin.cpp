// lua: runs a user's Lua 5.4 script (Debian's liblua5.4, its C++ build) with the host's
// services as the `attnscope` module, so that a batch profile is a few lines of script
// (examples in plugins/lua/examples/, the module in docs/plugins.md). The script is a
// file (`script`) or text (`code`); `args` become the global `arg` (arg[1..n], and
// arg.key for each key=value). The state is a sandbox (lua_sandbox.h): no processes, no
// native libraries, files only inside the job's output folder, memory capped at
// `memory_mb`. A Lua error fails the job with its message, which names the script's file
// and line; the traceback goes to the log. Cancelling stops the script within 10000 Lua
// instructions or inside the service under way.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "attnscope/plugin.h"
#include "plugins/lua/lua_sandbox.h"
#include "plugins/support/plugin_job.h"

namespace {

namespace ps = attnscope::plugin_support;
namespace lp = attnscope::lua_plugin;

// The script's text (a "#!" first line becomes a comment, as the lua program skips it).
std::string read_script(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ps::JobFailure(ATTNSCOPE_INVALID_ARGUMENT, "script " + path + ": cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ps::JobFailure(ATTNSCOPE_ERROR, "script " + path + ": cannot be read");
  std::string s = text.str();
  if (s.rfind("#", 0) == 0) s.replace(0, 1, "--");
  return s;
}

// Appends the traceback to the error message (for the log).
int traceback(lua_State* L) {
  const char* message = lua_tostring(L, 1);
  luaL_traceback(L, L, message ? message : "(an error object that is not a string)", 1);
  return 1;
}

void set_args(lua_State* L, const std::vector<std::string>& args) {
  lua_createtable(L, int(args.size()), 0);
  for (size_t i = 0; i < args.size(); ++i) {
    lua_pushstring(L, args[i].c_str());
    lua_rawseti(L, -2, lua_Integer(i + 1));
    const size_t equals = args[i].find('=');
    if (equals != std::string::npos && equals > 0) {
      lua_pushstring(L, args[i].substr(equals + 1).c_str());
      lua_setfield(L, -2, args[i].substr(0, equals).c_str());
    }
  }
  lua_setglobal(L, "arg");
}

void run_script(ps::PluginJob& job) {
  const std::string script = job.param_string("script");
  const std::string code = job.param_string("code");
  const std::vector<std::string> args = job.param_strings("args");
  const int64_t memory_mb = job.param_int("memory_mb");
  if (script.empty() == code.empty())
    throw ps::JobFailure(ATTNSCOPE_INVALID_ARGUMENT, "give a script file (script=FILE) or Lua code (code=...), one of them");
  if (memory_mb < 1 || memory_mb > (int64_t(1) << 20))
    throw ps::JobFailure(ATTNSCOPE_INVALID_ARGUMENT, "memory_mb must be from 1 to 1048576");

  lp::LuaJob state(job);
  std::error_code ec;
  state.output_folder = std::filesystem::canonical(job.output_folder(), ec);
  if (ec) throw ps::JobFailure(ATTNSCOPE_ERROR, "the output folder " + job.output_folder() + ": " + ec.message());
  state.memory_limit = size_t(memory_mb) << 20;
  const std::string text = script.empty() ? code : read_script(script);
  const std::string chunk_name = script.empty() ? "=code" : "@" + script;

  lp::LuaState lua = lp::open_sandbox(state);
  lua_State* L = lua.get();
  job.progress(0, script.empty() ? "running the code" : "running " + script);
  if (luaL_loadbufferx(L, text.data(), text.size(), chunk_name.c_str(), "t") != LUA_OK)
    throw ps::JobFailure(ATTNSCOPE_INVALID_ARGUMENT, lua_tostring(L, -1));  // "file:line: syntax error ..."
  set_args(L, args);
  lua_pushcfunction(L, traceback);
  lua_insert(L, -2);
  const int status = lua_pcall(L, 0, 0, -2);
  if (status == LUA_ERRMEM)  // no traceback: the handler does not run without memory
    throw ps::JobFailure(ATTNSCOPE_OUT_OF_MEMORY, "lua: the script needed more than its " + std::to_string(memory_mb) +
                                                      " MiB (memory_mb)");
  if (status != LUA_OK) {
    const std::string report = lua_tostring(L, -1) ? lua_tostring(L, -1) : "a Lua error";
    const size_t traceback_at = report.find("\nstack traceback:");
    const std::string message = report.substr(0, traceback_at);
    if (state.cancelled || job.cancelled()) throw ps::JobFailure(ATTNSCOPE_CANCELLED, message);
    if (traceback_at != std::string::npos) job.log(ATTNSCOPE_LOG_INFO, "Lua " + report.substr(traceback_at + 1));
    throw ps::JobFailure(ATTNSCOPE_ERROR, message);
  }
  // A script that caught the cancellation (pcall) to its end did not complete its work.
  if (state.cancelled) throw ps::JobFailure(ATTNSCOPE_CANCELLED, "cancelled by the user");
  job.progress(1, "the script ended");
}

attnscope_status run_lua(const attnscope_host_services* host, attnscope_job* job, void*) {
  return ps::run_job_body(host, job, "lua", run_script);
}

const attnscope_param_spec kParams[] = {
    {"script", ATTNSCOPE_PARAM_STRING, 0, "", "the Lua script to run (a file)"},
    {"code", ATTNSCOPE_PARAM_STRING, 0, "", "Lua code to run instead of a script file"},
    {"args", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_STRING, "", "the script's arguments: arg[1..n], and arg.key for key=value"},
    {"memory_mb", ATTNSCOPE_PARAM_INT, 0, "1024", "the most memory the Lua state may hold, MiB"},
};

const attnscope_job_spec kJobs[] = {
    {"run", "a Lua script with the attnscope module (docs/plugins.md)", kParams, sizeof kParams / sizeof kParams[0], 0,
     run_lua, nullptr},
};

const attnscope_plugin_descriptor kDescriptor = {ATTNSCOPE_PLUGIN_ABI_VERSION, 0, "lua", "1.0.0",
                                                 "Lua 5.4 scripts over the plugin services (sandboxed)", kJobs,
                                                 sizeof kJobs / sizeof kJobs[0]};

}  // namespace

ATTNSCOPE_PLUGIN_ENTRY_RETURNING(kDescriptor)
