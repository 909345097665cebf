#include "analysis/masks/mask_plan.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <type_traits>

#include "analysis/io/json_file.h"
#include "analysis/model/config.h"
#include "kernels/error.h"

namespace attnscope::masks {
namespace {

constexpr const char* kWhere = "mask plan";
constexpr int kPlanVersion = 1;

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
// Spelled out for compilers without aggregate deduction (clang before 17: the fuzz build).
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// Each family's parameters, by name, in file order: one table for the reader, the writer,
// --param and describe.
template <class M, class V>
void fields(M& m, V&& v) {
  using T = std::remove_const_t<M>;
  if constexpr (std::is_same_v<T, DenseMask>) {
  } else if constexpr (std::is_same_v<T, StreamingMask>) {
    v("sink_tokens", m.sink_tokens);
    v("window", m.window);
  } else if constexpr (std::is_same_v<T, WindowMask>) {
    v("window", m.window);
  } else if constexpr (std::is_same_v<T, VerticalSlashMask>) {
    v("vertical", m.vertical);
    v("slash", m.slash);
    v("last_queries", m.last_queries);
    v("kept_columns", m.kept_columns);
    v("kept_diagonals", m.kept_diagonals);
  } else if constexpr (std::is_same_v<T, VerticalSlashOracleMask>) {
    v("vertical", m.vertical);
    v("slash", m.slash);
  } else if constexpr (std::is_same_v<T, BlockTopKMask>) {
    v("block_size", m.block_size);
    v("blocks", m.blocks);
    v("score", m.score);
    v("stride", m.stride);
  } else if constexpr (std::is_same_v<T, BlockThresholdMask>) {
    v("block_size", m.block_size);
    v("mass", m.mass);
    v("score", m.score);
    v("stride", m.stride);
  } else if constexpr (std::is_same_v<T, TopKMask>) {
    v("keys", m.keys);
  } else if constexpr (std::is_same_v<T, TopPMask>) {
    v("mass", m.mass);
  } else if constexpr (std::is_same_v<T, ThresholdMask>) {
    v("probability", m.probability);
  } else if constexpr (std::is_same_v<T, QuestMask>) {
    v("page_size", m.page_size);
    v("token_budget", m.token_budget);
    v("decode_rows", m.decode_rows);
  } else if constexpr (std::is_same_v<T, SnapKVMask>) {
    v("observation_window", m.observation_window);
    v("capacity", m.capacity);
    v("kernel", m.kernel);
    v("pooling", m.pooling);
    v("decode_rows", m.decode_rows);
  } else if constexpr (std::is_same_v<T, H2OMask>) {
    v("heavy", m.heavy);
    v("recent", m.recent);
    v("decode_rows", m.decode_rows);
  } else {
    static_assert(sizeof(T) == 0, "a family without its field table");
  }
}

constexpr std::string_view kNames[] = {"dense",        "streaming",      "window",     "vertical_slash",
                                       "vertical_slash_oracle", "block_topk", "block_threshold", "topk",
                                       "topp",         "threshold",      "quest",      "snapkv",
                                       "h2o"};
static_assert(std::size(kNames) == std::variant_size_v<MaskFamily>);

template <std::size_t I = 0>
MaskFamily family_at(std::size_t index) {
  if constexpr (I < std::variant_size_v<MaskFamily>) {
    if (index == I) return MaskFamily(std::in_place_index<I>);
    return family_at<I + 1>(index);
  } else {
    return DenseMask{};
  }
}

std::string_view score_name(BlockScore s) {
  switch (s) {
    case BlockScore::Exact: return "exact";
    case BlockScore::MeanPooled: return "mean_pooled";
    case BlockScore::Antidiagonal: return "antidiagonal";
  }
  return "?";
}

std::string_view pooling_name(Pooling p) { return p == Pooling::Max ? "max" : "average"; }

// The largest token count or span a plan holds: beyond it a count is no budget, and
// doubles stop holding every whole number soon after.
constexpr double kMaxTokens = 1e15;

std::string number_text(double x) {
  if (x == std::floor(x) && std::abs(x) < kMaxTokens) return std::to_string(int64_t(x));
  std::string s = std::to_string(x);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (s.size() > 1 && s.back() == '.') s.pop_back();  // a whole number past 1e15
  return s;
}

std::string span_text(const TokenSpan& s) {
  if (s.per_token == 0) return number_text(s.fixed);
  return number_text(s.fixed) + " + " + number_text(s.per_token) + " N";
}

nlohmann::json span_to_json(const TokenSpan& s) {
  if (s.per_token == 0 && s.fixed == std::floor(s.fixed)) return int64_t(s.fixed);
  if (s.per_token == 0) return s.fixed;
  return {{"tokens", s.fixed}, {"per_token", s.per_token}};
}

double number_value(const nlohmann::json& value, const std::string& name, const std::string& where) {
  if (!value.is_number())
    throw Error(where, "\"" + name + "\" is " + io::json_kind(value) + ", not a number");
  return value.get<double>();
}

int64_t count_value(const nlohmann::json& value, const std::string& name, const std::string& where) {
  const double x = number_value(value, name, where);
  if (x != std::floor(x)) throw Error(where, "\"" + name + "\" is " + number_text(x) + "; it must be a whole number");
  if (std::abs(x) > kMaxTokens) throw Error(where, "\"" + name + "\" is " + number_text(x) + "; it must be at most 1e15");
  return int64_t(x);
}

TokenSpan span_value(const nlohmann::json& value, const std::string& name, const std::string& where) {
  if (value.is_number()) return {number_value(value, name, where), 0};
  if (!value.is_object())
    throw Error(where, "\"" + name + "\" is " + io::json_kind(value) +
                           ", not a token count or {\"tokens\": a, \"per_token\": b}");
  TokenSpan span;
  for (const auto& [key, item] : value.items()) {
    if (key == "tokens")
      span.fixed = number_value(item, name + ".tokens", where);
    else if (key == "per_token")
      span.per_token = number_value(item, name + ".per_token", where);
    else
      throw Error(where, "\"" + name + "\" has an unknown field \"" + key + "\"; it takes \"tokens\" and \"per_token\"");
  }
  return span;
}

template <class E>
E choice_value(const nlohmann::json& value, const std::string& name, const std::string& where,
               std::initializer_list<std::pair<std::string_view, E>> choices) {
  std::string known;
  for (const auto& [text, e] : choices) known += (known.empty() ? "" : ", ") + std::string(text);
  if (!value.is_string())
    throw Error(where, "\"" + name + "\" is " + io::json_kind(value) + ", not one of " + known);
  const std::string text = value.get<std::string>();
  for (const auto& [choice, e] : choices)
    if (choice == text) return e;
  throw Error(where, "\"" + name + "\" is \"" + text + "\"; it must be one of " + known);
}

// Reads one named parameter into its field; false when the family has no such field.
template <class M>
bool read_field(M& m, const std::string& key, const nlohmann::json& value, const std::string& where) {
  bool found = false;
  fields(m, Overloaded{
                [&](std::string_view name, int64_t& x) {
                  if (name == key) x = count_value(value, key, where), found = true;
                },
                [&](std::string_view name, double& x) {
                  if (name == key) x = number_value(value, key, where), found = true;
                },
                [&](std::string_view name, TokenSpan& x) {
                  if (name == key) x = span_value(value, key, where), found = true;
                },
                [&](std::string_view name, BlockScore& x) {
                  if (name == key)
                    x = choice_value<BlockScore>(value, key, where,
                                                 {{"exact", BlockScore::Exact},
                                                  {"mean_pooled", BlockScore::MeanPooled},
                                                  {"antidiagonal", BlockScore::Antidiagonal}}),
                    found = true;
                },
                [&](std::string_view name, Pooling& x) {
                  if (name == key)
                    x = choice_value<Pooling>(value, key, where, {{"max", Pooling::Max}, {"average", Pooling::Average}}),
                    found = true;
                },
            });
  return found;
}

std::string parameter_list(const MaskFamily& family) {
  std::string list;
  std::visit([&](const auto& m) {
    fields(m, [&](std::string_view name, const auto&) { list += (list.empty() ? "" : ", ") + std::string(name); });
  }, family);
  list += std::string(list.empty() ? "" : ", ") + "density";
  return list;
}

void set_parameter(HeadMask& mask, const std::string& key, const nlohmann::json& value, const std::string& where) {
  if (key == "density") {
    mask.density = number_value(value, key, where);
    return;
  }
  const bool found = std::visit([&](auto& m) { return read_field(m, key, value, where); }, mask.family);
  if (!found)
    throw Error(where, std::string(method_name(mask.family)) + " has no parameter \"" + key + "\"; its parameters are " +
                           parameter_list(mask.family));
}

void check_count(int64_t value, int64_t minimum, std::string_view name, const std::string& where) {
  if (value < minimum)
    throw Error(where, std::string(name) + " is " + std::to_string(value) + "; it must be " +
                           std::to_string(minimum) + " or more");
  // The plan file's limit (count_value): plans made in code (imports) meet it too.
  if (double(value) > kMaxTokens) throw Error(where, std::string(name) + " is " + std::to_string(value) + "; it must be at most 1e15");
}

void check_share(double value, std::string_view name, const std::string& where) {
  if (!(value > 0 && value <= 1))
    throw Error(where, std::string(name) + " is " + number_text(value) + "; it must be in (0, 1]");
}

void check_span(const TokenSpan& span, std::string_view name, const std::string& where) {
  if (!std::isfinite(span.fixed) || !std::isfinite(span.per_token))
    throw Error(where, std::string(name) + " is not a finite number");
  // As for counts: beyond 1e15 tokens a span is no budget, and at() could not round it to a count.
  if (std::abs(span.fixed) > kMaxTokens)
    throw Error(where, std::string(name) + " is " + number_text(span.fixed) + " tokens; it must be at most 1e15");
  if (span.per_token < 0 || span.per_token > 1)
    throw Error(where, std::string(name) + " grows by " + number_text(span.per_token) +
                           " tokens per token of the sequence; it must be in [0, 1]");
  if (span.per_token == 0 && span.fixed < 1)
    throw Error(where, std::string(name) + " is " + number_text(span.fixed) + " tokens; it must be 1 or more");
}

std::string head_name(runtime::LayerHead at) {
  return "layer " + std::to_string(at.layer) + " head " + std::to_string(at.head);
}

}  // namespace

int64_t TokenSpan::at(int64_t sequence_length) const {
  const double tokens = std::round(fixed + per_token * double(sequence_length));
  return tokens <= 0 ? 0 : int64_t(tokens);
}

std::string_view method_name(const MaskFamily& family) { return kNames[family.index()]; }

std::vector<std::string_view> method_names() { return {std::begin(kNames), std::end(kNames)}; }

MaskFamily default_family(std::string_view name, const std::string& where) {
  for (std::size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i] == name) return family_at(i);
  std::string known;
  for (std::string_view n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
  std::string problem = "unknown method \"" + std::string(name) + "\"; the mask families are " + known;
  if (name == "duo" || name == "moa" || name == "minference")
    problem = "\"" + std::string(name) + "\" is a per-head plan, not a mask family: give it as a plan; the families are " + known;
  throw Error(where, problem);
}

std::string describe(const HeadMask& mask) {
  std::string text(method_name(mask.family));
  std::visit([&](const auto& m) {
    fields(m, Overloaded{
                  [&](std::string_view name, int64_t x) { text += " " + std::string(name) + " " + std::to_string(x); },
                  [&](std::string_view name, double x) { text += " " + std::string(name) + " " + number_text(x); },
                  [&](std::string_view name, const TokenSpan& x) { text += " " + std::string(name) + " " + span_text(x); },
                  [&](std::string_view name, BlockScore x) { text += " " + std::string(name) + " " + std::string(score_name(x)); },
                  [&](std::string_view name, Pooling x) { text += " " + std::string(name) + " " + std::string(pooling_name(x)); },
              });
  }, mask.family);
  if (mask.density) text += " @ density " + number_text(*mask.density);
  return text;
}

void check_mask(const HeadMask& mask, const std::string& where_in) {
  const std::string where = where_in + " (" + std::string(method_name(mask.family)) + ")";
  if (mask.density) {
    if (std::holds_alternative<DenseMask>(mask.family))
      throw Error(where, "a dense head takes no density; it keeps every key");
    check_share(*mask.density, "density", where);
  }
  std::visit(Overloaded{
                 [&](const DenseMask&) {},
                 [&](const StreamingMask& m) {
                   check_count(m.sink_tokens, 0, "sink_tokens", where);
                   check_span(m.window, "window", where);
                 },
                 [&](const WindowMask& m) { check_span(m.window, "window", where); },
                 [&](const VerticalSlashMask& m) {
                   check_count(m.last_queries, 1, "last_queries", where);
                   check_count(m.kept_columns, 0, "kept_columns", where);
                   check_count(m.kept_diagonals, 1, "kept_diagonals (a row always sees itself)", where);
                   check_count(m.vertical, m.kept_columns, "vertical (it counts the always-kept columns)", where);
                   check_count(m.slash, m.kept_diagonals, "slash (it counts the always-kept diagonals)", where);
                 },
                 [&](const VerticalSlashOracleMask& m) {
                   check_count(m.vertical, 0, "vertical", where);
                   check_count(m.slash, 1, "slash (a row always sees itself)", where);
                 },
                 [&](const BlockTopKMask& m) {
                   check_count(m.block_size, 1, "block_size", where);
                   check_count(m.blocks, 2, "blocks (the first and the diagonal block are always kept)", where);
                   check_count(m.stride, 1, "stride", where);
                   if (m.score == BlockScore::Antidiagonal && m.block_size % m.stride != 0)
                     throw Error(where, "stride " + std::to_string(m.stride) + " does not divide block_size " +
                                            std::to_string(m.block_size));
                 },
                 [&](const BlockThresholdMask& m) {
                   check_count(m.block_size, 1, "block_size", where);
                   check_share(m.mass, "mass", where);
                   check_count(m.stride, 1, "stride", where);
                   if (m.score == BlockScore::Antidiagonal && m.block_size % m.stride != 0)
                     throw Error(where, "stride " + std::to_string(m.stride) + " does not divide block_size " +
                                            std::to_string(m.block_size));
                 },
                 [&](const TopKMask& m) { check_count(m.keys, 1, "keys", where); },
                 [&](const TopPMask& m) { check_share(m.mass, "mass", where); },
                 [&](const ThresholdMask& m) { check_share(m.probability, "probability", where); },
                 [&](const QuestMask& m) {
                   check_count(m.page_size, 1, "page_size", where);
                   check_count(m.token_budget, m.page_size, "token_budget (at least one page)", where);
                   check_count(m.decode_rows, 1, "decode_rows", where);
                 },
                 [&](const SnapKVMask& m) {
                   check_count(m.observation_window, 1, "observation_window", where);
                   check_count(m.capacity, m.observation_window + 1,
                               "capacity (it holds the observation window and at least one selected key)", where);
                   check_count(m.kernel, 1, "kernel", where);
                   if (m.kernel % 2 == 0)
                     throw Error(where, "kernel is " + std::to_string(m.kernel) + "; the pooling kernel must be odd");
                   check_count(m.decode_rows, 1, "decode_rows", where);
                 },
                 [&](const H2OMask& m) {
                   check_count(m.heavy, 0, "heavy", where);
                   check_count(m.recent, 1, "recent (a row always sees itself)", where);
                   check_count(m.decode_rows, 1, "decode_rows", where);
                 },
             },
             mask.family);
}

MaskPlan::MaskPlan(int num_layers, int num_heads, const HeadMask& mask) : num_layers_(num_layers), num_heads_(num_heads) {
  if (num_layers <= 0 || num_heads <= 0)
    throw Error(kWhere, "a model of " + std::to_string(num_layers) + " layers and " + std::to_string(num_heads) +
                            " heads: both must be positive");
  check_mask(mask, kWhere);
  heads_.assign(std::size_t(num_layers) * std::size_t(num_heads), mask);
}

MaskPlan::MaskPlan(const model::ModelSpec& spec, const HeadMask& mask) : MaskPlan(spec.num_layers, spec.num_heads, mask) {}

void MaskPlan::check_head(runtime::LayerHead at) const {
  if (at.layer < 0 || at.layer >= num_layers_)
    throw Error(kWhere, head_name(at) + ": the layer is out of range; the plan has " + std::to_string(num_layers_) +
                            " layers");
  if (at.head < 0 || at.head >= num_heads_)
    throw Error(kWhere, head_name(at) + ": the head is out of range; the plan has " + std::to_string(num_heads_) +
                            " query heads");
}

void MaskPlan::set(runtime::LayerHead at, const HeadMask& mask) {
  check_head(at);
  check_mask(mask, std::string(kWhere) + ", " + head_name(at));
  heads_[std::size_t(at.layer) * std::size_t(num_heads_) + std::size_t(at.head)] = mask;
}

const HeadMask& MaskPlan::at(runtime::LayerHead at) const {
  check_head(at);
  return heads_[std::size_t(at.layer) * std::size_t(num_heads_) + std::size_t(at.head)];
}

void MaskPlan::check_fits(const model::ModelSpec& spec) const {
  if (spec.num_layers != num_layers_ || spec.num_heads != num_heads_)
    throw Error(kWhere, "the plan is for " + std::to_string(num_layers_) + " layers of " + std::to_string(num_heads_) +
                            " query heads; the model has " + std::to_string(spec.num_layers) + " layers of " +
                            std::to_string(spec.num_heads));
}

std::vector<HeadMask> MaskPlan::distinct_masks(int layer) const {
  check_head({layer, 0});
  std::vector<HeadMask> distinct;
  for (int h = 0; h < num_heads_; ++h) {
    const HeadMask& m = at({layer, h});
    if (std::find(distinct.begin(), distinct.end(), m) == distinct.end()) distinct.push_back(m);
  }
  return distinct;
}

bool MaskPlan::all_dense() const {
  for (const HeadMask& m : heads_)
    if (!std::holds_alternative<DenseMask>(m.family)) return false;
  return true;
}

nlohmann::json mask_to_json(const HeadMask& mask) {
  nlohmann::json object = nlohmann::json::object();
  object["method"] = std::string(method_name(mask.family));
  std::visit([&](const auto& m) {
    fields(m, Overloaded{
                  [&](std::string_view name, int64_t x) { object[std::string(name)] = x; },
                  [&](std::string_view name, double x) { object[std::string(name)] = x; },
                  [&](std::string_view name, const TokenSpan& x) { object[std::string(name)] = span_to_json(x); },
                  [&](std::string_view name, BlockScore x) { object[std::string(name)] = std::string(score_name(x)); },
                  [&](std::string_view name, Pooling x) { object[std::string(name)] = std::string(pooling_name(x)); },
              });
  }, mask.family);
  if (mask.density) object["density"] = *mask.density;
  return object;
}

namespace {

// Reads a mask from `object`, skipping the keys in `skip` (a plan's "layer" and "head").
HeadMask mask_from_object(const nlohmann::json& object, const std::string& where,
                          std::initializer_list<std::string_view> skip) {
  if (!object.is_object()) throw Error(where, "a head's mask is " + io::json_kind(object) + ", not a JSON object");
  const auto method = object.find("method");
  if (method == object.end()) throw Error(where, "the field \"method\" is missing");
  if (!method->is_string()) throw Error(where, "\"method\" is " + io::json_kind(*method) + ", not a string");
  HeadMask mask{default_family(method->get<std::string>(), where), std::nullopt};
  for (const auto& [key, value] : object.items()) {
    if (key == "method" || std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
    set_parameter(mask, key, value, where);
  }
  check_mask(mask, where);
  return mask;
}

int index_value(const nlohmann::json& object, const char* name, const std::string& where) {
  const auto it = object.find(name);
  if (it == object.end()) throw Error(where, std::string("the field \"") + name + "\" is missing");
  const int64_t x = count_value(*it, name, where);
  if (x < 0 || x > (1 << 20)) throw Error(where, std::string("\"") + name + "\" is " + std::to_string(x) + "; out of range");
  return int(x);
}

}  // namespace

HeadMask mask_from_json(const nlohmann::json& object, const std::string& where) {
  return mask_from_object(object, where, {});
}

void apply_parameter(HeadMask& mask, std::string_view setting, const std::string& where) {
  const auto eq = setting.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw Error(where, "--param \"" + std::string(setting) + "\" is not key=value");
  const std::string key(setting.substr(0, eq));
  const std::string text(setting.substr(eq + 1));
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    value = text;  // a named choice: score=exact, pooling=max
  }
  set_parameter(mask, key, value, where + ", --param " + key);
  check_mask(mask, where);
}

nlohmann::json plan_to_json(const MaskPlan& plan) {
  // The most common mask is the default; ties go to the first seen.
  std::vector<std::pair<HeadMask, int>> counts;
  for (int l = 0; l < plan.num_layers(); ++l)
    for (int h = 0; h < plan.num_heads(); ++h) {
      const HeadMask& m = plan.at({l, h});
      auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == m; });
      if (it == counts.end())
        counts.push_back({m, 1});
      else
        ++it->second;
    }
  const HeadMask& common =
      std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second < b.second; })->first;
  nlohmann::json doc = nlohmann::json::object();
  doc["attnscope_mask_plan"] = kPlanVersion;
  if (!plan.name.empty()) doc["name"] = plan.name;
  doc["num_layers"] = plan.num_layers();
  doc["num_heads"] = plan.num_heads();
  doc["default"] = mask_to_json(common);
  nlohmann::json heads = nlohmann::json::array();
  for (int l = 0; l < plan.num_layers(); ++l)
    for (int h = 0; h < plan.num_heads(); ++h) {
      const HeadMask& m = plan.at({l, h});
      if (m == common) continue;
      nlohmann::json entry = {{"layer", l}, {"head", h}};
      entry.update(mask_to_json(m));
      heads.push_back(std::move(entry));
    }
  doc["heads"] = std::move(heads);
  return doc;
}

