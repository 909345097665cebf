// prefill_bench: CPU prefill throughput of a checkpoint at given prompt lengths.
// Prints one JSON object per length; bench/prefill_vs_torch.py runs it beside a plain
// PyTorch implementation and prints the table.
//   prefill_bench --model DIR --lengths 512,2048 [--repeats 3] [--chunk 512]
//                 [--capture] [--ids-file FILE] [--logits-out FILE]
// --ids-file holds little-endian int32 token ids (the prompt prefix of each length);
// without it the ids are random. --logits-out FILE writes FILE.<length> (float32).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "analysis/capture/capture.h"
#include "analysis/model/checkpoint.h"
#include "analysis/runtime/generation.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"

using namespace attnscope;

int main(int argc, char** argv) {
  std::string model_dir, logits_out, ids_file;
  std::vector<int64_t> lengths{512, 2048};
  int repeats = 3;
  int64_t chunk = 512;
  bool with_capture = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--model") model_dir = next();
    else if (a == "--repeats") repeats = std::stoi(next());
    else if (a == "--chunk") chunk = std::stoll(next());
    else if (a == "--capture") with_capture = true;
    else if (a == "--logits-out") logits_out = next();
    else if (a == "--ids-file") ids_file = next();
    else if (a == "--lengths") {
      lengths.clear();
      const std::string list = next();
      for (size_t p = 0; p < list.size();) {
        const size_t c = list.find(',', p);
        lengths.push_back(std::stoll(list.substr(p, c - p)));
        p = c == std::string::npos ? list.size() : c + 1;
      }
    } else {
      std::fprintf(stderr, "prefill_bench: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  try {
    const auto checkpoint = model::Checkpoint::open(model_dir);
    auto backend = kernels::make_cpu_backend();
    int64_t longest = 0;
    for (int64_t n : lengths) longest = std::max(longest, n);
    runtime::Transformer model(checkpoint, *backend, longest);
    std::mt19937 rng(7);
    std::vector<int32_t> ids(static_cast<size_t>(longest));
    for (auto& id : ids) id = int32_t(rng() % uint32_t(checkpoint.spec().vocab_size));
    if (!ids_file.empty()) {
      std::ifstream in(ids_file, std::ios::binary);
      in.read(reinterpret_cast<char*>(ids.data()), std::streamsize(ids.size() * 4));
      if (in.gcount() != std::streamsize(ids.size() * 4))
        throw Error(ids_file, "holds fewer than " + std::to_string(longest) + " token ids");
    }

    for (int64_t n : lengths) {
      const std::span<const int32_t> prompt(ids.data(), size_t(n));
      double best = 1e30;
      std::vector<float> logits;
      for (int r = 0; r < repeats; ++r) {
        capture::Capture capture(capture::CaptureRequest{}, checkpoint.spec());
        runtime::GenerationOptions options;
        options.prefill_chunk = chunk;
        const auto start = std::chrono::steady_clock::now();
        logits = runtime::generate_greedy(model, prompt, with_capture ? &capture : nullptr, options).last_logits;
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      std::printf("{\"length\": %lld, \"seconds\": %.4f, \"tokens_per_s\": %.1f, \"capture\": %s}\n",
                  (long long)n, best, double(n) / best, with_capture ? "true" : "false");
      if (!logits_out.empty()) {
        std::ofstream out(logits_out + "." + std::to_string(n), std::ios::binary);
        out.write(reinterpret_cast<const char*>(logits.data()), std::streamsize(logits.size() * 4));
      }
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "prefill_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
