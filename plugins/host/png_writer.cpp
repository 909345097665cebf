#include "plugins/host/png_writer.h"

#include <zlib.h>

#include <string>

#include "kernels/error.h"

namespace attnscope::plugins {
namespace {

constexpr uint32_t kMaxSide = 1u << 24;

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}

// length, type, data, CRC-32 of type and data (PNG 1.2, section 5.3).
void put_chunk(std::vector<uint8_t>& out, const char (&type)[5], const std::vector<uint8_t>& data) {
  put_u32(out, uint32_t(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_u32(out, uint32_t(crc32(0, out.data() + start, uInt(out.size() - start))));
}

}  // namespace

std::vector<uint8_t> encode_png(uint32_t width, uint32_t height, uint32_t channels, std::span<const uint8_t> pixels) {
  const std::string where = "PNG " + std::to_string(width) + "x" + std::to_string(height);
  if (width == 0 || height == 0 || width > kMaxSide || height > kMaxSide)
    throw Error(where, "each side must be from 1 to " + std::to_string(kMaxSide) + " pixels");
  if (channels != 1 && channels != 3 && channels != 4)
    throw Error(where, "channels must be 1 (grey), 3 (RGB) or 4 (RGBA), not " + std::to_string(channels));
  const size_t row = size_t(width) * channels;
  if (pixels.size() != row * height)
    throw Error(where, "needs " + std::to_string(row * height) + " bytes of pixels, not " + std::to_string(pixels.size()));
  std::vector<uint8_t> raw;
  raw.reserve((row + 1) * height);
  for (uint32_t y = 0; y < height; ++y) {
    raw.push_back(0);  // filter: none
    raw.insert(raw.end(), pixels.begin() + std::ptrdiff_t(y * row), pixels.begin() + std::ptrdiff_t((y + 1) * row));
  }
  uLongf packed_size = compressBound(uLong(raw.size()));
  std::vector<uint8_t> packed(packed_size);
  if (compress2(packed.data(), &packed_size, raw.data(), uLong(raw.size()), 6) != Z_OK)
    throw Error(where, "zlib could not compress the image");
  packed.resize(packed_size);

  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> header;
  put_u32(header, width);
  put_u32(header, height);
  const uint8_t colour = channels == 1 ? 0 : channels == 3 ? 2 : 6;
  header.insert(header.end(), {8, colour, 0, 0, 0});  // bit depth, colour type, deflate, filter 0, no interlace
  put_chunk(out, "IHDR", header);
  put_chunk(out, "IDAT", packed);
  put_chunk(out, "IEND", {});
  return out;
}

}  // namespace attnscope::plugins
