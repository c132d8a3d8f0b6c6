#include "core/time.hpp"

#include <string>

#include <gtest/gtest.h>

namespace kurz::core {
namespace {

constexpr Micros kDay = 86'400 * kMicrosPerSecond;

// 2026-11-27T23:54:27Z, checked with `date -u -d @1795823667`.
constexpr Micros kExample = 1'795'823'667 * kMicrosPerSecond;

Micros ParseOk(std::string_view s) {
  const Result<Micros> r = ParseRfc3339(s);
  EXPECT_TRUE(r.has_value()) << s;
  return r.value_or(-1);
}

void ExpectRfc3339Rejected(std::string_view s) {
  const Result<Micros> r = ParseRfc3339(s);
  ASSERT_FALSE(r.has_value()) << s << " parsed as " << *r;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << s;
}

TEST(Rfc3339Test, FormatsUtcWithSecondsPrecision) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(kExample), "2026-11-27T23:54:27Z");
  EXPECT_EQ(FormatRfc3339(kExample + 999'999), "2026-11-27T23:54:27Z");
  EXPECT_EQ(FormatRfc3339(951'782'400 * kMicrosPerSecond), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(253'402'300'799 * kMicrosPerSecond), "9999-12-31T23:59:59Z");
}

TEST(Rfc3339Test, FormatsInstantsBeforeTheEpochByFlooring) {
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(-kMicrosPerSecond), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(-kDay), "1969-12-31T00:00:00Z");
}

TEST(Rfc3339Test, ParsesWhatItFormats) {
  for (const Micros t : {Micros{0}, kExample, Micros{951'782'400} * kMicrosPerSecond,
                         Micros{4'107'542'399} * kMicrosPerSecond, -kDay}) {
    EXPECT_EQ(ParseOk(FormatRfc3339(t)), t) << FormatRfc3339(t);
  }
}

TEST(Rfc3339Test, ParsesTheApiExampleAndVariants) {
  EXPECT_EQ(ParseOk("2026-11-27T23:54:27Z"), kExample);
  EXPECT_EQ(ParseOk("2026-11-27t23:54:27z"), kExample);
  EXPECT_EQ(ParseOk("2026-11-28T01:54:27+02:00"), kExample);
  EXPECT_EQ(ParseOk("2026-11-27T18:24:27-05:30"), kExample);
  EXPECT_EQ(ParseOk("2026-11-27T23:54:27+00:00"), kExample);
  EXPECT_EQ(ParseOk("2026-11-27T23:54:27-00:00"), kExample);
  EXPECT_EQ(ParseOk("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseOk("2027-01-01T00:00:00Z"), 1'798'761'600 * kMicrosPerSecond);
}

TEST(Rfc3339Test, FractionalSecondsToMicrosecondsTruncatingTheRest) {
  EXPECT_EQ(ParseOk("2026-11-27T23:54:27.5Z"), kExample + 500'000);
  EXPECT_EQ(ParseOk("2026-11-27T23:54:27.123456Z"), kExample + 123'456);
  EXPECT_EQ(ParseOk("2026-11-27T23:54:27.000001Z"), kExample + 1);
  EXPECT_EQ(ParseOk("2026-11-27T23:54:27.1234569999Z"), kExample + 123'456);
  EXPECT_EQ(ParseOk("2026-11-28T01:54:27.25+02:00"), kExample + 250'000);
}

TEST(Rfc3339Test, LeapDayOnlyInLeapYears) {
  EXPECT_EQ(ParseOk("2024-02-29T12:00:00Z"), ParseOk("2024-03-01T12:00:00Z") - kDay);
  EXPECT_EQ(ParseOk("2000-02-29T00:00:00Z"), 951'782'400 * kMicrosPerSecond);
  ExpectRfc3339Rejected("2026-02-29T12:00:00Z");
  ExpectRfc3339Rejected("1900-02-29T12:00:00Z");
  ExpectRfc3339Rejected("2024-02-30T12:00:00Z");
}

TEST(Rfc3339Test, LeapSecondFoldsIntoTheNextSecond) {
  EXPECT_EQ(ParseOk("2016-12-31T23:59:60Z"), ParseOk("2017-01-01T00:00:00Z"));
}

TEST(Rfc3339Test, RejectsMalformedOrImpossibleValues) {
  for (const char* s : {
           "",
           "2026-11-27",
           "2026-11-27T23:54:27",        // no offset
           "2026-11-27 23:54:27Z",       // space instead of T
           "2026-11-27T23:54Z",          // no seconds
           "2026-13-01T00:00:00Z",       // month 13
           "2026-00-01T00:00:00Z",       // month 0
           "2026-04-31T00:00:00Z",       // April has 30 days
           "2026-11-00T00:00:00Z",       // day 0
           "2026-11-27T24:00:00Z",       // hour 24
           "2026-11-27T23:60:00Z",       // minute 60
           "2026-11-27T23:59:61Z",       // second 61
           "2026-11-27T23:54:27.Z",      // empty fraction
           "2026-11-27T23:54:27,5Z",     // comma fraction
           "2026-11-27T23:54:27+0200",   // offset without colon
           "2026-11-27T23:54:27+02",     // offset without minutes
           "2026-11-27T23:54:27+24:00",  // offset hour 24
           "2026-11-27T23:54:27+02:60",  // offset minute 60
           "2026-11-27T23:54:27Zjunk",   // trailing junk
           "2026-11-27T23:54:27Z ",      // trailing space
           " 2026-11-27T23:54:27Z",      // leading space
           "26-11-27T23:54:27Z",         // two-digit year
           "+2026-11-27T23:54:27Z",      // signed year
           "2026-1-27T23:54:27Z",        // one-digit month
           "2026/11/27T23:54:27Z",       // wrong separator
           "2026-11-27T2:54:27Z",        // one-digit hour
           "2026-11-27T23:54:2aZ",       // letter in seconds
       }) {
    ExpectRfc3339Rejected(s);
  }
}

TEST(Rfc3339Test, ErrorMessageShowsTheExpectedForm) {
  const Result<Micros> r = ParseRfc3339("tomorrow");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().detail.find("2026-11-27T23:54:27Z"), std::string::npos) << r.error().detail;
}

TEST(DateTest, FormatsAndParses) {
  EXPECT_EQ(FormatDate(Date{0}), "1970-01-01");
  EXPECT_EQ(FormatDate(Date{-1}), "1969-12-31");
  EXPECT_EQ(FormatDate(Date{20'784}), "2026-11-27");
  EXPECT_EQ(FormatDate(Date{11'016}), "2000-02-29");
  EXPECT_EQ(ParseDate("2026-11-27"), Date{20'784});
  EXPECT_EQ(ParseDate("1970-01-01"), Date{0});
  EXPECT_EQ(ParseDate("0000-01-01"), Date{-719'528});
  EXPECT_EQ(ParseDate("9999-12-31"), Date{2'932'896});
}

TEST(DateTest, RoundTripsEveryDayOfFourCenturies) {
  // Covers every leap-year rule (4, 100, 400) on both sides of the epoch.
  for (std::int32_t days = -146'097; days <= 146'097; ++days) {
    const std::string s = FormatDate(Date{days});
    const Result<Date> parsed = ParseDate(s);
    ASSERT_TRUE(parsed.has_value()) << s;
    ASSERT_EQ(parsed->days, days) << s;
  }
}

TEST(DateTest, LeapDays) {
  EXPECT_TRUE(ParseDate("2024-02-29").has_value());
  EXPECT_TRUE(ParseDate("2000-02-29").has_value());
  EXPECT_TRUE(ParseDate("1600-02-29").has_value());
  EXPECT_FALSE(ParseDate("2026-02-29").has_value());
  EXPECT_FALSE(ParseDate("1900-02-29").has_value());
  EXPECT_FALSE(ParseDate("2100-02-29").has_value());
  EXPECT_EQ(ParseDate("2024-03-01")->days - ParseDate("2024-02-28")->days, 2);
  EXPECT_EQ(ParseDate("2026-03-01")->days - ParseDate("2026-02-28")->days, 1);
}

TEST(DateTest, RejectsAnythingButStrictYyyyMmDd) {
  for (const char* s : {"",
                        "2026-13-01",
                        "2026-00-10",
                        "2026-11-31",
                        "2026-06-31",
                        "2026-11-00",
                        "2026-11-32",
                        "2026-1-27",
                        "2026-11-7",
                        "26-11-27",
                        "20261127",
                        "2026/11/27",
                        "2026-11-27 ",
                        " 2026-11-27",
                        "2026-11-27T00:00:00Z",
                        "2026-11-27x",
                        "2026-11-2x",
                        "-026-11-27",
                        "+2026-11-27",
                        "２026-11-27"}) {
    const Result<Date> r = ParseDate(s);
    ASSERT_FALSE(r.has_value()) << s;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << s;
    EXPECT_NE(r.error().detail.find("YYYY-MM-DD"), std::string::npos) << r.error().detail;
  }
}

TEST(DateTest, DateOfAndStartOf) {
  EXPECT_EQ(DateOf(0), Date{0});
  EXPECT_EQ(DateOf(kDay - 1), Date{0});
  EXPECT_EQ(DateOf(kDay), Date{1});
  EXPECT_EQ(DateOf(-1), Date{-1});
  EXPECT_EQ(DateOf(kExample), *ParseDate("2026-11-27"));
  EXPECT_EQ(StartOf(Date{1}), kDay);
  EXPECT_EQ(StartOf(Date{-1}), -kDay);
  EXPECT_EQ(StartOf(*ParseDate("2026-11-27")), ParseOk("2026-11-27T00:00:00Z"));
  EXPECT_EQ(FormatRfc3339(StartOf(Date{20'784})), "2026-11-27T00:00:00Z");
}

}  // namespace
}  // namespace kurz::core
