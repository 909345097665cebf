#pragma once
// A 5x7 bitmap font of our own for the bundled plugins' charts (labels, ticks, legends):
// printable ASCII, each glyph 5 pixels wide on a 6-pixel advance, 7 rows above the
// baseline and 2 below it for descenders (g, j, p, q, y, comma). Drawn at integer scales
// it stays crisp in a PNG without a font library or a font file on the machine.
#include <cstdint>
#include <string_view>

namespace attnscope::plugin_support {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphAdvance = 6;  // width plus one column of space
inline constexpr int kGlyphAscent = 7;   // rows from the top to the baseline
inline constexpr int kGlyphHeight = 9;   // with the descender rows

// Row `row` (0 at the top, < kGlyphHeight) of `c`'s glyph: bit 4 is the leftmost
// pixel. Characters outside printable ASCII get a hollow box.
uint8_t glyph_row(char c, int row);

// The second to last bytes of a UTF-8 character: drawn as nothing (its first byte is the
// box), so that one character is one box.
bool is_continuation_byte(char c);

// Pixels `text` takes at `scale` (1 per font pixel): the advance of every character
// but the last one's trailing space.
int text_width(std::string_view text, int scale);
inline int text_height(int scale) { return kGlyphHeight * scale; }

}  // namespace attnscope::plugin_support
