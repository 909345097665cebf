#include "analysis/io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kernels/error.h"

namespace attnscope::io {
namespace {

// Closes the descriptor on every path out of open(); the mapping outlives it.
struct Descriptor {
  int fd = -1;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

std::string system_error(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

int64_t modified_ns(const struct stat& info) { return int64_t(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec; }

}  // namespace

std::shared_ptr<const MappedFile> MappedFile::open(const std::filesystem::path& path) {
  Descriptor file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) throw Error(path.string(), system_error("cannot open the file"));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) throw Error(path.string(), system_error("cannot read the file's size"));
  if (!S_ISREG(info.st_mode)) throw Error(path.string(), "is not a regular file");
  const auto size = std::size_t(info.st_size);
  const Identity identity{uint64_t(info.st_dev), uint64_t(info.st_ino), uint64_t(info.st_size), modified_ns(info)};
  if (size == 0) return std::shared_ptr<const MappedFile>(new MappedFile(path, nullptr, 0, identity));
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (data == MAP_FAILED) throw Error(path.string(), system_error("cannot map the file into memory"));
  return std::shared_ptr<const MappedFile>(new MappedFile(path, static_cast<const std::byte*>(data), size, identity));
}

std::optional<std::string> MappedFile::change_on_disk() const {
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0) return errno == ENOENT ? "was deleted" : system_error("cannot be read");
  if (uint64_t(info.st_dev) != identity_.device || uint64_t(info.st_ino) != identity_.inode)
    return "was replaced by another file";
  if (uint64_t(info.st_size) < identity_.size)
    return "was truncated from " + std::to_string(identity_.size) + " to " + std::to_string(info.st_size) + " bytes";
  if (uint64_t(info.st_size) != identity_.size)
    return "grew from " + std::to_string(identity_.size) + " to " + std::to_string(info.st_size) + " bytes";
  if (modified_ns(info) != identity_.modified_ns) return "was modified";
  return std::nullopt;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

}  // namespace attnscope::io
