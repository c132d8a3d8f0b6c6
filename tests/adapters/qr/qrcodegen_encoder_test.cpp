#include "adapters/qr/qrcodegen_encoder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "support/qr_reader.hpp"

// The QR adapter read back by a real reader (zbarimg), for every ecc level, the size and margin
// edges and custom colours, in both formats. zbarimg reads the PNG as served. The SVG it cannot
// read as served: Debian's ImageMagick (zbarimg's loader) has no librsvg here and ignores the
// viewBox, drawing a 37-unit symbol as 37 px in a 512 px canvas. So the test draws the SVG's
// modules itself (testing::RasteriseSvg, strict about the form) and zbarimg reads that, next to
// checks of the SVG's attributes.

namespace kurz::adapters::qr {
namespace {

using ports::QrEcc;
using ports::QrFormat;
using ports::QrImage;
using ports::QrOptions;
using testing::DecodePng;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Pixels;
using testing::ZbarRead;

constexpr std::string_view kShortUrl = "http://127.0.0.1:8080/aB3xY9z";
// 50 bytes, where each level needs a bigger version (byte mode: L 3, M 4, Q 5, H 6).
constexpr std::string_view kLongUrl = "https://links.example.com/spring-campaign-2027-012";

QrImage EncodeOk(std::string_view text, const QrOptions& options) {
  QrcodegenEncoder encoder;
  auto image = encoder.Encode(text, options);
  if (!image) ADD_FAILURE() << "Encode failed: " << image.error().detail;
  return image.value_or(QrImage{});
}

std::string Extension(QrFormat format) { return format == QrFormat::kSvg ? "svg" : "png"; }

// What zbarimg reads in the image (an SVG drawn at 8 px per module first).
std::vector<std::string> Read(const QrImage& image, QrFormat format) {
  if (format == QrFormat::kPng) return ZbarRead(image.bytes, "png");
  return ZbarRead(testing::RasteriseSvg(image.bytes, 8), "ppm");
}

// The number in `attribute="…"` of an SVG's root element, -1 when absent.
int SvgNumber(const std::string& svg, const std::string& attribute, int index = 0) {
  const std::size_t at = svg.find(attribute + "=\"");
  if (at == std::string::npos) return -1;
  std::size_t pos = at + attribute.size() + 2;
  for (int i = 0; i < index; ++i) pos = svg.find(' ', pos) + 1;
  return std::stoi(svg.substr(pos));
}

// Modules of the symbol (without margins) in an SVG: the viewBox less the two margins.
int SvgModules(const std::string& svg, int margin) {
  return SvgNumber(svg, "viewBox", 2) - 2 * margin;
}

class QrEncoderFormats : public ::testing::TestWithParam<QrFormat> {};

TEST_P(QrEncoderFormats, EveryEccLevelReadsBackAsTheUrl) {
  for (QrEcc ecc : {QrEcc::kLow, QrEcc::kMedium, QrEcc::kQuartile, QrEcc::kHigh}) {
    QrOptions options;
    options.format = GetParam();
    options.ecc = ecc;
    const QrImage image = EncodeOk(kShortUrl, options);
    EXPECT_EQ(image.content_type, GetParam() == QrFormat::kSvg ? "image/svg+xml" : "image/png");
    EXPECT_THAT(Read(image, GetParam()), ElementsAre(std::string(kShortUrl)))
        << "ecc " << static_cast<int>(ecc);
  }
}

TEST_P(QrEncoderFormats, SizeEdgesReadBack) {
  for (int size : {64, 2048}) {
    QrOptions options;
    options.format = GetParam();
    options.size = size;
    options.margin = 2;  // at 64 px a 29-module code with margin 4 would get 1 px modules
    const QrImage image = EncodeOk(kShortUrl, options);
    EXPECT_THAT(Read(image, GetParam()), ElementsAre(std::string(kShortUrl))) << "size " << size;
    if (GetParam() == QrFormat::kPng) {
      const Pixels pixels = DecodePng(image.bytes);
      EXPECT_EQ(pixels.width, size);
      EXPECT_EQ(pixels.height, size);
    } else {
      EXPECT_EQ(SvgNumber(image.bytes, "width"), size);
      EXPECT_EQ(SvgNumber(image.bytes, "height"), size);
    }
  }
}

TEST_P(QrEncoderFormats, LargestMarginReadsBack) {
  QrOptions options;
  options.format = GetParam();
  options.margin = 16;
  const QrImage image = EncodeOk(kShortUrl, options);
  EXPECT_THAT(Read(image, GetParam()), ElementsAre(std::string(kShortUrl)));
  if (GetParam() == QrFormat::kSvg) {
    EXPECT_EQ(SvgNumber(image.bytes, "viewBox", 2), 29 + 2 * 16);  // version 3 at ecc M
    EXPECT_THAT(image.bytes, HasSubstr("M16,16h7v1h-7z"));         // the top-left finder's top row
  }
}

TEST_P(QrEncoderFormats, DarkOnLightColoursReadBack) {
  QrOptions options;
  options.format = GetParam();
  options.fg = 0x1a237e;  // indigo
  options.bg = 0xfff8e1;  // cream
  const QrImage image = EncodeOk(kShortUrl, options);
  EXPECT_THAT(Read(image, GetParam()), ElementsAre(std::string(kShortUrl)));
  if (GetParam() == QrFormat::kPng) {
    const Pixels pixels = DecodePng(image.bytes);
    const std::set<std::uint32_t> colours(pixels.rgb.begin(), pixels.rgb.end());
    EXPECT_EQ(colours, (std::set<std::uint32_t>{0x1a237e, 0xfff8e1}));
    EXPECT_EQ(pixels.At(0, 0), 0xfff8e1U);
  } else {
    EXPECT_THAT(image.bytes, HasSubstr("fill=\"#1a237e\""));
    EXPECT_THAT(image.bytes, HasSubstr("fill=\"#fff8e1\""));
  }
}

INSTANTIATE_TEST_SUITE_P(Both, QrEncoderFormats, ::testing::Values(QrFormat::kSvg, QrFormat::kPng),
                         [](const auto& info) { return Extension(info.param); });

TEST(QrEncoder, PngModulesAreWholePixelsAndTheSymbolIsCentred) {
  QrOptions options;
  options.format = QrFormat::kPng;
  options.size = 512;
  options.margin = 4;
  // Version 3 at M: 29 modules + 8 = 37 → 13 px per module (481 px); the symbol's 377 px are
  // centred, so the quiet zone is (512 - 377) / 2 = 67 px on the left and top.
  const Pixels pixels = DecodePng(EncodeOk(kShortUrl, options).bytes);
  ASSERT_EQ(pixels.width, 512);
  const int origin = (512 - 29 * 13) / 2;
  EXPECT_EQ(pixels.At(origin - 1, origin - 1), 0xffffffU);
  EXPECT_EQ(pixels.At(origin, origin), 0x000000U);  // the finder's corner
  // The finder's outer ring is 7 modules = 91 px dark, then light.
  EXPECT_EQ(pixels.At(origin + 7 * 13 - 1, origin), 0x000000U);
  EXPECT_EQ(pixels.At(origin + 7 * 13, origin), 0xffffffU);
  // Its light ring is module 1: pixels 13..25 of the second module row are light.
  EXPECT_EQ(pixels.At(origin + 13, origin + 13), 0xffffffU);
  EXPECT_EQ(pixels.At(origin + 2 * 13 - 1, origin + 2 * 13 - 1), 0xffffffU);
  EXPECT_EQ(pixels.At(origin + 2 * 13, origin + 2 * 13), 0x000000U);
}

// Without a quiet zone the symbol touches the image's edge: meant for a page that gives it one.
// zbarimg, like phones, needs the quiet zone, so the test gives it one by padding the pixels.
TEST(QrEncoder, NoMarginStartsTheSymbolAtTheEdge) {
  QrOptions options;
  options.format = QrFormat::kSvg;
  options.margin = 0;
  const std::string svg = EncodeOk(kShortUrl, options).bytes;
  EXPECT_EQ(SvgNumber(svg, "viewBox", 2), 29);
  EXPECT_THAT(svg, HasSubstr("d=\"M0,0h7v1h-7z"));

  options.format = QrFormat::kPng;
  options.size = 29 * 4;  // exactly 4 px per module: nothing left over
  const Pixels pixels = DecodePng(EncodeOk(kShortUrl, options).bytes);
  EXPECT_EQ(pixels.At(0, 0), 0x000000U);
  EXPECT_EQ(pixels.At(115, 0), 0x000000U);  // the top-right finder
  EXPECT_EQ(pixels.At(0, 115), 0x000000U);  // the bottom-left finder

  // The same symbol drawn with a margin holds exactly these pixels in its middle.
  options.margin = 4;
  options.size = 37 * 4;
  const QrImage framed = EncodeOk(kShortUrl, options);
  const Pixels with_margin = DecodePng(framed.bytes);
  for (int y = 0; y < 116; ++y) {
    for (int x = 0; x < 116; ++x) {
      ASSERT_EQ(pixels.At(x, y), with_margin.At(x + 16, y + 16)) << x << "," << y;
    }
  }
  EXPECT_THAT(Read(framed, QrFormat::kPng), ElementsAre(std::string(kShortUrl)));
}

TEST(QrEncoder, KeepsTheAskedLevelInsteadOfRaisingIt) {
  QrOptions options;
  options.margin = 0;
  std::vector<int> modules;
  for (QrEcc ecc : {QrEcc::kLow, QrEcc::kMedium, QrEcc::kQuartile, QrEcc::kHigh}) {
    options.ecc = ecc;
    const QrImage image = EncodeOk(kLongUrl, options);
    modules.push_back(SvgModules(image.bytes, 0));
    EXPECT_THAT(Read(image, QrFormat::kSvg), ElementsAre(std::string(kLongUrl)));
  }
  // Versions 3 to 6: 17 + 4 × version modules a side.
  EXPECT_THAT(modules, ElementsAre(29, 33, 37, 41));
}

TEST(QrEncoder, SizeTooSmallForTheModulesIsInvalid) {
  QrcodegenEncoder encoder;
  QrOptions options;
  options.size = 64;
  options.margin = 16;
  options.ecc = QrEcc::kHigh;
  auto image = encoder.Encode(kLongUrl, options);  // 41 + 32 = 73 modules > 64 px
  ASSERT_FALSE(image);
  EXPECT_EQ(image.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_THAT(image.error().detail, HasSubstr("at least 73 pixels"));
  options.size = 73;  // one pixel per module: allowed
  EXPECT_TRUE(encoder.Encode(kLongUrl, options));
}

TEST(QrEncoder, OptionsOutOfBoundsAreInvalid) {
  QrcodegenEncoder encoder;
  const auto invalid = [&](const QrOptions& options) {
    auto image = encoder.Encode(kShortUrl, options);
    return !image && image.error().code == core::ErrorCode::kInvalidArgument;
  };
  QrOptions options;
  options.size = 63;
  EXPECT_TRUE(invalid(options));
  options.size = 2049;
  EXPECT_TRUE(invalid(options));
  options = QrOptions{};
  options.margin = -1;
  EXPECT_TRUE(invalid(options));
  options.margin = 17;
  EXPECT_TRUE(invalid(options));
  options = QrOptions{};
  options.fg = 0x1000000;
  EXPECT_TRUE(invalid(options));
}

TEST(QrEncoder, TextLongerThanVersion40HoldsIsInvalid) {
  QrcodegenEncoder encoder;
  QrOptions options;
  options.ecc = QrEcc::kHigh;  // version 40 at H holds 1273 bytes
  auto image = encoder.Encode(std::string(1274, 'x'), options);
  ASSERT_FALSE(image);
  EXPECT_EQ(image.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_THAT(image.error().detail, HasSubstr("does not fit"));
}

}  // namespace
}  // namespace kurz::adapters::qr
