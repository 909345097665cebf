// attnscope-cli masks eval | sweep | search: the mask lab from the command line
// (docs/mask-lab.md). Each records every head of one dense run of the prompt, evaluates
// per head on the recorded heads, runs the plan end to end where asked, prints a table or
// --json, and stores the evaluations in a run of kind "masks" (--db, or --no-store).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/masks/end_to_end.h"
#include "analysis/masks/mask_sweep.h"
#include "analysis/masks/plan_choice.h"
#include "analysis/masks/plan_search.h"
#include "analysis/masks/task_accuracy.h"
#include "analysis/model/checkpoint.h"
#include "analysis/store/mask_evaluation_records.h"
#include "analysis/store/model_records.h"
#include "analysis/store/run_records.h"
#include "analysis/tasks/needle_in_haystack.h"
#include "analysis/tokenizer/tokenizer.h"
#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/store_options.h"
#include "app/cli/text_format.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"

namespace attnscope::cli {

std::filesystem::path sample_data_directory();  // inputs.cpp

namespace {

const std::set<std::string> kValueOptions = {"model",  "prompt", "prompt-file", "task",       "length",
                                             "depth",  "seed",   "plan",        "method",     "density",
                                             "densities", "target-recall", "total-density", "rules-per-layer",
                                             "out", "threads", "db", "generate"};
const std::set<std::string> kSwitches = {"json", "no-store", "end-to-end", "no-end-to-end"};

struct Setup {
  std::filesystem::path dir;
  model::Checkpoint checkpoint;
  tokenizer::Tokenizer tokenizer;
  std::optional<tasks::TaskPrompt> task;
  std::vector<int32_t> ids;
  std::unique_ptr<kernels::Backend> backend;
  std::unique_ptr<runtime::Transformer> model;
  masks::DenseRun run;
  std::unique_ptr<masks::MaskLab> lab;
};

void say(const Arguments& args, const std::string& line) {
  if (!args.flag("json")) std::fprintf(stderr, "%s\n", line.c_str());
}

// The prompt: --prompt / --prompt-file, or a needle / passkey task of the bundled prompts.
Setup open_setup(const Arguments& args) {
  const std::filesystem::path dir = model_directory(args);
  model::Checkpoint checkpoint = model::Checkpoint::open(dir);
  const int64_t vocab = checkpoint.spec().vocab_size;
  Setup s{dir, std::move(checkpoint), tokenizer::load_model_tokenizer(dir, vocab), {}, {}, {}, {}, {}, {}};
  const model::ModelSpec& spec = s.checkpoint.spec();
  if (auto task = args.value("task")) {
    if (args.has("prompt") || args.has("prompt-file")) throw UsageError("give --task or a prompt, not both");
    const auto prompts = sample_data_directory() / "prompts";
    const tasks::TaskModel tm = tasks::make_task_model(s.tokenizer, spec);
    const tasks::Haystack haystack = tasks::Haystack::from_file(prompts / "haystack.txt");
    tasks::NeedlePlacement placement;
    placement.length = args.integer_or("length", 1024, 16, spec.max_position_embeddings);
    const double depth = std::stod(args.value_or("depth", "0.5"));
    if (!(depth >= 0 && depth <= 1)) throw UsageError("--depth must be from 0 to 1");
    placement.depth = depth;
    const uint64_t seed = uint64_t(args.integer_or("seed", 1, 0, int64_t(1) << 62));
    if (*task == "needle")
      s.task = tasks::make_needle_prompt(tm, haystack, tasks::PromptTemplate::from_file(prompts / "needle.txt"),
                                         tasks::read_needles(prompts / "needles.jsonl").at(seed % 16), placement);
    else if (*task == "passkey")
      s.task = tasks::make_passkey_prompt(tm, haystack, tasks::PromptTemplate::from_file(prompts / "passkey.txt"), seed,
                                          placement);
    else
      throw UsageError("--task must be needle or passkey, not '" + *task + "'");
    s.ids = s.task->ids;
  } else {
    if (!args.has("prompt") && !args.has("prompt-file"))
      throw UsageError("give the prompt: --prompt TEXT, --prompt-file F or --task needle|passkey");
    s.ids = s.tokenizer.encode(text_input(args, "prompt", "prompt-file"), true);
  }
  if (s.ids.size() < 2) throw Error("prompt", "the prompt has " + std::to_string(s.ids.size()) + " tokens; the mask lab needs 2 or more");
  const int64_t generate = args.integer_or("generate", 24, 1, 4096);
  const int64_t context = int64_t(s.ids.size()) + (s.task ? generate : 0);
  if (context > spec.max_position_embeddings)
    throw Error("prompt", std::to_string(context) + " tokens exceed the model's context of " +
                              std::to_string(spec.max_position_embeddings));
  s.backend = kernels::make_cpu_backend(int(args.integer_or("threads", 0, 0, 1024)));
  s.model = std::make_unique<runtime::Transformer>(s.checkpoint, *s.backend, context);
  say(args, "recording " + std::to_string(spec.num_layers * spec.num_heads) + " heads over " +
                std::to_string(s.ids.size()) + " tokens ...");
  s.run = masks::record_dense_run(*s.model, s.ids);
  s.lab = std::make_unique<masks::MaskLab>(s.run.heads);
  return s;
}

// --param k=v (repeatable) taken out of the raw arguments.
std::vector<std::string> take_params(std::vector<std::string>& raw) {
  std::vector<std::string> params, rest;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == "--param") {
      if (i + 1 >= raw.size()) throw UsageError("--param needs key=value");
      params.push_back(raw[++i]);
    } else if (raw[i].rfind("--param=", 0) == 0) {
      params.push_back(raw[i].substr(8));
    } else {
      rest.push_back(raw[i]);
    }
  }
  raw = rest;
  return params;
}

