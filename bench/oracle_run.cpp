// oracle_run: greedy decoding from given prompt ids on the CUDA (bf16) or CPU (float32)
// backend, writing the logits of every step; bench/oracle_vs_transformers.py compares
// them with transformers.
//   oracle_run --model DIR --requests FILE --out DIR [--device cuda|cpu] [--steps 16]
//              [--chunk N]
// FILE is JSON: {"prompts": [[id, ...], ...], "follow": [[id, ...], ...]}; "follow" is
// optional and gives, per prompt, the tokens to feed instead of our own choices.
// For prompt i it writes, as float32 [steps, vocab], row s being the logits that choose
// generated token s (no stop at EOS):
//   OUT/free.<i>.f32    free greedy decoding (our own argmax fed back);
//   OUT/forced.<i>.f32  with "follow": follow[i][s] fed after step s, so each row sees
//                       the same context as the reference that chose those tokens;
// and OUT/result.json: {"backend", "vocab", "steps", "prompts": [{"greedy": [...],
// "forced_argmax": [...]}]}; forced_argmax[s] is our choice at step s of the forced run.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/model/checkpoint.h"
#include "analysis/runtime/generation.h"
#include "bench/bench_device.h"
#include "kernels/error.h"

using namespace attnscope;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string model_dir, requests, out_dir, device = "cuda";
  int steps = 16;
  long long chunk = 0;  // 0: the device's default
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw Error(a, "needs a value");
      return argv[++i];
    };
    if (a == "--model") o.model_dir = next();
    else if (a == "--requests") o.requests = next();
    else if (a == "--out") o.out_dir = next();
    else if (a == "--device") o.device = next();
    else if (a == "--steps") o.steps = std::stoi(next());
    else if (a == "--chunk") o.chunk = std::stoll(next());
    else throw Error(a, "is not an argument of oracle_run");
  }
  for (const auto& [flag, value] : {std::pair{"--model", &o.model_dir}, {"--requests", &o.requests}, {"--out", &o.out_dir}})
    if (value->empty()) throw Error(flag, "is required");
  if (o.steps < 1) throw Error("--steps", "must be 1 or more");
  return o;
}

std::vector<std::vector<int32_t>> id_lists(const nlohmann::json& requests, const char* key, const std::string& file) {
  std::vector<std::vector<int32_t>> lists;
  if (!requests.contains(key)) return lists;
  try {
    lists = requests.at(key).get<std::vector<std::vector<int32_t>>>();
  } catch (const nlohmann::json::exception&) {
    throw Error(file, std::string("\"") + key + "\" is not a list of token id lists");
  }
  return lists;
}

// Greedy decoding of `steps` tokens after `prompt`; returns the logits rows [steps, vocab]
// and our argmax at each step in `chosen`. `follow` (may be null) is fed instead of them.
std::vector<float> decode(runtime::Transformer& model, std::span<const int32_t> prompt,
                          const std::vector<int32_t>* follow, int steps, long long chunk,
                          std::vector<int32_t>& chosen) {
  runtime::GenerationOptions options;
  options.prefill_chunk = chunk;
  std::vector<float> row = runtime::generate_greedy(model, prompt, nullptr, options).last_logits;
  std::vector<float> rows;
  rows.reserve(size_t(steps) * row.size());
  chosen.clear();
  for (int s = 0; s < steps; ++s) {
    rows.insert(rows.end(), row.begin(), row.end());
    chosen.push_back(runtime::argmax_token(row));
    if (s + 1 == steps) break;
    const int32_t next = follow ? (*follow)[size_t(s)] : chosen.back();
    row = model.forward(std::span<const int32_t>(&next, 1), nullptr, runtime::Logits::LastRow);
  }
  return rows;
}

void write_f32(const fs::path& path, const std::vector<float>& values) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values.data()), std::streamsize(values.size() * sizeof(float)));
  if (!out) throw Error(path.string(), "could not be written");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {  // a usage mistake, std::stoi's included
    std::fprintf(stderr, "oracle_run: %s\n", e.what());
    return 2;
  }
  try {
    std::ifstream in(o.requests);
    if (!in) throw Error(o.requests, "cannot be opened");
    nlohmann::json requests;
    try {
      requests = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw Error(o.requests, std::string("is not valid JSON: ") + e.what());
    }
    const auto prompts = id_lists(requests, "prompts", o.requests);
    const auto follow = id_lists(requests, "follow", o.requests);
    if (prompts.empty()) throw Error(o.requests, "has no \"prompts\"");
    if (!follow.empty() && follow.size() != prompts.size())
      throw Error(o.requests, "has " + std::to_string(follow.size()) + " \"follow\" lists for " +
                                  std::to_string(prompts.size()) + " prompts");
    for (size_t i = 0; i < follow.size(); ++i)
      if (follow[i].size() + 1 < size_t(o.steps))
        throw Error(o.requests, "\"follow\" list " + std::to_string(i) + " has " + std::to_string(follow[i].size()) +
                                    " tokens; " + std::to_string(o.steps - 1) + " are fed");
    size_t longest = 0;
    for (const auto& p : prompts) longest = std::max(longest, p.size());

    bench::BenchDevice device(o.device);
    const long long chunk = o.chunk > 0 ? o.chunk : device.default_chunk();
    const auto start = std::chrono::steady_clock::now();
    const auto checkpoint = model::Checkpoint::open(o.model_dir);
    runtime::Transformer model(checkpoint, device.backend(), int64_t(longest) + o.steps);
    std::fprintf(stderr, "oracle_run: %s on %s, loaded in %.1f s\n", o.model_dir.c_str(),
                 device.backend().name().c_str(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

    fs::create_directories(o.out_dir);
    nlohmann::json result = {{"backend", device.backend().name()},
                             {"vocab", checkpoint.spec().vocab_size},
                             {"steps", o.steps},
                             {"prompts", nlohmann::json::array()}};
    for (size_t i = 0; i < prompts.size(); ++i) {
      nlohmann::json entry;
      std::vector<int32_t> chosen;
      write_f32(fs::path(o.out_dir) / ("free." + std::to_string(i) + ".f32"),
                decode(model, prompts[i], nullptr, o.steps, chunk, chosen));
      entry["greedy"] = chosen;
      if (!follow.empty()) {
        write_f32(fs::path(o.out_dir) / ("forced." + std::to_string(i) + ".f32"),
                  decode(model, prompts[i], &follow[i], o.steps, chunk, chosen));
        entry["forced_argmax"] = chosen;
      }
      result["prompts"].push_back(entry);
      std::fprintf(stderr, "oracle_run: prompt %zu (%zu tokens) done\n", i, prompts[i].size());
    }
    const fs::path path = fs::path(o.out_dir) / "result.json";
    std::ofstream out(path);
    out << result.dump(1) << "\n";
    if (!out) throw Error(path.string(), "could not be written");
  } catch (const std::exception& e) {  // attnscope::Error, or std::bad_alloc of host memory
    std::fprintf(stderr, "oracle_run: %s\n", e.what());
    return 1;
  }
  return 0;
}
