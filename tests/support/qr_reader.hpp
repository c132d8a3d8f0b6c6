#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Reading QR images back in tests: zbarimg (Debian zbar-tools), a reader that shares no code
// with the encoder, and libpng for the pixels of a PNG.

namespace kurz::testing {

// What zbarimg reads in the image (`extension` "png" or "svg" tells it the type): the text of
// each symbol found, in its order. Empty when it finds none. Throws std::runtime_error when
// zbarimg cannot be run, so a box without zbar-tools fails the test instead of skipping it.
std::vector<std::string> ZbarRead(std::string_view image, std::string_view extension);

// A PNG decoded to 0xRRGGBB pixels, row by row. Throws std::runtime_error when it is not a PNG.
struct Pixels {
  int width = 0;
  int height = 0;
  std::vector<std::uint32_t> rgb;
  std::uint32_t At(int x, int y) const {
    return rgb[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
               static_cast<std::size_t>(x)];
  }
};
Pixels DecodePng(std::string_view png);

// The SVG kurz writes, drawn as a binary PPM at `scale` pixels per viewBox unit, in its own
// colours. ImageMagick on Debian (what zbarimg reads SVG with) has no librsvg and ignores
// viewBox, so it cannot scale a drawing in module units; this reads the subset kurz writes
// (one background <rect>, one <path> of "Mx,y" and relative h/v/z) and throws on anything else,
// so a change of the SVG's form fails the tests instead of passing unseen.
std::string RasteriseSvg(std::string_view svg, int scale);

}  // namespace kurz::testing
