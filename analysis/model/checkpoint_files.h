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
// Checkpoints are data only: weights in PyTorch's pickle format (*.bin, *.pt, *.pth, *.ckpt,
// *.pkl) can run code when loaded, so they are refused, never read.
CheckpointFiles open_checkpoint_files(const std::filesystem::path& directory);

// True for a file name in one of the pickle formats above.
bool is_pickle_file_name(const std::filesystem::path& file);

// The end of every refusal of pickle weights.
inline constexpr const char* kSafetensorsOnly =
    "AttnScope reads safetensors only (data, never code: a pickle file can run code when it is loaded); "
    "convert the checkpoint or download its .safetensors files";

}  // namespace attnscope::model
