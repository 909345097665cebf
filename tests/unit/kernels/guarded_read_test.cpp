// Guarded reads of memory-mapped files (kernels/guarded_read.h): a file truncated under
// its mapping faults (SIGBUS) on the pages past its new end; a guarded read turns that
// into a failed read, and the CPU backend's weight upload into a MappedReadFault.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/guarded_read.h"
#include "tests/unit/io/test_files.h"

namespace k = attnscope::kernels;
namespace t = attnscope::testing;

namespace {

constexpr std::size_t kFileBytes = 64 * 1024;  // 16 pages of 4 KiB, whatever the page size up to 64 KiB

// A read-only private mapping of a file of kFileBytes, as io::MappedFile maps checkpoints.
class Mapping {
 public:
  explicit Mapping(const std::filesystem::path& path) : path_(path) {
    t::write_bytes(path, std::string(kFileBytes, '\x3f'));
    const int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    data_ = ::mmap(nullptr, kFileBytes, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    REQUIRE(data_ != MAP_FAILED);
  }
  ~Mapping() { ::munmap(data_, kFileBytes); }
  const char* bytes() const { return static_cast<const char*>(data_); }
  void truncate() const { std::filesystem::resize_file(path_, 0); }

 private:
  std::filesystem::path path_;
  void* data_ = nullptr;
};

}  // namespace

TEST_CASE("a guarded copy of intact memory copies every byte", "[kernels][guarded_read]") {
  t::TempDir dir;
  const Mapping mapping(dir / "weights.bin");
  std::vector<char> out(kFileBytes);
  REQUIRE(k::guarded_copy(out.data(), mapping.bytes(), kFileBytes));
  CHECK(std::memcmp(out.data(), mapping.bytes(), kFileBytes) == 0);  // exact
}

TEST_CASE("a guarded copy from a mapping whose file was truncated fails instead of killing the process",
          "[kernels][guarded_read]") {
  t::TempDir dir;
  const Mapping mapping(dir / "weights.bin");
  mapping.truncate();
  std::vector<char> out(kFileBytes);
  CHECK_FALSE(k::guarded_copy(out.data(), mapping.bytes(), kFileBytes));
  // The fault path unblocks SIGBUS again: a second fault on this thread is caught too.
  CHECK_FALSE(k::guarded_copy(out.data(), mapping.bytes() + kFileBytes / 2, 16));
  CHECK(k::guarded_copy(out.data(), out.data() + 16, 16));
}

TEST_CASE("the CPU backend's upload of weights truncated under their mapping is a MappedReadFault",
          "[kernels][guarded_read]") {
  t::TempDir dir;
  const Mapping mapping(dir / "weights.bin");
  mapping.truncate();
  auto backend = k::make_cpu_backend(2);
  k::HostTensorView view;
  view.dtype = k::DType::BF16;
  view.rows = 64;
  view.cols = int64_t(kFileBytes / 2 / 64);
  view.data = mapping.bytes();
  const std::vector<k::HostTensorView> blocks{view};
  CHECK_THROWS_AS(backend->upload(blocks), k::MappedReadFault);
  view.transposed = true;  // GPT-2's Conv1D weights take the tiled transpose path
  const std::vector<k::HostTensorView> transposed{view};
  CHECK_THROWS_WITH(backend->upload(transposed), Catch::Contains("truncated or changed on disk"));
}