MaskPlan plan_from_json(const nlohmann::json& doc, const std::string& where) {
  if (!doc.is_object()) throw Error(where, "a mask plan is a JSON object, not " + io::json_kind(doc));
  const auto version = doc.find("attnscope_mask_plan");
  if (version == doc.end())
    throw Error(where, "not an AttnScope mask plan: the field \"attnscope_mask_plan\" (the format version) is missing");
  const int64_t v = count_value(*version, "attnscope_mask_plan", where);
  if (v != kPlanVersion)
    throw Error(where, "mask plan format version " + std::to_string(v) + "; this build reads version " +
                           std::to_string(kPlanVersion));
  for (const auto& [key, value] : doc.items())
    if (key != "attnscope_mask_plan" && key != "name" && key != "num_layers" && key != "num_heads" &&
        key != "default" && key != "heads")
      throw Error(where, "unknown field \"" + key + "\"");
  const int layers = index_value(doc, "num_layers", where);
  const int heads = index_value(doc, "num_heads", where);
  // One mask per head is held: the plan of a model config.json accepts fits (config.h).
  if (int64_t(layers) * heads > int64_t(model::kMaxLayers) * model::kMaxHeads)
    throw Error(where, "a plan of " + std::to_string(layers) + " layers of " + std::to_string(heads) +
                           " heads is larger than any model AttnScope runs (" + std::to_string(model::kMaxLayers) +
                           " layers of " + std::to_string(model::kMaxHeads) + " heads)");
  const auto def = doc.find("default");
  const HeadMask common = def == doc.end() ? HeadMask{DenseMask{}, std::nullopt}
                                           : mask_from_json(*def, where + ", \"default\"");
  MaskPlan plan(layers, heads, common);
  if (const auto name = doc.find("name"); name != doc.end()) {
    if (!name->is_string()) throw Error(where, "\"name\" is " + io::json_kind(*name) + ", not a string");
    plan.name = name->get<std::string>();
  }
  if (const auto list = doc.find("heads"); list != doc.end()) {
    if (!list->is_array()) throw Error(where, "\"heads\" is " + io::json_kind(*list) + ", not an array");
    std::vector<bool> seen(std::size_t(layers) * std::size_t(heads), false);
    for (std::size_t i = 0; i < list->size(); ++i) {
      const nlohmann::json& entry = (*list)[i];
      const std::string at = where + ", \"heads\"[" + std::to_string(i) + "]";
      if (!entry.is_object()) throw Error(at, "is " + io::json_kind(entry) + ", not a JSON object");
      const runtime::LayerHead lh{index_value(entry, "layer", at), index_value(entry, "head", at)};
      const HeadMask mask = mask_from_object(entry, at, {"layer", "head"});
      try {
        plan.set(lh, mask);
      } catch (const Error& e) {
        throw Error(at, e.problem());
      }
      const std::size_t slot = std::size_t(lh.layer) * std::size_t(heads) + std::size_t(lh.head);
      if (seen[slot]) throw Error(at, head_name(lh) + " is given twice");
      seen[slot] = true;
    }
  }
  return plan;
}

void write_plan_file(const MaskPlan& plan, const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::error_code ec;
    const std::string why = std::filesystem::is_directory(path, ec) ? "it is a directory" : std::strerror(errno);
    throw Error(path.string(), "cannot open the plan file for writing (" + why + ")");
  }
  out << plan_to_json(plan).dump(1) << "\n";
  out.close();
  if (!out) throw Error(path.string(), "writing the plan file failed");
}

MaskPlan read_plan_file(const std::filesystem::path& path) {
  try {
    return plan_from_json(io::read_json_file(path), path.string());
  } catch (const Error& e) {
    throw naming_file(e, path.string());  // checks of the plan as a whole name the plan
  }
}

}  // namespace attnscope::masks
