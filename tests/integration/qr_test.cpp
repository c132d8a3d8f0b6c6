// GET /v1/urls/{code}/qr through a real kurz (docs/api.md): the image read back with zbarimg to
// the link's short_url, its headers, access (404 for others' links, 401, 403) and every bad
// parameter (400 invalid_argument naming it). The drawing itself is tests/adapters/qr's business.

#include <string>
#include <vector>

#include "integration/kurz_test.hpp"
#include "support/qr_reader.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

class QrTest : public KurzTest {
 protected:
  static std::string QrPath(const std::string& code, const std::string& query = "") {
    return "/v1/urls/" + code + "/qr" + (query.empty() ? "" : "?" + query);
  }

  // A 400 invalid_argument JSON error whose message mentions `about`.
  static void ExpectInvalid(const Reply& reply, const std::string& query,
                            const std::string& about) {
    EXPECT_EQ(reply.status, 400) << query << ": " << reply.Describe();
    EXPECT_EQ(reply.ErrorCode(), "invalid_argument") << query << ": " << reply.Describe();
    EXPECT_TRUE(reply.Header("content-type").starts_with("application/json")) << reply.Describe();
    if (reply.status == 400 && reply.ErrorCode() == "invalid_argument") {
      const std::string message = reply.Json()["error"]["message"].get<std::string>();
      EXPECT_NE(message.find(about), std::string::npos)
          << query << ": the message should mention '" << about << "': " << message;
    }
  }
};

TEST_F(QrTest, SvgByDefaultReadsBackAsTheShortUrl) {
  const json link = CreateLink({{"url", UniqueUrl()}});
  const std::string code = link["code"];
  const Reply reply = Admin().Get(QrPath(code));
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  EXPECT_EQ(reply.Header("content-type"), "image/svg+xml");
  EXPECT_EQ(reply.Header("cache-control"), "private, max-age=3600");
  EXPECT_FALSE(reply.Has("content-disposition"));
  EXPECT_NE(reply.body.find("width=\"512\" height=\"512\""), std::string::npos) << reply.body;
  EXPECT_EQ(ZbarRead(RasteriseSvg(reply.body, 8), "ppm"),
            std::vector<std::string>{link["short_url"].get<std::string>()});
  EXPECT_EQ(link["short_url"], Origin() + "/" + code);
}

TEST_F(QrTest, PngWithEveryParameterReadsBack) {
  const json link = CreateLink({{"url", UniqueUrl()}, {"custom_code", "qr-Code_1"}});
  for (const std::string ecc : {"L", "M", "Q", "H"}) {
    const std::string query = "format=png&size=300&margin=2&ecc=" + ecc + "&fg=1A237E&bg=fff8e1";
    const Reply reply = Admin().Get(QrPath("qr-Code_1", query));
    ASSERT_EQ(reply.status, 200) << query << ": " << reply.Describe();
    EXPECT_EQ(reply.Header("content-type"), "image/png");
    const Pixels pixels = DecodePng(reply.body);
    EXPECT_EQ(pixels.width, 300);
    EXPECT_EQ(pixels.height, 300);
    EXPECT_EQ(pixels.At(0, 0), 0xfff8e1U) << query;
    EXPECT_EQ(ZbarRead(reply.body, "png"),
              std::vector<std::string>{link["short_url"].get<std::string>()})
        << query;
  }
}

TEST_F(QrTest, SizeEdges) {
  const json link = CreateLink({{"url", UniqueUrl()}});
  const std::string code = link["code"];
  for (const std::string size : {"64", "2048"}) {
    const Reply reply = Admin().Get(QrPath(code, "format=png&margin=1&size=" + size));
    ASSERT_EQ(reply.status, 200) << reply.Describe();
    const Pixels pixels = DecodePng(reply.body);
    EXPECT_EQ(pixels.width, std::stoi(size));
    EXPECT_EQ(pixels.height, std::stoi(size));
    EXPECT_EQ(ZbarRead(reply.body, "png"),
              std::vector<std::string>{link["short_url"].get<std::string>()})
        << size;
  }
  // A short URL of ~30 bytes at H is version 4 (33 modules); with 2 × 16 of margin that is 65
  // modules, which 64 px cannot draw one pixel each.
  ExpectInvalid(Admin().Get(QrPath(code, "size=64&margin=16&ecc=H")), "size=64&margin=16&ecc=H",
                "is too small for this QR code");
}

