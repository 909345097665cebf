// The upload layout of kept-key sets (KeptKeysPacking), read back on the host: every set's
// query blocks list their kept key blocks as the set does, partial blocks point at their own
// bits, the masks start 16-byte aligned (the kernel copies them 16 bytes at a time), the
// dense layout lists every visible block once for all heads, and sets of another block size
// are re-blocked to 64 with the same entries. Host code: runs without a device.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "kernels/cuda/kept_keys_upload.h"
#include "kernels/error.h"
#include "tests/gpu/kept_keys_support.h"

namespace cuda = attnscope::kernels::cuda;
namespace k = attnscope::kernels;
using namespace attnscope::testing::gpu;
using Catch::Contains;

namespace {

// A packed upload read back: its view's pointers into a host copy.
struct Unpacked {
  std::vector<uint64_t> storage;  // 8-byte elements, so the copy is aligned
  cuda::DeviceKeptKeys view;

  explicit Unpacked(const cuda::KeptKeysPacking& packing) : storage((packing.bytes() + 7) / 8 + 2) {
    // 16-byte aligned as a device allocation is.
    char* base = reinterpret_cast<char*>(storage.data());
    base += (16 - reinterpret_cast<std::uintptr_t>(base) % 16) % 16;
    packing.write(base);
    view = packing.view(base);
  }
  std::vector<k::KeptKeyBlock> blocks(int set, int64_t qb) const {
    const int32_t* offsets = view.block_offsets + int64_t(set) * (view.query_blocks + 1);
    std::vector<k::KeptKeyBlock> out;
    for (int32_t e = offsets[qb]; e < offsets[qb + 1]; ++e) out.push_back({view.blocks[2 * e], view.blocks[2 * e + 1]});
    return out;
  }
};

}  // namespace

TEST_CASE("Packed kept-key sets list each set's blocks and bits as the set does", "[sparse]") {
  const cuda::KeptKeysCall call{70, 300, 100};
  std::vector<k::KeptKeys> sets;
  for (const SetKind kind : kSetKinds) sets.push_back(make_kept_keys(kind, call.first_position, call.rows, call.model_window, 3));
  std::vector<cuda::HeadKeptKeys> heads;
  for (std::size_t i = 0; i < sets.size(); ++i) heads.push_back({int(2 * i + 1), &sets[i]});
  const cuda::KeptKeysPacking packing(heads, call);
  const Unpacked u(packing);
  REQUIRE(u.view.sets == int(sets.size()));
  CHECK(u.view.query_blocks == 5);
  CHECK(reinterpret_cast<std::uintptr_t>(u.view.mask_words) % 16 == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(u.view.blocks) % 8 == 0);
  int64_t partial = 0;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    INFO(kind_name(kSetKinds[i]));
    CHECK(u.view.heads[i] == int32_t(2 * i + 1));
    CHECK(u.view.host_heads[i] == int32_t(2 * i + 1));
    for (int64_t qb = 0; qb < 5; ++qb) {
      const std::vector<k::KeptKeyBlock> got = u.blocks(int(i), qb);
      const auto want = sets[i].blocks_of(qb);
      REQUIRE(got.size() == want.size());
      for (std::size_t b = 0; b < got.size(); ++b) {
        CHECK(got[b].key_block == want[b].key_block);
        REQUIRE((got[b].mask < 0) == (want[b].mask < 0));
        if (want[b].mask < 0) continue;
        ++partial;
        CHECK(std::memcmp(u.view.mask_words + got[b].mask * 64, sets[i].mask_words(want[b].mask), 512) == 0);
      }
    }
  }
  CHECK(partial == u.view.masks);
  CHECK(partial > 0);
}

TEST_CASE("The dense layout lists every visible key block once, shared by all heads", "[sparse]") {
  for (const cuda::KeptKeysCall call : {cuda::KeptKeysCall{0, 200, 0}, cuda::KeptKeysCall{130, 257, 150},
                                        cuda::KeptKeysCall{1000, 1, 0}}) {
    INFO("rows " << call.rows << " from " << call.first_position << " window " << call.model_window);
    const k::KeptKeys full = make_kept_keys(SetKind::Full, call.first_position, call.rows, call.model_window, 1);
    const int heads[] = {0, 3, 4};
    const cuda::KeptKeysPacking packing = cuda::KeptKeysPacking::dense(heads, call);
    const Unpacked u(packing);
    CHECK(u.view.masks == 0);
    CHECK(u.view.entries == full.kept_blocks());
    for (int set = 0; set < 3; ++set)
      for (int64_t qb = 0; qb < full.query_blocks(); ++qb) {
        const std::vector<k::KeptKeyBlock> got = u.blocks(set, qb);
        const auto want = full.blocks_of(qb);
        REQUIRE(got == std::vector<k::KeptKeyBlock>(want.begin(), want.end()));
      }
  }
}

