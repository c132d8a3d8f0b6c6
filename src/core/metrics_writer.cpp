#include "core/metrics_writer.hpp"

#include <cmath>
#include <cstdio>

namespace kurz::core {

namespace {

std::string_view TypeName(MetricsWriter::Type type) {
  switch (type) {
    case MetricsWriter::Type::kCounter:
      return "counter";
    case MetricsWriter::Type::kGauge:
      return "gauge";
    case MetricsWriter::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes backslash and newline; label values also the double quote.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (quote && c == '"') {
      out.append("\\\"");
    } else {
      out.push_back(c);
    }
  }
}

void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out.append("NaN");
  } else if (std::isinf(value)) {
    out.append(value > 0 ? "+Inf" : "-Inf");
  } else {
    char text[32];
    const int n = std::snprintf(text, sizeof text, "%.17g", value);
    out.append(text, static_cast<std::size_t>(n));
  }
}

}  // namespace

MetricsWriter& MetricsWriter::Family(std::string_view name, Type type, std::string_view help) {
  out_.append("# HELP ").append(name).push_back(' ');
  AppendEscaped(out_, help, false);
  out_.append("\n# TYPE ").append(name).push_back(' ');
  out_.append(TypeName(type)).push_back('\n');
  return *this;
}

MetricsWriter& MetricsWriter::Sample(std::string_view name, std::span<const MetricLabel> labels,
                                     double value) {
  out_.append(name);
  if (!labels.empty()) {
    out_.push_back('{');
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out_.push_back(',');
      out_.append(labels[i].name).append("=\"");
      AppendEscaped(out_, labels[i].value, true);
      out_.push_back('"');
    }
    out_.push_back('}');
  }
  out_.push_back(' ');
  AppendValue(out_, value);
  out_.push_back('\n');
  return *this;
}

}  // namespace kurz::core
