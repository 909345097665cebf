// attnscope-cli: the engine from the command line (headless; the same engine the app uses).
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "kernels/error.h"

namespace {

constexpr const char* kUsage = R"(usage: attnscope-cli <command> [options]

commands:
  inspect  --model DIR [--context N] [--json]
           architecture, sizes, dtype, parameter count and the memory a run needs
  tokenize (--model DIR | --tokenizer FILE) (--text T | --text-file F) [--json]
           [--no-special-tokens]
           token ids exactly as Hugging Face tokenizers' encode gives them
  run      [--model DIR] (--prompt TEXT | --prompt-file F) [--generate N]
           [--layers 0,2,5-7|all] [--heads ...] [--save-capture FILE] [--json]
           [--device cpu|cuda] [--threads N] [--chunk N] [--sink-tokens N]
           [--local-window N] [--pool-block N] [--exact-limit N] [--no-stop-at-eos]
           runs the model (the bundled sample model without --model), greedy
           continuation and per-head attention statistics; the CPU computes in
           float32, cuda in bf16 on GPU 0. Before it
           starts, the memory it needs is checked against what is free
  profile  [--model DIR] [--task needle|passkey|repeat|prompt-file[,...]]
           [--lengths 512,1k] [--depths 0:100:50] [--metrics all|NAME,...] [--db FILE]
           [--json] [--device cpu|cuda] [--threads N] [--needles F] [--haystack F]
           [--template F|retrieval-head] [--passkey-template F] [--prompt-file F]
           [--needle-count N] [--seed N] [--chat] [--kv-heads] [--map METRIC] [--top N]
           [--streaming-length N] [--causality-k N] [--causality-draws N]
           profiles every head (sinks, retrieval, induction/echo, streaming sensitivity,
           pattern, density, the causality check) over a grid of task prompts, writing
           each completed prompt to the store; Ctrl-C stops cleanly (exit 130, the run
           marked interrupted, its completed prompts kept). All options: docs/profiling.md
  masks    eval [--model DIR] (--prompt T | --prompt-file F | --task needle|passkey
           [--length N] [--depth D] [--seed N] [--generate N])
           (--plan FILE | --method NAME [--density D] [--param k=v ...])
           [--out PLAN] [--no-end-to-end] [--db FILE] [--no-store] [--json] [--threads N]
           per-head recall and output error of a sparse plan against full attention,
           KL / top-1 / perplexity with the plan in every layer, and the task answered
           dense and under the plan
           sweep --method NAME --densities 0.05,0.1,... [--param k=v ...] [--end-to-end]
           recall / error (and KL) against density, with the Pareto front
           search (--target-recall R | --total-density D [--rules-per-layer N]) --out PLAN
           the cheapest family x budget per head reaching R, or the best allocation of
           D across heads; methods: streaming, window, vertical_slash,
           vertical_slash_oracle, block_topk, block_threshold, topk, topp, threshold,
           quest, snapkv, h2o, duo, moa, minference (docs/mask-lab.md, docs/mask-plans.md)
  export   --format duo|moa|minference|retrieval-head|razor|json|csv (--run ID | --plan FILE)
           --out PATH [--db FILE] [--model DIR] [--json]
           a stored profile run (or a plan) in the files DuoAttention, MoA, MInference,
           Retrieval_Head / HeadKV and RazorAttention load unchanged, or our profile JSON /
           CSV; checked against the model's config.json. moa from runs fits each head's
           span_90 at several lengths (--run once per length); duo: --kv-reduction
           max|mean, --sink, --recent; razor: --echo-ratio, --induction-ratio;
           retrieval-head: --reasoning (HeadKV's file); docs/export-formats.md
  import   --format ... FILE --model DIR [--out PLAN] [--json]
           checks such a file against the model's config.json and turns it into a mask
           plan (duo: --sparsity S | --threshold T; retrieval-head: --rule headkv|top-dense;
           razor: --sink, --local; json/csv: --plan-as duo|razor|minference)
  runs     list | show ID [--top N] | compare A B [--top N]   [--db FILE] [--json]
           the run history in the store (default $XDG_DATA_HOME/attnscope/attnscope.db,
           else ~/.local/share/attnscope/attnscope.db): list shows each run's model,
           task, status (a run whose process died is 'interrupted'), start, duration
           and completed units; show a run's parameters and its top heads per metric;
           compare the per-head metric differences of two runs of one model
  plugins  list [--json]
           the plugins found (the app's plugin folder, $XDG_DATA_HOME/attnscope/plugins
           or ~/.local/share/attnscope/plugins, ATTNSCOPE_PLUGIN_PATH), their jobs and
           each job's parameters with type, default and help
  batch    PLUGIN.JOB [--param k=v ...] [--model DIR ...] [--db FILE] [--out DIR]
           [--device cpu|cuda|auto] [--threads N] [--resume RUN] [--json]
           runs a plugin's job headless with progress and the time left on stderr;
           each completed unit is committed to the store, Ctrl-C stops cleanly (exit
           130, the run marked interrupted) and --resume RUN goes on from the units
           done (with the same parameters). Files go to --out (default
           ./attnscope-PLUGIN.JOB). docs/plugins.md
  version  prints the version (also --version)

COMMAND --help prints that command's part of this text.

Errors go to stderr; the exit code is 1 for an error, 2 for a usage mistake.
)";

// The lines of kUsage about one command (from "  COMMAND " to the next command); "" for
// a command it does not name.
std::string command_usage(const std::string& command) {
  const std::string text = kUsage;
  const size_t start = text.find("\n  " + command + " ");
  if (start == std::string::npos) return "";
  size_t end = start + 1;
  while (true) {
    end = text.find('\n', end);
    if (end == std::string::npos || end + 3 >= text.size() || text[end + 1] != ' ' || text[end + 2] != ' ' ||
        text[end + 3] != ' ')
      break;
    ++end;
  }
  return "usage: attnscope-cli <command> [options]\n" + text.substr(start, end - start) + "\n";
}

bool is_help(const std::string& a) { return a == "--help" || a == "-h"; }

// `attnscope-cli COMMAND --help`: help first or last, unless it is the value of an option
// that takes free text (tokenize --text --help tokenizes "--help").
bool asks_for_help(const std::vector<std::string>& args) {
  if (args.empty()) return false;
  if (is_help(args.front())) return true;
  if (!is_help(args.back())) return false;
  if (args.size() < 2) return true;
  const std::string& before = args[args.size() - 2];
  return before != "--text" && before != "--prompt" && before != "--param";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace attnscope::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "--version" || command == "-V") return std::puts("attnscope-cli " ATTNSCOPE_VERSION), 0;
  if (const std::string help = command_usage(command); !help.empty() && asks_for_help(args))
    return std::fputs(help.c_str(), stdout), 0;
  try {
    if (command == "inspect") return run_inspect(args);
    if (command == "tokenize") return run_tokenize(args);
    if (command == "run") return run_run(args);
    if (command == "runs") return run_runs(args);
    if (command == "masks") return run_masks(args);
    if (command == "profile") return run_profile(args);
    if (command == "plugins") return run_plugins(args);
    if (command == "batch") return run_batch(args);
    if (command == "export") return run_export(args);
    if (command == "import") return run_import(args);
    if (command == "version") return std::puts("attnscope-cli " ATTNSCOPE_VERSION), 0;
    throw UsageError("unknown command '" + command + "'");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "attnscope-cli: %s\n\n%s", e.what(), kUsage);
    return 2;
  } catch (const attnscope::Error& e) {
    std::fprintf(stderr, "attnscope-cli: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "attnscope-cli: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-cli: error: %s\n", e.what());
    return 1;
  }
}