TEST_CASE("Packing says whether its sets keep every visible block, for the dense forward", "[sparse]") {
  for (const cuda::KeptKeysCall call : {cuda::KeptKeysCall{0, 600, 0}, cuda::KeptKeysCall{70, 300, 100}}) {
    INFO("call from " << call.first_position << ", " << call.rows << " rows, window " << call.model_window);
    const k::KeptKeys full = make_kept_keys(SetKind::Full, call.first_position, call.rows, call.model_window, 1);
    const k::KeptKeys sink_window = make_kept_keys(SetKind::SinkWindow, call.first_position, call.rows, call.model_window, 1);
    const k::KeptKeys bits = make_kept_keys(SetKind::RandomBits, call.first_position, call.rows, call.model_window, 1);
    const cuda::HeadKeptKeys all_full[] = {{0, &full}, {1, &full}, {5, &full}};
    CHECK(Unpacked(cuda::KeptKeysPacking(all_full, call)).view.every_visible_block_kept);
    const cuda::HeadKeptKeys one_drops[] = {{0, &full}, {1, &sink_window}};
    CHECK_FALSE(Unpacked(cuda::KeptKeysPacking(one_drops, call)).view.every_visible_block_kept);
    const cuda::HeadKeptKeys one_partial[] = {{0, &full}, {1, &bits}};
    CHECK_FALSE(Unpacked(cuda::KeptKeysPacking(one_partial, call)).view.every_visible_block_kept);
    const std::vector<int> heads = {0, 1, 2};
    CHECK(Unpacked(cuda::KeptKeysPacking::dense(heads, call)).view.every_visible_block_kept);
  }
}

TEST_CASE("Packing refuses sets of another call and heads out of order", "[sparse]") {
  const k::KeptKeys other = make_kept_keys(SetKind::Full, 10, 190, 0, 1);
  const cuda::HeadKeptKeys wrong[] = {{1, &other}};
  CHECK_THROWS_WITH(cuda::KeptKeysPacking(wrong, {0, 200, 0}),
                    Contains("head 1") && Contains("190 rows from position 10") && Contains("200 rows from position 0"));
  const k::KeptKeys a = make_kept_keys(SetKind::Full, 0, 200, 0, 1);
  const cuda::HeadKeptKeys unordered[] = {{2, &a}, {1, &a}};
  CHECK_THROWS_WITH(cuda::KeptKeysPacking(unordered, {0, 200, 0}), Contains("heads must ascend"));
  const cuda::HeadKeptKeys missing[] = {{0, nullptr}};
  CHECK_THROWS_WITH(cuda::KeptKeysPacking(missing, {0, 200, 0}), Contains("head 0 has no set"));
}

TEST_CASE("Sets built with another block size are re-blocked to 64 with the same entries", "[sparse]") {
  k::KeptKeysBuilder b(30, 170, 45, 16);
  for (int64_t r = 0; r < 170; r += 3) b.keep(r, r / 2, r + 30);
  const k::KeptKeys set = b.finish();
  const k::KeptKeys same = cuda::reblocked_to_64(set);
  CHECK(same.block() == 64);
  CHECK(same.kept_entries() == set.kept_entries());
  for (int64_t r = 0; r < 170; ++r)
    for (int64_t key = 0; key <= 30 + r; ++key) REQUIRE(same.kept(r, key) == set.kept(r, key));
  // Packed, it is the re-blocked set.
  const cuda::HeadKeptKeys heads[] = {{0, &set}};
  const cuda::KeptKeysPacking packing(heads, {30, 170, 45});
  const Unpacked u(packing);
  for (int64_t qb = 0; qb < same.query_blocks(); ++qb) CHECK(u.blocks(0, qb).size() == same.blocks_of(qb).size());
}

TEST_CASE("Sets packed by several threads each get their own blocks and bits", "[sparse]") {
  // Large enough for the parallel write, sets of different sizes so their parts differ.
  const cuda::KeptKeysCall call{30, 1300, 0};
  std::vector<k::KeptKeys> sets;
  for (uint32_t i = 0; i < 12; ++i) {
    const SetKind kind = i % 3 == 0 ? SetKind::RandomBits : i % 3 == 1 ? SetKind::Mixed : SetKind::SinkWindow;
    sets.push_back(make_kept_keys(kind, call.first_position, call.rows, call.model_window, 40 + i));
  }
  std::vector<cuda::HeadKeptKeys> heads;
  for (std::size_t i = 0; i < sets.size(); ++i) heads.push_back({int(i), &sets[i]});
  const cuda::KeptKeysPacking packing(heads, call);
  CHECK(packing.bytes() > (std::size_t(1) << 20));  // over the size written by several threads
  const Unpacked u(packing);
  int64_t entries = 0, partial = 0;
  for (std::size_t i = 0; i < sets.size(); ++i)
    for (int64_t qb = 0; qb < sets[i].query_blocks(); ++qb) {
      const std::vector<k::KeptKeyBlock> got = u.blocks(int(i), qb);
      const auto want = sets[i].blocks_of(qb);
      REQUIRE(got.size() == want.size());
      for (std::size_t b = 0; b < got.size(); ++b) {
        ++entries;
        REQUIRE(got[b].key_block == want[b].key_block);
        REQUIRE((got[b].mask < 0) == (want[b].mask < 0));
        if (want[b].mask < 0) continue;
        ++partial;
        REQUIRE(std::memcmp(u.view.mask_words + got[b].mask * 64, sets[i].mask_words(want[b].mask), 512) == 0);
      }
    }
  CHECK(entries == u.view.entries);  // every entry listed once, no gap between the sets' parts
  CHECK(partial == u.view.masks);
}
