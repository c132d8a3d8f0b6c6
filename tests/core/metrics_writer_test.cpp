#include "core/metrics_writer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace kurz::core {
namespace {

TEST(MetricsWriterTest, AFamilyHasHelpTypeAndSamples) {
  std::string out;
  MetricsWriter w(out);
  w.Family("kurz_requests_total", MetricsWriter::Type::kCounter, "Requests answered.")
      .Sample("kurz_requests_total", {{"route", "redirect"}, {"status", "301"}}, 12)
      .Sample("kurz_requests_total", {{"route", "links"}, {"status", "201"}}, 3);
  EXPECT_EQ(out,
            "# HELP kurz_requests_total Requests answered.\n"
            "# TYPE kurz_requests_total counter\n"
            "kurz_requests_total{route=\"redirect\",status=\"301\"} 12\n"
            "kurz_requests_total{route=\"links\",status=\"201\"} 3\n");
}

TEST(MetricsWriterTest, CountersAndGaugesWithoutLabels) {
  std::string out;
  MetricsWriter w(out);
  w.Counter("a_total", "A.", 5);
  w.Gauge("b", "B.", 0.25);
  EXPECT_EQ(out,
            "# HELP a_total A.\n# TYPE a_total counter\na_total 5\n"
            "# HELP b B.\n# TYPE b gauge\nb 0.25\n");
}

TEST(MetricsWriterTest, EscapesLabelValuesAndHelp) {
  std::string out;
  MetricsWriter w(out);
  w.Family("x", MetricsWriter::Type::kGauge, "line one\nback\\slash \"quoted\"")
      .Sample("x", {{"target", "a\"b\\c\nd"}}, 1);
  EXPECT_EQ(out,
            "# HELP x line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE x gauge\n"
            "x{target=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsWriterTest, WritesLargeCountsExactlyAndSpecialValuesByName) {
  std::string out;
  MetricsWriter w(out);
  w.Sample("big", 9007199254740992.0);  // 2^53: no exponent, no rounding
  w.Sample("inf", std::numeric_limits<double>::infinity());
  w.Sample("nan", std::nan(""));
  EXPECT_EQ(out, "big 9007199254740992\ninf +Inf\nnan NaN\n");
}

}  // namespace
}  // namespace kurz::core
