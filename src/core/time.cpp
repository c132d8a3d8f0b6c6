#include "core/time.hpp"

#include <cstddef>

namespace kurz::core {
namespace {

constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr Micros kMicrosPerDay = kSecondsPerDay * kMicrosPerSecond;

struct Civil {
  std::int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

// Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian
// calendar, independent of the C library's time zone and locale.
constexpr std::int64_t DaysFromCivil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;                                    // [0, 399]
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146'097 + doe - 719'468;
}

constexpr Civil CivilFromDays(std::int64_t z) {
  z += 719'468;
  const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const std::int64_t doe = z - era * 146'097;                                        // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                       // [0, 11]
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return Civil{yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(DaysFromCivil(2000, 3, 1) == 11'017);
static_assert(CivilFromDays(-1).year == 1969);

constexpr bool IsLeapYear(std::int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int DaysInMonth(std::int64_t y, int m) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

constexpr std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Appends value (>= 0) as at least `width` decimal digits.
void AppendDigits(std::string& out, std::int64_t value, int width) {
  char buf[20];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < 20);
  for (int i = n; i < width; ++i) out.push_back('0');
  while (n > 0) out.push_back(buf[--n]);
}

void AppendCivilDate(std::string& out, const Civil& c) {
  std::int64_t year = c.year;
  if (year < 0) {
    // Outside RFC 3339's range; written ISO 8601-style so that it is at least unambiguous.
    out.push_back('-');
    year = -year;
  }
  AppendDigits(out, year, 4);
  out.push_back('-');
  AppendDigits(out, c.month, 2);
  out.push_back('-');
  AppendDigits(out, c.day, 2);
}

// A tiny cursor over the input; every Read* fails on a short or non-digit field.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool ReadDigits(std::size_t count, int& value) {
    if (s_.size() - pos_ < count) return false;
    int v = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char c = s_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos_ += count;
    value = v;
    return true;
  }
  bool ReadChar(char expected) {
    if (pos_ < s_.size() && s_[pos_] == expected) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ReadCharOf(char a, char b) { return ReadChar(a) || ReadChar(b); }
  bool AtDigit() const { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void Skip() { ++pos_; }
  bool AtEnd() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// full-date = YYYY "-" MM "-" DD, validated against the calendar.
bool ReadFullDate(Scanner& in, std::int64_t& days) {
  int y = 0;
  int m = 0;
  int d = 0;
  if (!in.ReadDigits(4, y) || !in.ReadChar('-') || !in.ReadDigits(2, m) || !in.ReadChar('-') ||
      !in.ReadDigits(2, d)) {
    return false;
  }
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return false;
  days = DaysFromCivil(y, m, d);
  return true;
}

}  // namespace

std::string FormatRfc3339(Micros t) {
  const std::int64_t secs = FloorDiv(t, kMicrosPerSecond);
  const std::int64_t days = FloorDiv(secs, kSecondsPerDay);
  const std::int64_t sod = secs - days * kSecondsPerDay;
  std::string out;
  out.reserve(20);
  AppendCivilDate(out, CivilFromDays(days));
  out.push_back('T');
  AppendDigits(out, sod / 3600, 2);
  out.push_back(':');
  AppendDigits(out, sod / 60 % 60, 2);
  out.push_back(':');
  AppendDigits(out, sod % 60, 2);
  out.push_back('Z');
  return out;
}

Result<Micros> ParseRfc3339(std::string_view s) {
  auto fail = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                "'" + std::string(s.substr(0, 64)) +
                    "' is not an RFC 3339 date-time such as 2026-11-27T23:54:27Z");
  };
  Scanner in(s);
  std::int64_t days = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!ReadFullDate(in, days) || !in.ReadCharOf('T', 't') || !in.ReadDigits(2, hour) ||
      !in.ReadChar(':') || !in.ReadDigits(2, minute) || !in.ReadChar(':') ||
      !in.ReadDigits(2, second)) {
    return fail();
  }
  // Second 60 is a leap second; Unix time has none, so it folds into the next second.
  if (hour > 23 || minute > 59 || second > 60) return fail();

  Micros fraction = 0;
  if (in.ReadChar('.')) {
    if (!in.AtDigit()) return fail();
    Micros scale = 100'000;
    while (in.AtDigit()) {
      // Digits beyond microseconds are accepted and truncated.
      fraction += (in.Peek() - '0') * scale;
      scale /= 10;
      in.Skip();
    }
  }

  std::int64_t offset_seconds = 0;
  if (!in.ReadCharOf('Z', 'z')) {
    const char sign = in.Peek();
    if (sign != '+' && sign != '-') return fail();
    in.Skip();
    int off_h = 0;
    int off_m = 0;
    if (!in.ReadDigits(2, off_h) || !in.ReadChar(':') || !in.ReadDigits(2, off_m) || off_h > 23 ||
        off_m > 59) {
      return fail();
    }
    offset_seconds =
        (std::int64_t{off_h} * 3600 + std::int64_t{off_m} * 60) * (sign == '-' ? -1 : 1);
  }
  if (!in.AtEnd()) return fail();

  const std::int64_t secs = days * kSecondsPerDay + std::int64_t{hour} * 3600 +
                            std::int64_t{minute} * 60 + second - offset_seconds;
  return secs * kMicrosPerSecond + fraction;
}

std::string FormatDate(Date d) {
  std::string out;
  out.reserve(10);
  AppendCivilDate(out, CivilFromDays(d.days));
  return out;
}

Result<Date> ParseDate(std::string_view s) {
  Scanner in(s);
  std::int64_t days = 0;
  if (!ReadFullDate(in, days) || !in.AtEnd()) {
    return Fail(ErrorCode::kInvalidArgument,
                "'" + std::string(s.substr(0, 64)) + "' is not a date in the form YYYY-MM-DD");
  }
  return Date{static_cast<std::int32_t>(days)};
}

Date DateOf(Micros t) { return Date{static_cast<std::int32_t>(FloorDiv(t, kMicrosPerDay))}; }

Micros StartOf(Date d) { return static_cast<Micros>(d.days) * kMicrosPerDay; }

}  // namespace kurz::core
