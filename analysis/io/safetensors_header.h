#pragma once
// Parsing and validation of a safetensors header (internal to analysis/io).
#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "analysis/io/safetensors.h"

namespace attnscope::io {

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // sorted by name
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;                // file offset of the data region
};

// The largest header we accept; real ones are a few hundred KiB even for 100B models.
inline constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;

// "F64, F32, ...": the dtype names stored_dtype_size() knows, for error messages.
std::string known_dtype_names();

// Validates everything about `file` (the whole file's bytes) before any tensor is used;
// throws attnscope::Error naming `path` and, where it applies, the tensor.
SafetensorsHeader parse_safetensors_header(const std::filesystem::path& path, std::span<const std::byte> file);

}  // namespace attnscope::io
