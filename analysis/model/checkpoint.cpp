#include "analysis/model/checkpoint.h"

#include <algorithm>
#include <map>
#include <set>

#include "analysis/model/architecture.h"
#include "analysis/model/checkpoint_files.h"
#include "analysis/model/config.h"
#include "kernels/error.h"
#include "kernels/guarded_read.h"

namespace attnscope::model {
namespace {

struct StoredTensor {
  const io::SafetensorsFile* file;
  const io::SafetensorsEntry* entry;
};

}  // namespace

struct Checkpoint::Impl {
  std::filesystem::path directory;
  ModelSpec spec;
  const ArchitectureAdapter* adapter = nullptr;
  CheckpointFiles files;
  std::map<std::string, StoredTensor> by_canonical_name;
  std::vector<TensorInfo> tensors;
  int64_t parameter_count = 0;
  uint64_t stored_bytes = 0;
  kernels::DType stored_dtype = kernels::DType::F32;

  // Where a tensor that is not in any file should have been.
  std::string missing_where(const std::string& name) const {
    const std::filesystem::path& place = files.index ? *files.index : files.files.front().path();
    return place.string() + ": tensor " + name;
  }

  void index_tensors() {
    for (const io::SafetensorsFile& file : files.files)
      for (const io::SafetensorsEntry& e : file.tensors()) {
        stored_bytes += e.bytes();
        if (e.dtype) tensors.push_back({e.name, *e.dtype, e.shape, file.path()});
        const auto [it, inserted] = by_canonical_name.emplace(adapter->canonical_name(e.name), StoredTensor{&file, &e});
        if (!inserted)
          throw Error(file.where(e.name), "is stored twice (also as " + it->second.entry->name + " in " +
                                              it->second.file->path().string() + ")");
      }
    std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  }

  void check_expected() {
    std::set<std::string> expected_names;
    std::map<kernels::DType, int64_t> elements_by_dtype;
    for (const ExpectedTensor& expected : adapter->expected_tensors(spec)) {
      expected_names.insert(expected.name);
      const auto it = by_canonical_name.find(expected.name);
      if (it == by_canonical_name.end())
        throw Error(missing_where(expected.name),
                    "is missing; config.json implies it with shape " + io::shape_text(expected.shape) +
                        (expected.name == "lm_head.weight" ? " (tie_word_embeddings is false)" : ""));
      const io::SafetensorsEntry& e = *it->second.entry;
      const std::string where = it->second.file->where(e.name);
      if (!e.dtype) throw Error(where, "is stored as " + e.dtype_name + "; weights must be F32, F16 or BF16");
      if (e.shape != expected.shape)
        throw Error(where, "has shape " + io::shape_text(e.shape) + " but config.json implies " +
                               io::shape_text(expected.shape));
      parameter_count += e.elements();
      elements_by_dtype[*e.dtype] += e.elements();
    }
    stored_dtype = std::max_element(elements_by_dtype.begin(), elements_by_dtype.end(), [](const auto& a, const auto& b) {
                     return a.second < b.second;
                   })->first;

    for (const auto& [name, stored] : by_canonical_name) {
      if (expected_names.count(name) || adapter->is_unused_extra(spec, name)) continue;
      if (!stored.entry->dtype) continue;  // integer buffers (position ids, ...) cannot be mistaken for weights
      throw Error(stored.file->where(stored.entry->name),
                  "is not a weight of " + spec.architecture_name +
                      " as config.json describes it; the weights and config.json do not match");
    }
  }
};

Checkpoint Checkpoint::open(const std::filesystem::path& directory) {
  std::error_code ec;
  if (!std::filesystem::exists(directory, ec)) throw Error(directory.string(), "does not exist");
  if (!std::filesystem::is_directory(directory, ec)) {
    if (is_pickle_file_name(directory))
      throw Error(directory.string(), std::string("is a PyTorch pickle file; ") + kSafetensorsOnly);
    throw Error(directory.string(), "is not a directory (give the checkpoint folder holding config.json)");
  }
  auto impl = std::make_unique<Impl>();
  impl->directory = directory;
  impl->spec = load_config(directory / "config.json");
  impl->adapter = &adapter_for(impl->spec.architecture);
  impl->files = open_checkpoint_files(directory);
  impl->index_tensors();
  impl->check_expected();
  return Checkpoint(std::move(impl));
}

Checkpoint::Checkpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;
Checkpoint::~Checkpoint() = default;

const std::filesystem::path& Checkpoint::directory() const { return impl_->directory; }
const ModelSpec& Checkpoint::spec() const { return impl_->spec; }
const std::vector<TensorInfo>& Checkpoint::tensors() const { return impl_->tensors; }
int64_t Checkpoint::parameter_count() const { return impl_->parameter_count; }
uint64_t Checkpoint::stored_bytes() const { return impl_->stored_bytes; }
kernels::DType Checkpoint::stored_dtype() const { return impl_->stored_dtype; }

void Checkpoint::check_unchanged() const {
  for (const io::SafetensorsFile& file : impl_->files.files)
    if (const auto change = file.change_on_disk())
      throw Error(file.path().string(), *change + " while the model was being read from it; reopen the model "
                                                  "once the checkpoint is complete");
}

void Checkpoint::report_read_fault(const Error& fault) const {
  check_unchanged();
  throw Error(impl_->directory.string(), "reading the weights failed: " + fault.problem());
}

ModelWeights Checkpoint::weights() const {
  const TensorLookup find = [this](const std::string& name) {
    const StoredTensor& t = impl_->by_canonical_name.at(name);  // check_expected proved it exists
    return t.file->view(t.entry->name);
  };
  ModelWeights weights;
  try {
    weights = impl_->adapter->build_weights(impl_->spec, find);
  } catch (const kernels::MappedReadFault& fault) {
    report_read_fault(fault);
  }
  for (const io::SafetensorsFile& file : impl_->files.files) weights.keep_alive.push_back(file.keep_alive());
  return weights;
}

}  // namespace attnscope::model