std::optional<double> density_option(const Arguments& args, const char* name) {
  const auto text = args.value(name);
  if (!text) return std::nullopt;
  const std::vector<double> values = masks::parse_densities(*text, std::string("--") + name);
  if (values.size() != 1) throw UsageError(std::string("--") + name + " takes one number, not a list");
  return values.front();
}

// --plan FILE, or --method NAME with --density / --param (analysis/masks/plan_choice.h).
masks::MaskPlan plan_from_args(const Arguments& args, const std::vector<std::string>& params, const Setup& s) {
  if (args.has("plan") == args.has("method"))
    throw UsageError(args.has("plan") ? "give --plan or --method, not both" : "give --plan FILE or --method NAME");
  masks::PlanChoice choice;
  if (auto file = args.value("plan")) choice.plan_file = *file;
  choice.method = args.value_or("method", "");
  choice.density = density_option(args, "density");
  choice.params = params;
  if (choice.method == "moa" && !choice.density)
    throw UsageError("--method moa needs --density (the mean density of the allocation)");
  return masks::build_plan(choice, *s.lab, s.checkpoint.spec(), "--method");
}

nlohmann::json heads_json(const std::vector<masks::HeadResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const masks::HeadResult& r : results)
    out.push_back({{"layer", r.at.layer},
                   {"head", r.at.head},
                   {"method", std::string(masks::method_name(r.used.family))},
                   {"mask", masks::mask_to_json(r.used)},
                   {"density", r.evaluation.density},
                   {"recall", r.evaluation.recall},
                   {"min_recall", r.evaluation.min_recall},
                   {"output_rel_l2", r.evaluation.output_rel_l2},
                   {"output_cosine", r.evaluation.output_cosine}});
  return out;
}

store::MaskEvaluation stored(const masks::MaskPlan& plan, const std::vector<masks::HeadResult>& heads,
                             const std::optional<masks::EndToEnd>& e2e, int64_t ordinal) {
  store::MaskEvaluation e;
  e.ordinal = ordinal;
  e.plan_name = plan.name;
  e.plan = masks::plan_to_json(plan);
  const masks::PlanSummary sum = masks::summarize(heads);
  e.density = sum.density, e.recall = sum.recall, e.min_recall = sum.min_recall;
  e.output_rel_l2 = sum.output_rel_l2, e.output_cosine = sum.output_cosine;
  if (e2e) {
    e.kl_mean = e2e->kl_mean, e.kl_p95 = e2e->kl_p95, e.kl_max = e2e->kl_max, e.top1_agreement = e2e->top1_agreement;
    e.ppl_full = e2e->ppl_full, e.ppl_sparse = e2e->ppl_sparse, e.scored_positions = e2e->positions;
  }
  for (const masks::HeadResult& r : heads)
    e.heads.push_back({r.at.layer, r.at.head, masks::mask_to_json(r.used), r.evaluation.density, r.evaluation.recall,
                       r.evaluation.min_recall, r.evaluation.output_rel_l2, r.evaluation.output_cosine});
  return e;
}

