#pragma once
// A PNG read back for the tests of the plugins' images, independent of our encoder:
// the signature, IHDR (8-bit grey, RGB or RGBA, not interlaced), the IDAT stream
// inflated with zlib and each row unfiltered (all five PNG filters), IEND; every chunk's
// CRC checked. attnscope::Error naming the file for anything else.
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernels/error.h"

namespace attnscope::testing {

struct DecodedPng {
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t channels = 0;
  std::vector<uint8_t> pixels;  // rows top first
  // An RGB image's pixel as 0xRRGGBB.
  uint32_t rgb(uint32_t x, uint32_t y) const {
    const size_t at = (size_t(y) * width + x) * channels;
    return uint32_t(pixels.at(at)) << 16 | uint32_t(pixels.at(at + 1)) << 8 | pixels.at(at + 2);
  }
};

inline DecodedPng read_png(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string where = file.string();
  const auto u32 = [&](size_t at) {
    if (at + 4 > b.size()) throw Error(where, "truncated");
    return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | uint32_t(b[at + 3]);
  };
  const std::vector<uint8_t> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (b.size() < 8 || !std::equal(signature.begin(), signature.end(), b.begin())) throw Error(where, "no PNG signature");
  DecodedPng png;
  std::vector<uint8_t> idat;
  bool ended = false;
  for (size_t at = 8; at < b.size() && !ended;) {
    const uint32_t length = u32(at);
    if (at + 12 + size_t(length) > b.size()) throw Error(where, "a chunk runs past the end");
    const std::string type(b.begin() + std::ptrdiff_t(at + 4), b.begin() + std::ptrdiff_t(at + 8));
    if (u32(at + 8 + length) != uint32_t(crc32(0, b.data() + at + 4, uInt(length + 4))))
      throw Error(where, "chunk " + type + " has a bad CRC");
    const uint8_t* data = b.data() + at + 8;
    if (type == "IHDR") {
      png.width = u32(at + 8);
      png.height = u32(at + 12);
      if (data[8] != 8 || data[10] != 0 || data[11] != 0 || data[12] != 0) throw Error(where, "not 8-bit non-interlaced");
      png.channels = data[9] == 0 ? 1 : data[9] == 2 ? 3 : data[9] == 6 ? 4 : 0;
      if (png.channels == 0) throw Error(where, "colour type " + std::to_string(data[9]) + " is not grey, RGB or RGBA");
    } else if (type == "IDAT") {
      idat.insert(idat.end(), data, data + length);
    } else if (type == "IEND") {
      ended = true;
    }
    at += 12 + size_t(length);
  }
  if (!ended || png.channels == 0) throw Error(where, "no IHDR or no IEND");
  const size_t stride = size_t(png.width) * png.channels;
  std::vector<uint8_t> raw((stride + 1) * png.height);
  uLongf size = uLongf(raw.size());
  if (uncompress(raw.data(), &size, idat.data(), uLong(idat.size())) != Z_OK || size != raw.size())
    throw Error(where, "IDAT does not inflate to the image's rows");
  png.pixels.resize(stride * png.height);
  const size_t bpp = png.channels;
  for (size_t y = 0; y < png.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in_row = raw.data() + y * (stride + 1) + 1;
    uint8_t* row = png.pixels.data() + y * stride;
    const uint8_t* up = y > 0 ? row - stride : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= bpp ? row[x - bpp] : 0, u = up ? up[x] : 0, c = (x >= bpp && up) ? up[x - bpp] : 0;
      int predicted = 0;
      switch (filter) {
        case 0: break;
        case 1: predicted = a; break;
        case 2: predicted = u; break;
        case 3: predicted = (a + u) / 2; break;
        case 4: {
          const int p = a + u - c, pa = std::abs(p - a), pb = std::abs(p - u), pc = std::abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? u : c;
          break;
        }
        default: throw Error(where, "row " + std::to_string(y) + " has filter " + std::to_string(filter));
      }
      row[x] = uint8_t(in_row[x] + predicted);
    }
  }
  return png;
}

}  // namespace attnscope::testing
