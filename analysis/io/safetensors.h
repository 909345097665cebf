#pragma once
// Safetensors files: a memory-mapped reader that validates the whole header before
// handing anything out, and a writer (attention captures, test fixtures).
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON
//   {"<tensor>": {"dtype": "BF16", "shape": [r, c], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"<key>": "<string>", ...}}
// then the data region; offsets are bytes relative to the start of the data region.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/backend.h"
#include "kernels/dtype.h"

namespace attnscope::io {

// Bytes per element of a safetensors dtype name ("F32", "I64", "F8_E4M3", ...); nullopt for
// names we do not know (including sub-byte types, whose sizes a shape cannot check).
std::optional<std::size_t> stored_dtype_size(std::string_view dtype_name);

struct SafetensorsEntry {
  std::string name;
  std::string dtype_name;               // as stored: "BF16", "I64", "BOOL", ...
  std::optional<kernels::DType> dtype;  // set for F32, F16 and BF16, the types we compute with
  std::vector<int64_t> shape;           // empty for a scalar
  uint64_t begin = 0;                   // byte range [begin, end) in the data region
  uint64_t end = 0;

  int64_t elements() const;  // product of the shape (1 for a scalar)
  uint64_t bytes() const { return end - begin; }
};

// "[4096, 11008]"
std::string shape_text(std::span<const int64_t> shape);

class SafetensorsFile {
 public:
  // Maps `path` and validates the header: sizes, JSON, every entry's dtype, shape and
  // offsets, overlaps, duplicate names. Throws attnscope::Error whose where() names the
  // file (and the tensor, as "<file>: tensor <name>") and whose problem() says what is wrong.
  static SafetensorsFile open(const std::filesystem::path& path);
  // The same over a whole file's bytes held in memory (a fuzz input, a file read whole);
  // `name` stands for the file in errors.
  static SafetensorsFile from_bytes(std::vector<std::byte> bytes, const std::filesystem::path& name);

  const std::filesystem::path& path() const;
  uint64_t file_size() const;
  // Every tensor in the header (float or not), sorted by name.
  const std::vector<SafetensorsEntry>& tensors() const;
  // nullptr when the file has no tensor of that name.
  const SafetensorsEntry* find(std::string_view name) const;
  // The header's "__metadata__" (empty when absent).
  const std::map<std::string, std::string>& metadata() const;

  // A float tensor (F32, F16, BF16) as a view into the mapping: a scalar is [1, 1], a
  // vector [1, n], a matrix [rows, cols]; higher ranks fold the leading dimensions into
  // rows. Throws attnscope::Error when the tensor is absent or of another dtype.
  kernels::HostTensorView view(std::string_view name) const;
  // The stored bytes of any tensor, float or not.
  std::span<const std::byte> bytes(std::string_view name) const;
  // A float tensor's values converted to float32 (a copy).
  std::vector<float> read_f32(std::string_view name) const;
  // The stored bytes of a tensor copied to `dst` (bytes(name).size() of them). Unlike
  // reading bytes() directly, a file truncated under its mapping is an attnscope::Error
  // naming the tensor, not a crash (SIGBUS; kernels/guarded_read.h).
  void copy_bytes(std::string_view name, void* dst) const;

  // What happened to the file on disk since it was opened (MappedFile::change_on_disk);
  // nullopt when it looks unchanged, and always for bytes held in memory.
  std::optional<std::string> change_on_disk() const;

  // Owns the mapping: keep it while views from this file are in use.
  std::shared_ptr<const void> keep_alive() const;
  // "<file>: tensor <name>", the where() of errors about one tensor.
  std::string where(std::string_view tensor) const;

 private:
  struct State;
  explicit SafetensorsFile(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  const SafetensorsEntry& entry(std::string_view name) const;
  std::shared_ptr<const State> state_;
};

// Builds a safetensors file. Tensors are written in the layout Python's safetensors
// writes (contiguous, widest dtype first, then by name), so either library reads them.
class SafetensorsWriter {
 public:
  // A tensor of float values, stored as `stored` (F16 / BF16 round to nearest even).
  // The values are not copied: they must stay valid until write() returns.
  void add(std::string name, std::vector<int64_t> shape, std::span<const float> values,
           kernels::DType stored = kernels::DType::F32);
  // A tensor already encoded as little-endian bytes of any dtype stored_dtype_size() knows
  // (e.g. "I64"). The bytes are not copied either.
  void add_raw(std::string name, std::string dtype_name, std::vector<int64_t> shape,
               std::span<const std::byte> bytes);
  void set_metadata(std::string key, std::string value);

  // Writes to a temporary file next to `path` and renames it over `path`, so a failed
  // write never leaves a half file. Throws attnscope::Error naming `path`.
  void write(const std::filesystem::path& path) const;

 private:
  struct Pending {
    std::string name;
    std::string dtype_name;
    std::vector<int64_t> shape;
    std::span<const float> values;   // set by add()
    kernels::DType stored = kernels::DType::F32;
    std::span<const std::byte> raw;  // set by add_raw()
    bool is_raw = false;
    uint64_t bytes = 0;
  };
  void check_new_name(const std::string& name) const;
  std::vector<Pending> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A float32 tensor owned by the caller's map, for write_safetensors().
struct FloatTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;  // row-major, product(shape) entries
};

// Writes named float32 tensors and a string -> string "__metadata__" to `path`.
void write_safetensors(const std::filesystem::path& path, const std::map<std::string, FloatTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace attnscope::io
