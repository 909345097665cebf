#include "plugins/lua/lua_module.h"

#include <algorithm>
#include <cmath>

#include "plugins/lua/lua_handles.h"
#include "plugins/lua/lua_sandbox.h"
#include "plugins/lua/lua_values.h"

namespace attnscope::lua_plugin {
namespace {

namespace ps = plugin_support;

// ---- models and prompts ---------------------------------------------------------

int push_model(lua_State* L, attnscope_model* model) {
  auto* box = static_cast<ModelBox*>(lua_newuserdatauv(L, sizeof(ModelBox), 0));
  box->model = model;
  luaL_setmetatable(L, kModelType);
  return 1;
}

int push_prompt(lua_State* L, attnscope_prompt* prompt) {
  auto* box = static_cast<PromptBox*>(lua_newuserdatauv(L, sizeof(PromptBox), 0));
  box->prompt = prompt;
  luaL_setmetatable(L, kPromptType);
  return 1;
}

int load_model(lua_State* L) {
  ps::PluginJob& job = job_of(L);
  std::string path;
  if (lua_isnoneornil(L, 1)) {
    const auto paths = job.model_paths();
    if (paths.empty()) luaL_error(L, "load_model: the job has no models");
    path = paths.front();
  } else {
    path = luaL_checkstring(L, 1);
  }
  attnscope_model* model = nullptr;
  job.check(job.host().load_model(job.job(), path.c_str(), &model));
  return push_model(L, model);
}

int models(lua_State* L) {
  const auto paths = job_of(L).model_paths();
  lua_createtable(L, int(paths.size()), 0);
  for (size_t i = 0; i < paths.size(); ++i) {
    lua_pushstring(L, paths[i].c_str());
    lua_rawseti(L, -2, lua_Integer(i + 1));
  }
  return 1;
}

int model_info(lua_State* L) {
  ps::PluginJob& job = job_of(L);
  attnscope_model_info info{};
  job.check(job.host().model_info(job.job(), model_at(L, 1), &info));
  lua_createtable(L, 0, 9);
  lua_pushstring(L, info.path);
  lua_setfield(L, -2, "path");
  lua_pushstring(L, info.architecture);
  lua_setfield(L, -2, "architecture");
  for (const auto& [key, value] : {std::pair<const char*, int64_t>{"layers", info.layers}, {"heads", info.heads},
                                   {"kv_heads", info.kv_heads}, {"head_dim", info.head_dim},
                                   {"vocab_size", info.vocab_size}, {"max_context", info.max_context}}) {
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
  }
  lua_pushstring(L, info.device);
  lua_setfield(L, -2, "device");
  return 1;
}

int release_model(lua_State* L) {
  auto* box = static_cast<ModelBox*>(luaL_checkudata(L, 1, kModelType));
  if (box->model) job_of(L).host().release_model(job_of(L).job(), box->model);
  box->model = nullptr;
  return 0;
}

int task(lua_State* L) {
  attnscope_model* model = model_at(L, 1);
  const Options o(L, 2, "task", {"kind", "length", "depth", "seed", "needle", "copies", "chat", "needles_file",
                                 "haystack_file", "template_file"});
  const std::string kind = o.text("kind").value_or("needle");
  attnscope_task_request r{};
  r.kind = kind == "needle" ? ATTNSCOPE_TASK_NEEDLE : kind == "passkey" ? ATTNSCOPE_TASK_PASSKEY
           : kind == "repeat" ? ATTNSCOPE_TASK_REPEAT : 0;
  if (r.kind == 0) luaL_error(L, "task: kind is needle, passkey or repeat, not '%s'", kind.c_str());
  const auto length = o.integer("length");
  if (!length) luaL_error(L, "task: give the prompt's length (tokens)");
  r.length = *length;
  r.depth = o.number("depth").value_or(0.5);
  r.seed = uint64_t(o.integer("seed").value_or(0));
  r.needle_index = o.integer("needle").value_or(0);
  r.copies = o.integer("copies").value_or(0);
  r.chat = o.boolean("chat").value_or(false) ? 1 : 0;
  const auto needles = o.text("needles_file"), haystack = o.text("haystack_file"), templ = o.text("template_file");
  r.needles_file = needles ? needles->c_str() : nullptr;
  r.haystack_file = haystack ? haystack->c_str() : nullptr;
  r.template_file = templ ? templ->c_str() : nullptr;
  ps::PluginJob& job = job_of(L);
  attnscope_prompt* prompt = nullptr;
  job.check(job.host().task_prompt(job.job(), model, &r, &prompt));
  return push_prompt(L, prompt);
}

int text(lua_State* L) {
  attnscope_model* model = model_at(L, 1);
  const std::string content = luaL_checkstring(L, 2);
  const bool add_special = lua_isnoneornil(L, 3) ? true : lua_toboolean(L, 3) != 0;
  ps::PluginJob& job = job_of(L);
  attnscope_prompt* prompt = nullptr;
  job.check(job.host().text_prompt(job.job(), model, content.c_str(), add_special ? 1 : 0, &prompt));
  return push_prompt(L, prompt);
}

int prompt_info(lua_State* L) {
  ps::PluginJob& job = job_of(L);
  attnscope_prompt_info info{};
  job.check(job.host().prompt_info(job.job(), prompt_at(L, 1), &info));
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, info.tokens);
  lua_setfield(L, -2, "tokens");
  lua_pushstring(L, info.text);
  lua_setfield(L, -2, "text");
  lua_pushstring(L, info.description);
  lua_setfield(L, -2, "description");
  lua_pushstring(L, info.expected_answer);
  lua_setfield(L, -2, "expected_answer");
  push_json(L, nlohmann::json::parse(info.parameters_json));
  lua_setfield(L, -2, "parameters");
  return 1;
}

int release_prompt(lua_State* L) {
  auto* box = static_cast<PromptBox*>(luaL_checkudata(L, 1, kPromptType));
  if (box->prompt) job_of(L).host().release_prompt(job_of(L).job(), box->prompt);
  box->prompt = nullptr;
  return 0;
}

// ---- computation ------------------------------------------------------------------

int take_result(lua_State* L, attnscope_result* result) {
  push_result(L, job_of(L).take(result));
  return 1;
}

int capture(lua_State* L) {
  attnscope_model* model = model_at(L, 1);
  attnscope_prompt* prompt = prompt_at(L, 2);
  const Options o(L, 3, "capture", {"generate", "sink_tokens", "local_window"});
  attnscope_capture_request r{};
  r.generate = o.integer("generate").value_or(0);
  r.sink_tokens = o.integer("sink_tokens").value_or(0);
  r.local_window = o.integer("local_window").value_or(0);
  ps::PluginJob& job = job_of(L);
  attnscope_result* result = nullptr;
  job.check(job.host().capture(job.job(), model, prompt, &r, &result));
  return take_result(L, result);
}

int profile(lua_State* L) {
  attnscope_model* model = model_at(L, 1);
  const Options o(L, 2, "profile", {"tasks", "lengths", "depths", "metrics", "seed", "needles", "chat", "needles_file",
                                    "haystack_file", "needle_template_file", "passkey_template_file"});
  const auto lengths = o.integers("lengths");
  if (!lengths || lengths->empty()) luaL_error(L, "profile: give lengths (a number or a list of token counts)");
  const auto depths = o.numbers("depths");
  const auto tasks = o.text("tasks"), metrics = o.text("metrics"), needles = o.text("needles_file"),
             haystack = o.text("haystack_file"), needle_template = o.text("needle_template_file"),
             passkey_template = o.text("passkey_template_file");
  attnscope_profile_request r{};
  r.tasks = tasks ? tasks->c_str() : nullptr;
  r.lengths = lengths->data();
  r.length_count = uint32_t(lengths->size());
  r.depths = depths ? depths->data() : nullptr;
  r.depth_count = depths ? uint32_t(depths->size()) : 0;
  r.metrics = metrics ? metrics->c_str() : nullptr;
  r.seed = uint64_t(o.integer("seed").value_or(0));
  r.needle_count = o.integer("needles").value_or(0);
  r.chat = o.boolean("chat").value_or(false) ? 1 : 0;
  r.needles_file = needles ? needles->c_str() : nullptr;
  r.haystack_file = haystack ? haystack->c_str() : nullptr;
  r.needle_template_file = needle_template ? needle_template->c_str() : nullptr;
  r.passkey_template_file = passkey_template ? passkey_template->c_str() : nullptr;
  ps::PluginJob& job = job_of(L);
  attnscope_result* result = nullptr;
  job.check(job.host().profile(job.job(), model, &r, &result));
  return take_result(L, result);
}

int evaluate_masks(lua_State* L) {
  attnscope_model* model = model_at(L, 1);
  attnscope_prompt* prompt = prompt_at(L, 2);
  const Options o(L, 3, "evaluate_masks", {"method", "density", "params", "end_to_end", "plan_file"});
  const auto method = o.text("method"), plan_file = o.text("plan_file");
  const std::vector<std::string> params = o.texts("params").value_or(std::vector<std::string>{});
  std::vector<const char*> texts;
  for (const std::string& p : params) texts.push_back(p.c_str());
  attnscope_mask_request r{};
  r.method = method ? method->c_str() : nullptr;
  r.density = o.number("density").value_or(0);
  r.params = texts.data();
  r.param_count = uint32_t(texts.size());
  r.end_to_end = o.boolean("end_to_end").value_or(false) ? 1 : 0;
  r.plan_file = plan_file ? plan_file->c_str() : nullptr;
  ps::PluginJob& job = job_of(L);
  attnscope_result* result = nullptr;
  job.check(job.host().evaluate_masks(job.job(), model, prompt, &r, &result));
  return take_result(L, result);
}

// top_heads(result, metric [, k]): {{layer=, head=, value=}, ...} by value, highest first.
int top_heads(lua_State* L) {
  const std::vector<ps::HeadValue> values = head_values(L, 1, "top_heads");
  const std::string metric = luaL_checkstring(L, 2);
  const lua_Integer k = luaL_optinteger(L, 3, 10);
  std::vector<ps::HeadValue> picked;
  for (const ps::HeadValue& v : values)
    if (v.metric == metric && !v.text && std::isfinite(v.value)) picked.push_back(v);
  std::stable_sort(picked.begin(), picked.end(), [](const auto& a, const auto& b) { return a.value > b.value; });
  if (k >= 0 && size_t(k) < picked.size()) picked.resize(size_t(k));
  lua_createtable(L, int(picked.size()), 0);
  for (size_t i = 0; i < picked.size(); ++i) {
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, picked[i].layer);
    lua_setfield(L, -2, "layer");
    lua_pushinteger(L, picked[i].head);
    lua_setfield(L, -2, "head");
    lua_pushnumber(L, picked[i].value);
    lua_setfield(L, -2, "value");
    lua_rawseti(L, -2, lua_Integer(i + 1));
  }
  return 1;
}

