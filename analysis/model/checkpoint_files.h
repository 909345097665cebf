#pragma once
// Finds and opens the safetensors files of a checkpoint directory: model.safetensors,
// or the shards that model.safetensors.index.json lists (cross-checked both ways).
#include <filesystem>
#include <optional>
#include <vector>

#include "analysis/io/safetensors.h"

namespace attnscope::model {

struct CheckpointFiles {
  std::vector<io::SafetensorsFile> files;       // one, or the shards in name order
  std::optional<std::filesystem::path> index;   // the index file when sharded
};

// Throws attnscope::Error naming the file (and tensor) when a file is missing, unreadable,
// invalid, or disagrees with the index.
CheckpointFiles open_checkpoint_files(const std::filesystem::path& directory);

}  // namespace attnscope::model
