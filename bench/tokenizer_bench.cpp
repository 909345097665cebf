// tokenizer_bench: encoding speed of the four real tokenizers (GPT-2, Llama 2, Llama 3, Qwen 3)
// on one thread, beside Hugging Face tokenizers on the same text in the same run, and a check
// that both give the same ids.
//   tokenizer_bench [--repeats N] [--no-baseline]
// Needs the files of scripts/fetch_test_data.sh; the baseline needs node and the binding
// installed as tests/tokenizer_data/generate_reference.mjs explains (TOKREF_DIR, default
// /tmp/tokref). Each pass starts from a freshly loaded tokenizer, so word caches start cold on
// both sides; the table shows the fastest of the passes.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/tokenizer/tokenizer.h"
#include "kernels/error.h"

namespace fs = std::filesystem;
using attnscope::tokenizer::Tokenizer;

namespace {

const fs::path kSourceDir = ATTNSCOPE_SOURCE_DIR;
const char* const kTokenizers[] = {"gpt2", "llama2", "llama3", "qwen3"};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw attnscope::Error(path.string(), "cannot open the file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The bench text, one encode call per document. Fixed sources, read in sorted order, so every
// run on a Debian 12 machine set up by scripts/setup.sh reads the same bytes:
//   prose: sample_data/prompts/haystack.txt and /usr/share/common-licenses/* (base-files)
//   code: /usr/include/c++/12/bits/* (libstdc++-12-dev) up to 2 MB
//   multilingual: the tokenizer test corpus (CJK, emoji, accents, special tokens), 32 copies
struct BenchText {
  std::vector<std::string> documents;
  std::vector<std::pair<std::string, size_t>> parts;  // source name, bytes
  size_t bytes() const {
    size_t n = 0;
    for (const auto& d : documents) n += d.size();
    return n;
  }
};

std::vector<fs::path> sorted_files(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) throw attnscope::Error(dir.string(), "not found (see bench/tokenizer_bench.cpp)");
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

BenchText bench_text() {
  BenchText text;
  auto add_part = [&](const std::string& name, const std::vector<std::string>& docs) {
    size_t n = 0;
    for (const auto& d : docs) n += d.size();
    text.documents.insert(text.documents.end(), docs.begin(), docs.end());
    text.parts.emplace_back(name, n);
  };

  std::vector<std::string> prose{read_file(kSourceDir / "sample_data/prompts/haystack.txt")};
  for (const auto& file : sorted_files("/usr/share/common-licenses")) prose.push_back(read_file(file));
  add_part("prose (haystack.txt, /usr/share/common-licenses)", prose);

  std::vector<std::string> code;
  size_t code_bytes = 0;
  for (const auto& file : sorted_files("/usr/include/c++/12/bits")) {
    if (code_bytes >= 2'000'000) break;
    code.push_back(read_file(file));
    code_bytes += code.back().size();
  }
  add_part("code (/usr/include/c++/12/bits)", code);

  // The corpus items are short; joined into one document per copy so that the time per call
  // (about 35 us through the Node binding) does not weigh on the baseline.
  std::string corpus;
  std::istringstream lines(read_file(kSourceDir / "tests/tokenizer_data/corpus.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) corpus += nlohmann::json::parse(line).at("text").get<std::string>() + "\n\n";
  }
  const std::vector<std::string> multilingual(32, corpus);
  add_part("multilingual (tests/tokenizer_data/corpus.jsonl x 32)", multilingual);
  return text;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One side's result on one tokenizer.
struct Run {
  double best_seconds = 1e30;
  std::vector<std::vector<int32_t>> ids;  // per document, of the first pass
};

Run run_ours(const fs::path& tokenizer_json, const BenchText& text, int repeats) {
  Run run;
  for (int r = 0; r < repeats; ++r) {
    const Tokenizer tokenizer = Tokenizer::from_file(tokenizer_json);
    std::vector<std::vector<int32_t>> ids;
    ids.reserve(text.documents.size());
    const auto start = std::chrono::steady_clock::now();
    for (const auto& doc : text.documents) ids.push_back(tokenizer.encode(doc, true));
    run.best_seconds = std::min(run.best_seconds, seconds_since(start));
    if (r == 0) run.ids = std::move(ids);
  }
  return run;
}

// The .ids file of tokenizer_bench_hf.mjs: per document an int32 count, then the ids.
std::vector<std::vector<int32_t>> read_ids(const fs::path& path) {
  const std::string raw = read_file(path);
  std::vector<int32_t> flat(raw.size() / 4);
  std::copy(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(flat.size() * 4), reinterpret_cast<char*>(flat.data()));
  std::vector<std::vector<int32_t>> ids;
  for (size_t at = 0; at < flat.size();) {
    const size_t count = std::min(static_cast<size_t>(flat[at]), flat.size() - at - 1);
    const auto first = flat.begin() + static_cast<std::ptrdiff_t>(at + 1);
    ids.emplace_back(first, first + static_cast<std::ptrdiff_t>(count));
    at += 1 + count;
  }
  return ids;
}

// Runs tokenizer_bench_hf.mjs on all tokenizers at once; an empty result, with the reason on
// stderr, when node or the binding is missing.
std::vector<Run> run_baseline(const std::vector<fs::path>& files, const BenchText& text, int repeats) {
  std::string dir_template = (fs::temp_directory_path() / "attnscope-tokbench-XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) throw attnscope::Error(dir_template, "mkdtemp failed");
  const fs::path dir = dir_template;
  {
    std::ofstream docs(dir / "docs.jsonl", std::ios::binary);
    for (const auto& doc : text.documents) docs << nlohmann::json(doc).dump() << '\n';
  }
  // One core for the baseline too: tokenizers' rayon pool is kept to one thread.
  std::string command = "RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false node '" +
                        (kSourceDir / "bench/tokenizer_bench_hf.mjs").string() + "' '" + (dir / "docs.jsonl").string() +
                        "' '" + dir.string() + "' " + std::to_string(repeats);
  for (const auto& f : files) command += " '" + f.string() + "'";
  std::string output;
  int status = -1;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
    status = ::pclose(pipe);
  }
  std::vector<Run> runs;
  std::istringstream lines(output);
  for (std::string line; status == 0 && std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;  // not one of the script's result lines
    const auto seconds = nlohmann::json::parse(line).at("seconds").get<std::vector<double>>();
    Run run;
    run.best_seconds = *std::min_element(seconds.begin(), seconds.end());
    run.ids = read_ids(dir / (std::to_string(runs.size()) + ".ids"));
    runs.push_back(std::move(run));
  }
  fs::remove_all(dir);
  if (runs.size() != files.size()) {
    std::fprintf(stderr,
                 "tokenizer_bench: no baseline: %s failed; install the binding as "
                 "tests/tokenizer_data/generate_reference.mjs explains, or pass --no-baseline\n",
                 command.c_str());
    runs.clear();
  }
  return runs;
}

// "yes", or where the first difference is.
std::string compare_ids(const std::vector<std::vector<int32_t>>& ours, const std::vector<std::vector<int32_t>>& theirs) {
  if (ours.size() != theirs.size()) return "no (document count)";
  for (size_t d = 0; d < ours.size(); ++d) {
    if (ours[d] == theirs[d]) continue;
    const auto diff = std::mismatch(ours[d].begin(), ours[d].end(), theirs[d].begin(), theirs[d].end());
    return "no (document " + std::to_string(d) + ", token " + std::to_string(diff.first - ours[d].begin()) + ")";
  }
  return "yes";
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 3;
  bool baseline = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeats" && i + 1 < argc) {
      repeats = std::max(1, std::stoi(argv[++i]));
    } else if (a == "--no-baseline") {
      baseline = false;
    } else {
      std::fprintf(stderr, "usage: tokenizer_bench [--repeats N] [--no-baseline]\n");
      return 2;
    }
  }
  try {
    const BenchText text = bench_text();
    const double mb = static_cast<double>(text.bytes()) / 1e6;
    std::printf("bench text: %.2f MB in %zu documents\n", mb, text.documents.size());
    for (const auto& [name, bytes] : text.parts) std::printf("  %-55s %.2f MB\n", name.c_str(), static_cast<double>(bytes) / 1e6);

    std::vector<fs::path> files;
    for (const char* name : kTokenizers) {
      files.push_back(kSourceDir / ".cache/tokenizers" / name / "tokenizer.json");
      if (!fs::exists(files.back())) throw attnscope::Error(files.back().string(), "missing: run scripts/fetch_test_data.sh");
    }
    const std::vector<Run> hf = baseline ? run_baseline(files, text, repeats) : std::vector<Run>{};

    std::printf("\none thread, fastest of %d passes, each from a freshly loaded tokenizer\n", repeats);
    std::printf("%-10s %6s %9s %11s %11s %9s  %s\n", "tokenizer", "MB", "seconds", "MB/s ours", "MB/s HF", "ours/HF",
                "ids equal HF");
    for (size_t t = 0; t < files.size(); ++t) {
      const Run ours = run_ours(files[t], text, repeats);
      const double ours_rate = mb / ours.best_seconds;
      if (hf.empty()) {
        std::printf("%-10s %6.2f %9.3f %11.2f %11s %9s  %s\n", kTokenizers[t], mb, ours.best_seconds, ours_rate, "n/a",
                    "n/a", "n/a");
      } else {
        const double hf_rate = mb / hf[t].best_seconds;
        std::printf("%-10s %6.2f %9.3f %11.2f %11.2f %9.2f  %s\n", kTokenizers[t], mb, ours.best_seconds, ours_rate,
                    hf_rate, ours_rate / hf_rate, compare_ids(ours.ids, hf[t].ids).c_str());
      }
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenizer_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
