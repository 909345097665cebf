#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "analysis/io/safetensors.h"
#include "kernels/error.h"

namespace attnscope::io {
namespace {

uint64_t element_count(const std::string& name, const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error("tensor " + name, "shape " + shape_text(shape) + " has a negative dimension");
    if (__builtin_mul_overflow(n, uint64_t(d), &n))
      throw Error("tensor " + name, "shape " + shape_text(shape) + " has more elements than can be addressed");
  }
  return n;
}

// A FILE that is closed, and its temporary file removed, unless the write completed.
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::filesystem::path& target)
      : target_(target), temp_(target.string() + ".tmp." + std::to_string(::getpid())) {
    file_ = std::fopen(temp_.c_str(), "wb");
    if (file_ == nullptr) fail("cannot create the file");
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) std::remove(temp_.c_str());
  }

  void write(const void* data, std::size_t bytes) {
    if (bytes != 0 && std::fwrite(data, 1, bytes, file_) != bytes) fail("cannot write the file");
  }

  void commit() {
    const int closed = std::fclose(file_);
    file_ = nullptr;
    if (closed != 0) fail("cannot write the file");
    std::error_code ec;
    std::filesystem::rename(temp_, target_, ec);
    if (ec) throw Error(target_.string(), "cannot move the finished file into place: " + ec.message());
    committed_ = true;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw Error(target_.string(), std::string(what) + ": " + std::strerror(errno));
  }
  std::filesystem::path target_;
  std::filesystem::path temp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

// Converts in slices so that a multi-GiB capture never needs a second full copy.
void write_converted(TemporaryFile& out, std::span<const float> values, kernels::DType stored) {
  constexpr std::size_t kSlice = 1 << 16;
  std::vector<uint16_t> buffer(std::min(values.size(), kSlice));
  for (std::size_t start = 0; start < values.size(); start += kSlice) {
    const std::size_t n = std::min(kSlice, values.size() - start);
    for (std::size_t i = 0; i < n; ++i)
      buffer[i] = stored == kernels::DType::BF16 ? kernels::f32_to_bf16(values[start + i])
                                                 : kernels::f32_to_f16(values[start + i]);
    out.write(buffer.data(), n * 2);
  }
}

}  // namespace

void SafetensorsWriter::check_new_name(const std::string& name) const {
  if (name.empty()) throw Error("safetensors writer", "a tensor needs a name");
  if (name == "__metadata__") throw Error("tensor " + name, "this name is reserved for the metadata");
  for (const Pending& t : tensors_)
    if (t.name == name) throw Error("tensor " + name, "was added twice");
}

void SafetensorsWriter::add(std::string name, std::vector<int64_t> shape, std::span<const float> values,
                            kernels::DType stored) {
  check_new_name(name);
  const uint64_t n = element_count(name, shape);
  if (n != values.size())
    throw Error("tensor " + name, "shape " + shape_text(shape) + " has " + std::to_string(n) + " elements but " +
                                      std::to_string(values.size()) + " values were given");
  Pending t;
  t.dtype_name = std::string(kernels::dtype_name(stored));
  t.values = values;
  t.stored = stored;
  t.bytes = n * kernels::dtype_size(stored);
  t.name = std::move(name);
  t.shape = std::move(shape);
  tensors_.push_back(std::move(t));
}

void SafetensorsWriter::add_raw(std::string name, std::string dtype_name, std::vector<int64_t> shape,
                                std::span<const std::byte> bytes) {
  check_new_name(name);
  const auto size = stored_dtype_size(dtype_name);
  if (!size) throw Error("tensor " + name, "unknown dtype \"" + dtype_name + "\"");
  const uint64_t n = element_count(name, shape);
  uint64_t needed = 0;
  if (__builtin_mul_overflow(n, *size, &needed) || needed != bytes.size())
    throw Error("tensor " + name, "shape " + shape_text(shape) + " of " + dtype_name + " does not match the " +
                                      std::to_string(bytes.size()) + " bytes given");
  Pending t;
  t.raw = bytes;
  t.is_raw = true;
  t.bytes = bytes.size();
  t.name = std::move(name);
  t.dtype_name = std::move(dtype_name);
  t.shape = std::move(shape);
  tensors_.push_back(std::move(t));
}

void SafetensorsWriter::set_metadata(std::string key, std::string value) {
  metadata_[std::move(key)] = std::move(value);
}

void SafetensorsWriter::write(const std::filesystem::path& path) const {
  // Widest elements first keeps every tensor aligned to its element size.
  std::vector<const Pending*> order;
  for (const Pending& t : tensors_) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const Pending* a, const Pending* b) {
    const auto sa = *stored_dtype_size(a->dtype_name), sb = *stored_dtype_size(b->dtype_name);
    return sa != sb ? sa > sb : a->name < b->name;
  });

  nlohmann::json header = nlohmann::json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const Pending* t : order) {
    header[t->name] = {{"dtype", t->dtype_name}, {"shape", t->shape}, {"data_offsets", {offset, offset + t->bytes}}};
    offset += t->bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data region starts 8-byte aligned
  const uint64_t header_bytes = text.size();

  TemporaryFile out(path);
  out.write(&header_bytes, 8);
  out.write(text.data(), text.size());
  for (const Pending* t : order) {
    if (t->is_raw)
      out.write(t->raw.data(), t->raw.size());
    else if (t->stored == kernels::DType::F32)
      out.write(t->values.data(), t->values.size_bytes());
    else
      write_converted(out, t->values, t->stored);
  }
  out.commit();
}

void write_safetensors(const std::filesystem::path& path, const std::map<std::string, FloatTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  SafetensorsWriter writer;
  for (const auto& [name, t] : tensors) writer.add(name, t.shape, t.values);
  for (const auto& [key, value] : metadata) writer.set_metadata(key, value);
  writer.write(path);
}

}  // namespace attnscope::io