// A run of kind "masks" in the store (none with --no-store).
struct StoreRun {
  std::optional<store::Database> db;
  store::RunId run{};
  StoreRun(const Arguments& args, const Setup& s, const std::string& task, const nlohmann::json& parameters) {
    if (args.flag("no-store")) return;
    db.emplace(store::Database::open(database_path(args)));
    const store::ModelId model = store::register_model(*db, store::identify_model(s.checkpoint));
    run = store::begin_run(*db, {model, "masks", task, parameters, "cpu", ATTNSCOPE_VERSION});
  }
  void add(const store::MaskEvaluation& e) {
    if (db) store::commit_mask_evaluation(*db, run, e);
  }
  void finish() {
    if (db) store::finish_run(*db, run, store::RunStatus::Complete);
  }
};

nlohmann::json run_parameters(const Arguments& args, const std::vector<std::string>& params, const Setup& s) {
  nlohmann::json p = {{"model", s.dir.string()}, {"tokens", s.ids.size()}, {"params", params}};
  for (const std::string& name : kValueOptions)
    if (auto v = args.value(name); v && name != "db" && name != "prompt") p[name] = *v;
  return p;
}

void print_heads(const std::vector<masks::HeadResult>& results) {
  std::printf("%5s %4s %-22s %8s %8s %8s %9s\n", "layer", "head", "method", "density", "recall", "min_rec", "out_relL2");
  for (const masks::HeadResult& r : results)
    std::printf("%5d %4d %-22s %8s %8s %8s %9s\n", r.at.layer, r.at.head, std::string(masks::method_name(r.used.family)).c_str(),
                fixed(r.evaluation.density, 4).c_str(), fixed(r.evaluation.recall, 4).c_str(),
                fixed(r.evaluation.min_recall, 4).c_str(), fixed(r.evaluation.output_rel_l2, 4).c_str());
}

