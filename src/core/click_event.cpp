#include "core/click_event.hpp"

#include <algorithm>

namespace kurz::core {

std::string_view DimensionName(Dimension d) {
  switch (d) {
    case Dimension::kReferrer:
      return "referrers";
    case Dimension::kCountry:
      return "countries";
    case Dimension::kDevice:
      return "devices";
    case Dimension::kBrowser:
      return "browsers";
    case Dimension::kOs:
      return "os";
    case Dimension::kCity:
      return "cities";
  }
  return "unknown";
}

void MergeBreakdown(Breakdown& into, const Breakdown& add, std::size_t cap) {
  std::size_t distinct = 0;
  for (const ValueCount& v : into) {
    if (v.value != kOtherValue) ++distinct;
  }
  auto find = [&into](std::string_view value) {
    return std::find_if(into.begin(), into.end(),
                        [value](const ValueCount& v) { return v.value == value; });
  };
  for (const ValueCount& v : add) {
    if (v.clicks == 0) continue;
    std::string_view value = v.value;
    auto it = find(value);
    if (it == into.end() && value != kOtherValue && distinct >= cap) {
      value = kOtherValue;
      it = find(value);
    }
    if (it == into.end()) {
      into.push_back(ValueCount{std::string(value), 0});
      if (value != kOtherValue) ++distinct;
      it = into.end() - 1;
    }
    it->clicks += v.clicks;
  }
}

void SortBreakdown(Breakdown& b) {
  std::sort(b.begin(), b.end(), [](const ValueCount& x, const ValueCount& y) {
    return x.clicks != y.clicks ? x.clicks > y.clicks : x.value < y.value;
  });
}

}  // namespace kurz::core
