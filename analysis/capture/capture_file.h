#pragma once
// Captures on disk: one safetensors file holding every captured head's accumulators,
// the capture options and the token ids (format: docs/capture-format.md).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "analysis/capture/capture.h"
#include "kernels/attention_capture.h"

namespace attnscope::capture {

inline constexpr const char* kCaptureFormat = "attnscope-capture";
inline constexpr int kCaptureFormatVersion = 1;

// What a capture file holds, read back: the accumulators exactly as they were saved,
// so summarize_heads(file.heads, file.options) gives what Capture::summaries() gave.
struct CaptureFile {
  std::map<std::string, std::string> metadata;  // everything in __metadata__
  kernels::CaptureOptions options;
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> continuation_ids;
  std::vector<kernels::HeadAccumulator> heads;  // layer-major, then head
};

// Writes `capture` to `path` atomically (a temporary file renamed into place), so a
// failed write leaves whatever was at `path` before. `metadata` adds free-form keys
// (model directory, architecture, ...); the keys the format itself uses ("format",
// "heads", "prompt_ids", ...) are refused. Throws attnscope::Error naming the file.
void save_capture(const std::filesystem::path& path, const Capture& capture,
                  const std::map<std::string, std::string>& metadata, std::span<const int32_t> prompt_ids,
                  std::span<const int32_t> continuation_ids);

// Reads a file written by save_capture; attnscope::Error naming the file (and tensor)
// when it is not a capture, has another format version, or misses, mis-shapes or
// contradicts (counts that do not add up) a tensor.
CaptureFile load_capture(const std::filesystem::path& path);
// The same from a whole file's bytes in memory; `name` stands for the file in errors.
CaptureFile parse_capture(std::vector<std::byte> bytes, const std::filesystem::path& name);

}  // namespace attnscope::capture