int run_eval(const Arguments& args, const std::vector<std::string>& params) {
  Setup s = open_setup(args);
  const masks::MaskPlan plan = plan_from_args(args, params, s);
  say(args, "evaluating " + (plan.name.empty() ? std::string("the plan") : plan.name) + " per head ...");
  const std::vector<masks::HeadResult> heads = s.lab->evaluate(plan);
  const masks::PlanSummary sum = masks::summarize(heads);
  std::optional<masks::EndToEnd> e2e;
  if (!args.flag("no-end-to-end")) {
    say(args, "end to end ...");
    e2e = masks::evaluate_end_to_end(*s.model, s.ids, plan, s.run.logits);
  }
  std::optional<masks::TaskOutcome> task;
  if (s.task) {
    say(args, "answering the task dense and under the plan ...");
    task = masks::answer_task(*s.model, s.tokenizer, *s.task, plan, args.integer_or("generate", 24, 1, 4096));
  }
  if (auto out = args.value("out")) masks::write_plan_file(plan, *out);
  StoreRun store_run(args, s, "eval", run_parameters(args, params, s));
  store::MaskEvaluation record = stored(plan, heads, e2e, 0);
  nlohmann::json out;
  out["plan"] = plan.name;
  out["tokens"] = s.ids.size();
  out["density"] = sum.density;
  out["recall"] = sum.recall;
  out["min_recall"] = sum.min_recall;
  out["output_rel_l2"] = sum.output_rel_l2;
  if (e2e) {
    out["kl_mean"] = e2e->kl_mean, out["kl_p95"] = e2e->kl_p95, out["kl_max"] = e2e->kl_max;
    out["top1_agreement"] = e2e->top1_agreement;
    out["ppl_full"] = number_or_null(e2e->ppl_full), out["ppl_sparse"] = number_or_null(e2e->ppl_sparse);
    out["scored_from"] = e2e->first_position;
  }
  if (task) {
    out["task"] = {{"description", task->description}, {"expected", task->expected},
                   {"full", {{"response", task->full.response}, {"correct", task->full.correct}}},
                   {"sparse", {{"response", task->sparse.response}, {"correct", task->sparse.correct}}}};
    record.details["task"] = out["task"];
  }
  out["heads"] = heads_json(heads);
  store_run.add(record);
  store_run.finish();
  if (args.flag("json")) {
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cout << "plan: " << plan.name << " on " << s.ids.size() << " tokens\n";
  print_heads(heads);
  std::cout << "\ndensity " << fixed(sum.density, 4) << ", recall " << fixed(sum.recall, 4) << " (worst head row "
            << fixed(sum.min_recall, 4) << "), output relative L2 " << fixed(sum.output_rel_l2, 4) << "\n";
  if (e2e)
    std::cout << "end to end from position " << e2e->first_position << ": KL mean " << fixed(e2e->kl_mean, 5) << ", p95 "
              << fixed(e2e->kl_p95, 5) << ", max " << fixed(e2e->kl_max, 5) << " nats; top-1 agreement "
              << fixed(e2e->top1_agreement, 4) << "; perplexity " << fixed(e2e->ppl_full, 3) << " -> "
              << fixed(e2e->ppl_sparse, 3) << "\n";
  if (task)
    std::cout << "task (" << task->description << "): expected \"" << printable(task->expected) << "\"; dense \""
              << printable(task->full.response) << "\" " << (task->full.correct ? "correct" : "wrong") << "; sparse \""
              << printable(task->sparse.response) << "\" " << (task->sparse.correct ? "correct" : "wrong") << "\n";
  return 0;
}

int run_sweep(const Arguments& args, const std::vector<std::string>& params) {
  const auto method = args.value("method");
  const auto list = args.value("densities");
  if (!method || !list) throw UsageError("masks sweep needs --method NAME and --densities D,D,...");
  masks::HeadMask base{masks::default_family(*method, "--method"), std::nullopt};
  for (const std::string& p : params) masks::apply_parameter(base, p, "--method " + *method);
  const std::vector<double> densities = masks::parse_densities(*list);
  Setup s = open_setup(args);
  StoreRun store_run(args, s, "sweep", run_parameters(args, params, s));
  const masks::MaskPlan shape(s.checkpoint.spec(), {masks::DenseMask{}, std::nullopt});
  int64_t ordinal = 0;
  const bool e2e = args.flag("end-to-end");
  auto points = masks::sweep(*s.lab, shape, base.family, densities, [&](masks::SweepPoint& p) {
    say(args, "density " + fixed(p.requested_density, 3) + ": used " + fixed(p.summary.density, 4) + ", recall " +
                  fixed(p.summary.recall, 4));
    masks::MaskPlan plan(s.checkpoint.spec(), p.mask);
    plan.name = masks::describe(p.mask);
    if (e2e) p.end_to_end = masks::evaluate_end_to_end(*s.model, s.ids, plan, s.run.logits);
    store::MaskEvaluation record = stored(plan, p.heads, p.end_to_end, ordinal++);
    record.requested_density = p.requested_density;
    store_run.add(record);
  });
  store_run.finish();
  std::vector<double> cost, loss;
  for (const auto& p : points) cost.push_back(p.summary.density), loss.push_back(1.0 - p.summary.recall);
  const std::vector<std::size_t> front = masks::pareto_front(cost, loss);
  nlohmann::json out = {{"method", *method}, {"tokens", s.ids.size()}, {"points", nlohmann::json::array()}};
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    nlohmann::json j = {{"requested_density", p.requested_density}, {"density", p.summary.density},
                        {"recall", p.summary.recall}, {"min_recall", p.summary.min_recall},
                        {"output_rel_l2", p.summary.output_rel_l2},
                        {"pareto", std::find(front.begin(), front.end(), i) != front.end()}};
    if (p.end_to_end)
      j["kl_mean"] = p.end_to_end->kl_mean, j["kl_max"] = p.end_to_end->kl_max,
      j["top1_agreement"] = p.end_to_end->top1_agreement;
    out["points"].push_back(j);
  }
  if (args.flag("json")) {
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::printf("%9s %8s %8s %8s %9s %9s %s\n", "requested", "density", "recall", "min_rec", "out_relL2", "kl_mean", "pareto");
  for (const auto& j : out["points"])
    std::printf("%9s %8s %8s %8s %9s %9s %s\n", fixed(j["requested_density"].get<double>(), 3).c_str(), fixed(j["density"].get<double>(), 4).c_str(),
                fixed(j["recall"].get<double>(), 4).c_str(), fixed(j["min_recall"].get<double>(), 4).c_str(), fixed(j["output_rel_l2"].get<double>(), 4).c_str(),
                j.contains("kl_mean") ? fixed(j["kl_mean"].get<double>(), 5).c_str() : "-", j["pareto"] ? "*" : "");
  return 0;
}

int run_search(const Arguments& args, const std::vector<std::string>&) {
  const auto out_path = args.value("out");
  if (!out_path) throw UsageError("masks search needs --out PLAN (the plan file to write)");
  const std::optional<double> target = density_option(args, "target-recall");
  const std::optional<double> total = density_option(args, "total-density");
  if (!target && !total) throw UsageError("masks search needs --target-recall R and/or --total-density D");
  Setup s = open_setup(args);
  const model::ModelSpec& spec = s.checkpoint.spec();
  say(args, "evaluating " + std::to_string(masks::default_candidates().size()) + " candidates on every head ...");
  const masks::CandidateTable table = masks::evaluate_candidates(*s.lab, masks::default_candidates());
  masks::MaskPlan plan = total ? masks::allocate_budget(table, spec.num_layers, spec.num_heads, *total,
                                                        int(args.integer_or("rules-per-layer", 2, 1, 64)))
                               : masks::search_per_head(table, spec.num_layers, spec.num_heads, *target);
  masks::write_plan_file(plan, *out_path);
  const std::vector<masks::HeadResult> heads = s.lab->evaluate(plan);
  const masks::PlanSummary sum = masks::summarize(heads);
  std::optional<masks::EndToEnd> e2e;
  if (!args.flag("no-end-to-end")) e2e = masks::evaluate_end_to_end(*s.model, s.ids, plan, s.run.logits);
  StoreRun store_run(args, s, "search", run_parameters(args, {}, s));
  store_run.add(stored(plan, heads, e2e, 0));
  store_run.finish();
  nlohmann::json out = {{"plan", plan.name}, {"out", *out_path}, {"density", sum.density}, {"recall", sum.recall},
                        {"min_recall", sum.min_recall}, {"heads", heads_json(heads)}};
  if (e2e) out["kl_mean"] = e2e->kl_mean, out["kl_max"] = e2e->kl_max, out["top1_agreement"] = e2e->top1_agreement;
  if (args.flag("json")) {
    std::cout << out.dump() << "\n";
    return 0;
  }
  print_heads(heads);
  std::cout << "\n" << plan.name << ": density " << fixed(sum.density, 4) << ", recall " << fixed(sum.recall, 4);
  if (e2e) std::cout << ", KL mean " << fixed(e2e->kl_mean, 5) << ", top-1 agreement " << fixed(e2e->top1_agreement, 4);
  std::cout << "\nplan written to " << *out_path << "\n";
  return 0;
}

}  // namespace

int run_masks(const std::vector<std::string>& raw_in) {
  if (raw_in.empty()) throw UsageError("masks needs a sub-command: eval, sweep or search");
  const std::string sub = raw_in.front();
  std::vector<std::string> raw(raw_in.begin() + 1, raw_in.end());
  const std::vector<std::string> params = take_params(raw);
  const Arguments args(raw, kValueOptions, kSwitches);
  if (sub == "eval") return run_eval(args, params);
  if (sub == "sweep") return run_sweep(args, params);
  if (sub == "search") return run_search(args, params);
  throw UsageError("unknown masks sub-command '" + sub + "' (eval, sweep or search)");
}

}  // namespace attnscope::cli