int fit_span_rules(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  std::vector<attnscope_span_sample> samples;
  for (lua_Integer i = 1, n = lua_Integer(lua_rawlen(L, 1)); i <= n; ++i) {
    lua_rawgeti(L, 1, i);
    const Options s(L, -1, "fit_span_rules sample", {"layer", "head", "length", "span"});
    const auto layer = s.integer("layer"), head = s.integer("head");
    const auto length = s.number("length"), span = s.number("span");
    if (!layer || !head || !length || !span) luaL_error(L, "fit_span_rules: sample %d needs layer, head, length and span", int(i));
    samples.push_back({int32_t(*layer), int32_t(*head), *length, *span});
    lua_pop(L, 1);
  }
  push_result(L, job_of(L).fit_span_rules(samples));
  return 1;
}

int export_profile(lua_State* L) {
  const ps::ModelHandle model = borrow_model(L, 1);
  const Options o(L, 2, "export", {"format", "name", "values", "options"});
  const auto format = o.text("format"), name = o.text("name");
  if (!format || !name) luaL_error(L, "export: give format and name");
  std::vector<ps::HeadValue> values;
  if (o.has("values")) {
    lua_getfield(L, 2, "values");
    values = head_values(L, -1, "export values");
    lua_pop(L, 1);
  }
  const std::vector<std::string> options = o.texts("options").value_or(std::vector<std::string>{});
  job_of(L).export_profile(model, *format, *name, values, options);
  return 0;
}

