// attnscope-cli run: tokenize a prompt, run the model with attention capture, greedy
// continuation, and a per-layer, per-head table of the captured statistics.
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/capture/capture.h"
#include "analysis/capture/capture_file.h"
#include "analysis/model/checkpoint.h"
#include "analysis/runtime/generation.h"
#include "analysis/tokenizer/tokenizer.h"
#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/progress.h"
#include "app/cli/run_device.h"
#include "app/cli/text_format.h"
#include "kernels/error.h"

namespace attnscope::cli {
namespace {

constexpr int64_t kMaxTokensListed = 64;

capture::CaptureRequest capture_request(const Arguments& args, const model::ModelSpec& spec) {
  capture::CaptureRequest request;
  request.layers = capture::parse_index_list(args.value_or("layers", "all"), spec.num_layers, "--layers");
  request.heads = capture::parse_index_list(args.value_or("heads", "all"), spec.num_heads, "--heads");
  auto& o = request.options;
  o.sink_tokens = args.integer_or("sink-tokens", o.sink_tokens, 1, 1 << 20);
  o.local_window = args.integer_or("local-window", o.local_window, 1, 1 << 30);
  o.pool_block = args.integer_or("pool-block", o.pool_block, 1, 1 << 20);
  o.exact_limit = args.integer_or("exact-limit", o.exact_limit, 0, 1 << 20);
  // Exact probabilities cost N^2/2 floats a head: kept only when they are saved.
  o.exact_probabilities = args.has("save-capture") && o.exact_limit > 0;
  return request;
}

void print_tokens(const tokenizer::Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::cout << "prompt: " << ids.size() << " tokens\n";
  const int64_t n = int64_t(ids.size());
  for (int64_t i = 0; i < n; ++i) {
    if (n > kMaxTokensListed && i == kMaxTokensListed / 2) {
      std::cout << "  ... " << n - kMaxTokensListed << " more ...\n";
      i = n - kMaxTokensListed / 2;
    }
    std::cout << "  " << i << '\t' << ids[size_t(i)] << '\t' << printable(tok.token_string(ids[size_t(i)])) << '\n';
  }
}

void print_table(const std::vector<capture::HeadSummary>& heads, const kernels::CaptureOptions& o) {
  std::cout << "\nattention per head (sink = first " << o.sink_tokens << " keys, local = last "
            << o.local_window << " keys, entropy in nats; top1@sink = share of rows whose "
            << "strongest key is a sink; heaviest = key receiving the most attention)\n";
  std::printf("%5s %4s %7s %7s %8s %9s %9s %8s %7s\n", "layer", "head", "sink", "local", "entropy",
              "top1@sink", "top1_dist", "heaviest", "share");
  for (const auto& h : heads)
    std::printf("%5d %4d %7s %7s %8s %9s %9s %8lld %7s\n", h.layer, h.head, fixed(h.sink_mass, 3).c_str(),
                fixed(h.local_mass, 3).c_str(), fixed(h.entropy, 3).c_str(),
                fixed(h.top1_sink_fraction, 3).c_str(), fixed(h.top1_mean_distance, 1).c_str(),
                (long long)h.heaviest_key, fixed(h.heaviest_key_share, 3).c_str());
}

nlohmann::json heads_json(const std::vector<capture::HeadSummary>& heads) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : heads)
    out.push_back({{"layer", h.layer},
                   {"head", h.head},
                   {"rows", h.rows},
                   {"sink_mass", number_or_null(h.sink_mass)},
                   {"local_mass", number_or_null(h.local_mass)},
                   {"entropy", number_or_null(h.entropy)},
                   {"top1_sink_fraction", number_or_null(h.top1_sink_fraction)},
                   {"top1_mean_distance", number_or_null(h.top1_mean_distance)},
                   {"heaviest_key", h.heaviest_key},
                   {"heaviest_key_share", number_or_null(h.heaviest_key_share)}});
  return out;
}

}  // namespace

int run_run(const std::vector<std::string>& raw) {
  const Arguments args(raw,
                       {"model", "prompt", "prompt-file", "generate", "layers", "heads", "save-capture",
                        "threads", "device", "chunk", "sink-tokens", "local-window", "pool-block", "exact-limit"},
                       {"json", "no-stop-at-eos"});
  const std::filesystem::path dir = model_directory(args);
  const std::string text = text_input(args, "prompt", "prompt-file");
  const int64_t generate = args.integer_or("generate", 0, 0, 1 << 20);

  const auto checkpoint = model::Checkpoint::open(dir);
  const model::ModelSpec& spec = checkpoint.spec();
  const auto tok = tokenizer::load_model_tokenizer(dir, spec.vocab_size);
  const std::vector<int32_t> ids = tok.encode(text, true);
  if (ids.empty()) throw Error("prompt", "the prompt is empty (it encodes to no tokens)");
  const int64_t needed = int64_t(ids.size()) + generate;
  if (needed > spec.max_position_embeddings)
    throw Error("prompt", "the prompt has " + std::to_string(ids.size()) + " tokens" +
                              (generate ? " plus " + std::to_string(generate) + " to generate" : "") +
                              ", more than the model's context of " +
                              std::to_string(spec.max_position_embeddings) + " tokens");

  capture::Capture capture(capture_request(args, spec), spec);
  const RunDevice device = open_run_device(args);
  runtime::GenerationOptions options;
  options.max_new_tokens = generate;
  options.prefill_chunk = args.integer_or("chunk", default_prefill_chunk(device.target), 1, 1 << 20);
  options.stop_at_eos = !args.flag("no-stop-at-eos");

  model::MemoryEstimateOptions memory;
  memory.context_length = needed;
  memory.target = device.target;
  memory.prefill_chunk = options.prefill_chunk;
  memory.captured_heads = int64_t(capture.heads().size());
  memory.capture = capture.request().options;
  check_run_fits(device, spec, memory, spec.max_position_embeddings);

  runtime::GenerationResult result;
  try {
    runtime::Transformer model(checkpoint, *device.backend, needed);
    ProgressReporter progress;
    options.on_progress = [&](const runtime::Progress& p) { progress.update(p); };
    result = runtime::generate_greedy(model, ids, &capture, options);
    progress.finish();
  } catch (const OutOfMemory& e) {
    rethrow_out_of_memory(e, device, spec, memory, spec.max_position_embeddings);
  }

  if (auto path = args.value("save-capture"))
    capture::save_capture(*path, capture, {{"model", dir.string()}, {"architecture", spec.architecture_name}},
                          ids, result.continuation);

  const std::string continuation = tok.decode(result.continuation, false);
  const auto summaries = capture.summaries();
  if (args.flag("json")) {
    nlohmann::json out;
    out["ids"] = ids;
    out["continuation"] = continuation;
    out["continuation_ids"] = result.continuation;
    out["heads"] = heads_json(summaries);
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cout << "model: " << dir.string() << " (" << spec.architecture_name << ", " << spec.num_layers
            << " layers, " << spec.num_heads << " heads, " << spec.num_kv_heads << " KV heads)\n";
  print_tokens(tok, ids);
  if (generate > 0) {
    std::cout << "\ncontinuation (" << result.continuation.size() << " tokens): " << printable(continuation) << "\n";
    std::cout << "continuation ids:";
    for (int32_t id : result.continuation) std::cout << ' ' << id;
    std::cout << "\n";
  }
  print_table(summaries, capture.request().options);
  if (auto path = args.value("save-capture")) std::cout << "\ncapture saved to " << *path << "\n";
  return 0;
}

}  // namespace attnscope::cli
