#include "http/server_internal.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace kurz::http::detail {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void AppendSanitized(std::string& out, std::string_view s) {
  // Two memchr scans (vectorised) beat find_first_of, which tests the set byte by byte.
  if (s.empty()) return;
  if (std::memchr(s.data(), '\r', s.size()) == nullptr &&
      std::memchr(s.data(), '\n', s.size()) == nullptr) {
    out.append(s);
    return;
  }
  for (char c : s) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
}

void AppendTwoDigits(char*& p, unsigned value) {
  *p++ = static_cast<char>('0' + value / 10 % 10);
  *p++ = static_cast<char>('0' + value % 10);
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

bool StatusAllowsBody(int status) { return status >= 200 && status != 204 && status != 304; }

HeaderKind ClassifyResponseHeader(std::string_view name, std::string_view value) {
  // Dispatch on length first: almost every header the handlers send is none of these.
  switch (name.size()) {
    case 4:
      return IEquals(name, "date") ? HeaderKind::kServerOwned : HeaderKind::kPlain;
    case 10:
      if (!IEquals(name, "connection")) return HeaderKind::kPlain;
      return IEquals(Trim(value), "close") ? HeaderKind::kConnectionClose
                                           : HeaderKind::kServerOwned;
    case 14:
      return IEquals(name, "content-length") ? HeaderKind::kServerOwned : HeaderKind::kPlain;
    case 17:
      return IEquals(name, "transfer-encoding") ? HeaderKind::kServerOwned : HeaderKind::kPlain;
    default:
      return HeaderKind::kPlain;
  }
}

void AppendStatusLine(std::string& out, int status) {
  if (status < 100 || status > 999) status = 500;
  char code[3] = {static_cast<char>('0' + status / 100), static_cast<char>('0' + status / 10 % 10),
                  static_cast<char>('0' + status % 10)};
  out.append("HTTP/1.1 ");
  out.append(code, sizeof code);
  out.push_back(' ');
  out.append(ReasonPhrase(status));
  out.append("\r\n");
}

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  AppendSanitized(out, name);
  out.append(": ");
  AppendSanitized(out, value);
  out.append("\r\n");
}

void AppendFraming(std::string& out, int status, std::size_t body_size, bool close,
                   bool keep_alive_header) {
  if (StatusAllowsBody(status)) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, body_size);
    out.append("Content-Length: ");
    out.append(digits, result.ptr);
    out.append("\r\n");
  }
  if (close) {
    out.append("Connection: close\r\n");
  } else if (keep_alive_header) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

std::string_view HttpDate::Line(std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  const auto second = floor<seconds>(now);
  if (!valid_ || second != second_) {
    static constexpr std::string_view kDays = "SunMonTueWedThuFriSat";
    static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const auto day = floor<days>(second);
    const year_month_day ymd{day};
    const weekday wd{day};
    const hh_mm_ss hms{second - day};
    char* p = line_.data();
    const auto put = [&p](std::string_view s) { p = std::ranges::copy(s, p).out; };
    put("Date: ");
    put(kDays.substr(std::size_t{wd.c_encoding()} * 3, 3));
    put(", ");
    AppendTwoDigits(p, static_cast<unsigned>(ymd.day()));
    put(" ");
    put(kMonths.substr((std::size_t{static_cast<unsigned>(ymd.month())} - 1) * 3, 3));
    put(" ");
    const auto year = static_cast<unsigned>(static_cast<int>(ymd.year()));
    AppendTwoDigits(p, year / 100);
    AppendTwoDigits(p, year % 100);
    put(" ");
    AppendTwoDigits(p, static_cast<unsigned>(hms.hours().count()));
    put(":");
    AppendTwoDigits(p, static_cast<unsigned>(hms.minutes().count()));
    put(":");
    AppendTwoDigits(p, static_cast<unsigned>(hms.seconds().count()));
    put(" GMT\r\n");
    second_ = second;
    valid_ = true;
  }
  return {line_.data(), line_.size()};
}

}  // namespace kurz::http::detail