TEST_F(QrTest, DownloadNamesTheFile) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  Reply reply = Admin().Get(QrPath(code, "download=1"));
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  EXPECT_EQ(reply.Header("content-disposition"), "attachment; filename=\"" + code + ".svg\"");
  reply = Admin().Get(QrPath(code, "download=1&format=png"));
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  EXPECT_EQ(reply.Header("content-disposition"), "attachment; filename=\"" + code + ".png\"");
  reply = Admin().Get(QrPath(code, "download=0&format=png"));
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  EXPECT_FALSE(reply.Has("content-disposition")) << reply.Describe();
}

TEST_F(QrTest, OnlyTheOwnerSeesIt) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  const NewUser other = CreateUser("qr-other@example.com");
  Reply reply = As(other.api_key).Get(QrPath(code));
  EXPECT_EQ(reply.status, 404) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "not_found") << reply.Describe();
  reply = Admin().Get(QrPath("NoSuchCode9"));
  EXPECT_EQ(reply.status, 404) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "not_found") << reply.Describe();
  // The other user's own link is theirs to draw.
  const json theirs = CreateLink(As(other.api_key), {{"url", UniqueUrl()}});
  reply = As(other.api_key).Get(QrPath(theirs["code"], "format=png"));
  ASSERT_EQ(reply.status, 200) << reply.Describe();
  EXPECT_EQ(ZbarRead(reply.body, "png"),
            std::vector<std::string>{theirs["short_url"].get<std::string>()});
}

TEST_F(QrTest, NeedsAKeyWithRead) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  Reply reply = Anonymous().Get(QrPath(code));
  EXPECT_EQ(reply.status, 401) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "unauthorized") << reply.Describe();
  reply = Admin().Post("/v1/api-keys", {{"name", "create only"}, {"permissions", {"create"}}});
  ASSERT_EQ(reply.status, 201) << reply.Describe();
  reply = As(reply.Json()["key"].get<std::string>()).Get(QrPath(code));
  EXPECT_EQ(reply.status, 403) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "forbidden") << reply.Describe();
}

TEST_F(QrTest, EveryBadParameterIsAClearBadRequest) {
  const std::string code = CreateLink({{"url", UniqueUrl()}})["code"];
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"format=jpg", "format must be svg or png"},
      {"format=", "format must be svg or png"},
      {"size=63", "size must be a whole number of pixels from 64 to 2048"},
      {"size=2049", "from 64 to 2048"},
      {"size=5e2", "from 64 to 2048"},
      {"size=", "from 64 to 2048"},
      {"margin=-1", "margin must be a whole number of modules from 0 to 16"},
      {"margin=17", "from 0 to 16"},
      {"ecc=X", "ecc must be L, M, Q or H"},
      {"ecc=m", "ecc must be L, M, Q or H"},
      {"fg=12345", "fg must be 6 hex digits"},
      {"fg=%23000000", "fg must be 6 hex digits"},
      {"bg=zzzzzz", "bg must be 6 hex digits"},
      {"fg=abcdef&bg=ABCDEF", "fg and bg must differ"},
      {"download=yes", "download must be 0 or 1"},
  };
  for (const auto& [query, about] : cases)
    ExpectInvalid(Admin().Get(QrPath(code, query)), query, about);
  // Parameters kurz does not know are ignored, as on every endpoint.
  EXPECT_EQ(Admin().Get(QrPath(code, "utm_source=x")).status, 200);
}

}  // namespace
}  // namespace kurz::testing
