#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace kurz::core {

struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

// The one writer of Prometheus text exposition (format 0.0.4): every component that reports
// metrics appends its families through it, so HELP/TYPE lines, label escaping and number
// formatting are written in one place. A family is declared once, then its samples follow.
class MetricsWriter {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  explicit MetricsWriter(std::string& out) : out_(out) {}

  // Starts a family: its "# HELP" and "# TYPE" lines.
  MetricsWriter& Family(std::string_view name, Type type, std::string_view help);
  // One sample of the family just started: `name{labels} value` (histograms name their
  // _bucket, _sum and _count samples).
  MetricsWriter& Sample(std::string_view name, std::span<const MetricLabel> labels, double value);
  MetricsWriter& Sample(std::string_view name, std::initializer_list<MetricLabel> labels,
                        double value) {
    return Sample(name, std::span<const MetricLabel>(labels.begin(), labels.size()), value);
  }
  MetricsWriter& Sample(std::string_view name, double value) { return Sample(name, {}, value); }

  // A family with one unlabelled sample.
  void Counter(std::string_view name, std::string_view help, double value) {
    Family(name, Type::kCounter, help).Sample(name, value);
  }
  void Gauge(std::string_view name, std::string_view help, double value) {
    Family(name, Type::kGauge, help).Sample(name, value);
  }

 private:
  std::string& out_;
};

}  // namespace kurz::core
