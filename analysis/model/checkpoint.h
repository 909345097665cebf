#pragma once
// A Hugging Face checkpoint directory: config.json plus model.safetensors or shards
// listed in model.safetensors.index.json. Everything is validated on open.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "analysis/model/model_spec.h"
#include "analysis/model/model_weights.h"
#include "kernels/error.h"

namespace attnscope::model {

struct TensorInfo {
  std::string name;
  kernels::DType dtype;
  std::vector<int64_t> shape;
  std::filesystem::path file;
};

class Checkpoint {
 public:
  // Opens and validates `directory`; throws attnscope::Error naming the file, the tensor
  // and what is wrong (missing file, bad header, unknown dtype, shape mismatch, ...).
  static Checkpoint open(const std::filesystem::path& directory);

  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;
  ~Checkpoint();

  const std::filesystem::path& directory() const;
  const ModelSpec& spec() const;
  // All tensors of the checkpoint, sorted by name.
  const std::vector<TensorInfo>& tensors() const;
  // Views of the weights by role; valid while this Checkpoint (or the views'
  // keep_alive entries) live.
  ModelWeights weights() const;

  // Throws attnscope::Error naming the first weight file that changed on disk since
  // open() (truncated, replaced, modified: io::SafetensorsFile::change_on_disk); the
  // weights read from it may be wrong or, read past a truncation, fault.
  void check_unchanged() const;
  // For a weight read that faulted (kernels::MappedReadFault): throws attnscope::Error
  // naming the file that changed, or the checkpoint directory with `fault`'s problem.
  [[noreturn]] void report_read_fault(const Error& fault) const;

  int64_t parameter_count() const;
  uint64_t stored_bytes() const;           // bytes of tensor data on disk
  kernels::DType stored_dtype() const;     // the dtype most parameters are stored in

 private:
  struct Impl;
  explicit Checkpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace attnscope::model
