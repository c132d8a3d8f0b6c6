#pragma once

// Response serialisation used by the server's connections. Kept apart from server.cpp (which
// holds all of Asio and Beast) so that it compiles fast and can be tested without sockets.

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace kurz::http::detail {

// "Not Found" for 404; "Unknown" for codes outside the table.
std::string_view ReasonPhrase(int status);

// 1xx, 204 and 304 responses carry neither a body nor a Content-Length.
bool StatusAllowsBody(int status);

// How the server treats a header the handler passed in.
enum class HeaderKind {
  kPlain,            // copied as given
  kServerOwned,      // Content-Length, Transfer-Encoding, Connection, Date: written by the server
  kConnectionClose,  // "Connection: close": not copied, but the connection closes after it
};
HeaderKind ClassifyResponseHeader(std::string_view name, std::string_view value);

// Appends "HTTP/1.1 <status> <reason>\r\n". Statuses outside 100..999 become 500.
void AppendStatusLine(std::string& out, int status);

// Appends "<name>: <value>\r\n"; CR and LF inside name or value become spaces, so a value taken
// from user input cannot split the response.
void AppendHeader(std::string& out, std::string_view name, std::string_view value);

// Appends Content-Length (when the status allows a body), the Connection header and the blank
// line that ends the head. `keep_alive_header` asks for "Connection: keep-alive" (HTTP/1.0).
void AppendFraming(std::string& out, int status, std::size_t body_size, bool close,
                   bool keep_alive_header);

// "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n", reformatted at most once a second. One per loop.
class HttpDate {
 public:
  std::string_view Line(std::chrono::system_clock::time_point now);

 private:
  std::chrono::sys_seconds second_{};
  bool valid_ = false;
  std::array<char, 37> line_{};
};

}  // namespace kurz::http::detail
