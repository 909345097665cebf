#pragma once
// A whole file mapped read-only into memory. Checkpoints are far larger than we want
// to copy; the kernel pages them in as the backend uploads each weight.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

namespace attnscope::io {

class MappedFile {
 public:
  // Maps `path`; throws attnscope::Error naming the file when it cannot be opened or mapped.
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::filesystem::path& path() const { return path_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  uint64_t size() const { return size_; }

 private:
  MappedFile(std::filesystem::path path, const std::byte* data, std::size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}

  std::filesystem::path path_;
  const std::byte* data_ = nullptr;  // null for an empty file (mmap refuses length 0)
  std::size_t size_ = 0;
};

}  // namespace attnscope::io
