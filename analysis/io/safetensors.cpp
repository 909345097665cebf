#include "analysis/io/safetensors.h"

#include <algorithm>
#include <array>
#include <utility>

#include "analysis/io/mapped_file.h"
#include "analysis/io/safetensors_header.h"
#include "kernels/error.h"
#include "kernels/guarded_read.h"

namespace attnscope::io {
namespace {

// The dtypes of the safetensors format whose elements are whole bytes.
constexpr std::array<std::pair<std::string_view, std::size_t>, 16> kDTypes = {{
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1},
    {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1}, {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1},
    {"BOOL", 1},
}};

}  // namespace

std::optional<std::size_t> stored_dtype_size(std::string_view dtype_name) {
  for (const auto& [name, size] : kDTypes)
    if (name == dtype_name) return size;
  return std::nullopt;
}

std::string known_dtype_names() {
  std::string out;
  for (const auto& [name, size] : kDTypes) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

int64_t SafetensorsEntry::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // the header check proved this cannot overflow
  return n;
}

std::string shape_text(std::span<const int64_t> shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

struct SafetensorsFile::State {
  std::filesystem::path path;
  std::shared_ptr<const MappedFile> mapped;  // null for bytes held in memory
  std::vector<std::byte> held;
  std::span<const std::byte> data;           // the whole file
  SafetensorsHeader header;
};

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  auto state = std::make_shared<State>();
  state->path = path;
  state->mapped = MappedFile::open(path);
  state->data = state->mapped->bytes();
  state->header = parse_safetensors_header(path, state->data);
  return SafetensorsFile(std::move(state));
}

SafetensorsFile SafetensorsFile::from_bytes(std::vector<std::byte> bytes, const std::filesystem::path& name) {
  auto state = std::make_shared<State>();
  state->path = name;
  state->held = std::move(bytes);
  state->data = state->held;
  state->header = parse_safetensors_header(name, state->data);
  return SafetensorsFile(std::move(state));
}

const std::filesystem::path& SafetensorsFile::path() const { return state_->path; }
uint64_t SafetensorsFile::file_size() const { return state_->data.size(); }
const std::vector<SafetensorsEntry>& SafetensorsFile::tensors() const { return state_->header.entries; }
const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return state_->header.metadata; }
std::shared_ptr<const void> SafetensorsFile::keep_alive() const { return state_; }

std::optional<std::string> SafetensorsFile::change_on_disk() const {
  return state_->mapped ? state_->mapped->change_on_disk() : std::nullopt;
}

std::string SafetensorsFile::where(std::string_view tensor) const {
  return path().string() + ": tensor " + std::string(tensor);
}

const SafetensorsEntry* SafetensorsFile::find(std::string_view name) const {
  const auto& entries = state_->header.entries;
  const auto it = std::lower_bound(entries.begin(), entries.end(), name,
                                   [](const SafetensorsEntry& e, std::string_view n) { return e.name < n; });
  return it != entries.end() && it->name == name ? &*it : nullptr;
}

const SafetensorsEntry& SafetensorsFile::entry(std::string_view name) const {
  const SafetensorsEntry* e = find(name);
  if (e == nullptr) throw Error(where(name), "is not in this file");
  return *e;
}

std::span<const std::byte> SafetensorsFile::bytes(std::string_view name) const {
  const SafetensorsEntry& e = entry(name);
  return state_->data.subspan(state_->header.data_start + e.begin, e.bytes());
}

kernels::HostTensorView SafetensorsFile::view(std::string_view name) const {
  const SafetensorsEntry& e = entry(name);
  if (!e.dtype)
    throw Error(where(name), "is stored as " + e.dtype_name + "; only F32, F16 and BF16 tensors can be read as floats");
  kernels::HostTensorView v;
  v.dtype = *e.dtype;
  v.cols = e.shape.empty() ? 1 : e.shape.back();
  v.rows = 1;
  for (std::size_t i = 0; i + 1 < e.shape.size(); ++i) v.rows *= e.shape[i];
  v.data = bytes(name).data();
  return v;
}

std::vector<float> SafetensorsFile::read_f32(std::string_view name) const {
  const kernels::HostTensorView v = view(name);
  std::vector<float> out(std::size_t(v.rows * v.cols));
  if (!kernels::guarded([&] { kernels::convert_to_f32(v.data, v.dtype, out.size(), out.data()); }))
    throw Error(where(name), std::string(kernels::kMappedReadFaultProblem) + "; the file " +
                                 change_on_disk().value_or("looks unchanged now"));
  return out;
}

void SafetensorsFile::copy_bytes(std::string_view name, void* dst) const {
  const std::span<const std::byte> stored = bytes(name);
  if (!kernels::guarded_copy(dst, stored.data(), stored.size()))
    throw Error(where(name), std::string(kernels::kMappedReadFaultProblem) + "; the file " +
                                 change_on_disk().value_or("looks unchanged now"));
}

}  // namespace attnscope::io