// Metatables of the handles: methods, and release when collected.
void handle_type(lua_State* L, const char* type, const luaL_Reg* methods, lua_CFunction gc) {
  luaL_newmetatable(L, type);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  if (gc) {
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pushstring(L, type);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

const luaL_Reg kModelMethods[] = {{"info", guarded<model_info>}, {"release", guarded<release_model>}, {nullptr, nullptr}};
const luaL_Reg kPromptMethods[] = {{"info", guarded<prompt_info>}, {"release", guarded<release_prompt>}, {nullptr, nullptr}};

}  // namespace

void open_module(lua_State* L) {
  handle_type(L, kModelType, kModelMethods, guarded<release_model>);
  handle_type(L, kPromptType, kPromptMethods, guarded<release_prompt>);
  handle_type(L, kRunType, kRunMethods, nullptr);
  const luaL_Reg functions[] = {{"load_model", guarded<load_model>},
                                {"models", guarded<models>},
                                {"model_info", guarded<model_info>},
                                {"task", guarded<task>},
                                {"text", guarded<text>},
                                {"prompt_info", guarded<prompt_info>},
                                {"capture", guarded<capture>},
                                {"profile", guarded<profile>},
                                {"evaluate_masks", guarded<evaluate_masks>},
                                {"top_heads", guarded<top_heads>},
                                {"fit_span_rules", guarded<fit_span_rules>},
                                {"export", guarded<export_profile>},
                                {nullptr, nullptr}};
  luaL_newlib(L, functions);
  luaL_setfuncs(L, kJobFunctions, 0);
  lua_newtable(L);
  luaL_setfuncs(L, kStoreFunctions, 0);
  lua_setfield(L, -2, "store");
  lua_setglobal(L, "attnscope");
}

}  // namespace attnscope::lua_plugin
