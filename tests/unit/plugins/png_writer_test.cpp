// The PNG encoder of the write_png service, read back chunk by chunk with zlib.
#include <zlib.h>

#include <catch2/catch.hpp>

#include "kernels/error.h"
#include "plugins/host/png_writer.h"

using attnscope::plugins::encode_png;
using Catch::Contains;

namespace {

uint32_t u32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | uint32_t(b[at + 3]);
}

struct Chunk {
  std::string type;
  std::vector<uint8_t> data;
  bool crc_ok = false;
};

std::vector<Chunk> chunks(const std::vector<uint8_t>& png) {
  std::vector<Chunk> out;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t length = u32(png, at);
    Chunk c;
    c.type.assign(png.begin() + std::ptrdiff_t(at + 4), png.begin() + std::ptrdiff_t(at + 8));
    c.data.assign(png.begin() + std::ptrdiff_t(at + 8), png.begin() + std::ptrdiff_t(at + 8 + length));
    c.crc_ok = u32(png, at + 8 + length) == uint32_t(crc32(0, png.data() + at + 4, uInt(length + 4)));
    out.push_back(c);
    at += 12 + length;
  }
  return out;
}

}  // namespace

TEST_CASE("an RGB image is encoded as signature, IHDR, IDAT and IEND with valid CRCs and its rows filtered none",
          "[plugins]") {
  const std::vector<uint8_t> pixels = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90};  // 3x2
  const auto png = encode_png(3, 2, 3, pixels);
  REQUIRE(std::vector<uint8_t>(png.begin(), png.begin() + 8) ==
          std::vector<uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
  const auto c = chunks(png);
  REQUIRE(c.size() == 3);
  CHECK(c[0].type == "IHDR");
  CHECK(c[1].type == "IDAT");
  CHECK(c[2].type == "IEND");
  for (const auto& chunk : c) CHECK(chunk.crc_ok);
  CHECK(u32(c[0].data, 0) == 3);
  CHECK(u32(c[0].data, 4) == 2);
  CHECK(std::vector<uint8_t>(c[0].data.begin() + 8, c[0].data.end()) == std::vector<uint8_t>{8, 2, 0, 0, 0});
  std::vector<uint8_t> raw(2 * (1 + 9));
  uLongf size = uLongf(raw.size());
  REQUIRE(uncompress(raw.data(), &size, c[1].data.data(), uLong(c[1].data.size())) == Z_OK);
  REQUIRE(size == raw.size());
  const std::vector<uint8_t> expected = {0, 255, 0, 0, 0, 255, 0, 0, 0, 255,  // filter byte, row 0
                                         0, 10, 20, 30, 40, 50, 60, 70, 80, 90};
  CHECK(raw == expected);
}

TEST_CASE("grey and RGBA images get their PNG colour types", "[plugins]") {
  CHECK(chunks(encode_png(1, 1, 1, std::vector<uint8_t>{7}))[0].data[9] == 0);
  CHECK(chunks(encode_png(1, 1, 4, std::vector<uint8_t>{1, 2, 3, 4}))[0].data[9] == 6);
}

TEST_CASE("images of no pixels, other channel counts or a wrong pixel count are refused", "[plugins]") {
  REQUIRE_THROWS_WITH(encode_png(0, 4, 1, {}), Contains("each side must be from 1"));
  REQUIRE_THROWS_WITH(encode_png(1, 1, 2, std::vector<uint8_t>{1, 2}), Contains("channels must be 1 (grey), 3 (RGB) or 4"));
  REQUIRE_THROWS_WITH(encode_png(2, 2, 1, std::vector<uint8_t>{1, 2, 3}), Contains("needs 4 bytes of pixels, not 3"));
}
