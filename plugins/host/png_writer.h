#pragma once
// PNG encoding for the write_png service: 8-bit grey, RGB or RGBA, no interlace, each row
// with filter 0, the image data deflated by zlib in one IDAT chunk. Enough for heatmaps
// and plots, and what any image viewer or Python (PIL, matplotlib) reads.
#include <cstdint>
#include <span>
#include <vector>

namespace attnscope::plugins {

// `pixels`: height rows of width * channels bytes, top row first. attnscope::Error for a
// zero or too large size (over 2^24 either way), channels other than 1, 3 or 4, or a
// pixel span of another size.
std::vector<uint8_t> encode_png(uint32_t width, uint32_t height, uint32_t channels, std::span<const uint8_t> pixels);

}  // namespace attnscope::plugins
