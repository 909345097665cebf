// attnscope-cli profile: the profiling job (analysis/profile/profile_job.h) on a model,
// with a progress bar on stderr, Ctrl-C to stop cleanly, the run in the store and a
// summary (or --json) at the end. docs/profiling.md.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "analysis/capture/capture_request.h"
#include "analysis/model/checkpoint.h"
#include "analysis/profile/profile_job.h"
#include "analysis/profile/profile_memory.h"
#include "analysis/profile/profile_prompts.h"
#include "analysis/store/database.h"
#include "analysis/tokenizer/tokenizer.h"
#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/interrupt_handler.h"
#include "app/cli/job_progress.h"
#include "app/cli/profile_options.h"
#include "app/cli/profile_report.h"
#include "app/cli/run_device.h"
#include "app/cli/store_options.h"
#include "kernels/error.h"

namespace attnscope::cli {
namespace {

void check_map_metric(const std::string& name) {
  if (name.empty()) return;
  for (std::string_view known : {profile::metric::sink_mass, profile::metric::local_mass, profile::metric::entropy,
                                 profile::metric::hidden_sinks, profile::metric::retrieval_score,
                                 profile::metric::retrieval_reasoning_score, profile::metric::induction_score,
                                 profile::metric::echo_score, profile::metric::streaming_gate,
                                 profile::metric::streaming_change, profile::metric::pattern, profile::metric::density_90,
                                 profile::metric::density_95, profile::metric::density_99, profile::metric::span_90})
    if (name == known) return;
  throw UsageError("--map '" + name + "' is not a per-head metric of the profile");
}

}  // namespace

int run_profile(const std::vector<std::string>& raw) {
  const Arguments args(raw, profile_value_options(), profile_switches());
  ProfileCommand command = parse_profile_command(args, args.value_or("device", "cpu"));
  check_map_metric(command.map_metric);
  profile::ProfileJobSpec& spec = command.spec;

  const std::filesystem::path dir = model_directory(args);
  const auto checkpoint = model::Checkpoint::open(dir);
  const model::ModelSpec& model_spec = checkpoint.spec();
  const auto tokenizer = tokenizer::load_model_tokenizer(dir, model_spec.vocab_size);
  profile::check_spec(spec, model_spec);  // before the device and the store are touched

  const RunDevice device = open_run_device(args);
  spec.prefill_chunk = args.integer_or("chunk", default_prefill_chunk(device.target), 1, 1 << 20);
  const model::MemoryEstimateOptions memory = profile::job_memory_options(spec, model_spec, device.target);
  check_run_fits(device, model_spec, memory, model_spec.max_position_embeddings);

  const std::filesystem::path db_path = database_path(args);
  const store::Database db = store::Database::open(db_path);
  const InterruptHandler handler;  // Ctrl-C: the job stops after (or without) the unit under way
  JobProgress progress;
  profile::ProfileCallbacks callbacks;
  callbacks.cancel = &InterruptHandler::flag();
  callbacks.on_progress = [&](const profile::ProfileProgress& p) { progress.update(p); };
  const auto start = std::chrono::steady_clock::now();
  profile::ProfileJobResult result;
  try {
    result = profile::run_profile_job(checkpoint, tokenizer, *device.backend, &db, spec, callbacks);
  } catch (const OutOfMemory& e) {
    progress.finish();
    rethrow_out_of_memory(e, device, model_spec, memory, model_spec.max_position_embeddings);
  }
  progress.finish();

  ReportContext context;
  context.model_dir = dir;
  context.spec = &model_spec;
  context.database = db_path;
  context.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  context.top = command.top;
  context.map_metric = command.map_metric;
  const bool stopped = result.status == store::RunStatus::Interrupted;
  if (stopped)
    std::fprintf(stderr, "attnscope-cli: interrupted: run %lld keeps its %lld completed units of %lld (status interrupted)\n",
                 result.run ? (long long)*result.run : -1LL, (long long)result.units_done, (long long)result.units_total);
  if (command.json)
    std::cout << profile_json(result, context).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else
    print_profile_summary(std::cout, result, context);
  return stopped ? 130 : 0;  // 128 + SIGINT, as a shell reports a process ended by Ctrl-C
}

}  // namespace attnscope::cli
