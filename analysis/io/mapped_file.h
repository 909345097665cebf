#pragma once
// A whole file mapped read-only into memory. Checkpoints are far larger than we want
// to copy; the kernel pages them in as the backend uploads each weight.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

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

  // What happened to the file on disk since it was mapped ("was truncated from 14172488
  // to 4096 bytes", "was deleted", "was replaced by another file", "was modified"), or
  // nullopt when it looks the same (size, modification time, inode). A truncated file
  // faults reads of the mapping past its new end (SIGBUS: kernels/guarded_read.h).
  std::optional<std::string> change_on_disk() const;

 private:
  struct Identity {
    uint64_t device = 0, inode = 0, size = 0;
    int64_t modified_ns = 0;
  };
  MappedFile(std::filesystem::path path, const std::byte* data, std::size_t size, Identity identity)
      : path_(std::move(path)), data_(data), size_(size), identity_(identity) {}

  std::filesystem::path path_;
  const std::byte* data_ = nullptr;  // null for an empty file (mmap refuses length 0)
  std::size_t size_ = 0;
  Identity identity_;
};

}  // namespace attnscope::io
