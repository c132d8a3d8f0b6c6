// Boost 1.74's Asio uses std::exchange without including <utility>; under C++23 it must come
// first.
#include <utility>

#include "adapters/clickhouse/client.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "core/guard.hpp"

namespace kurz::adapters::clickhouse {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

// ClickHouse closes idle keep-alive connections after keep_alive_timeout (3 s in its stock
// config); older ones are not worth a failed first write.
constexpr auto kMaxIdle = std::chrono::seconds(2);
constexpr std::uint64_t kMaxAnswerBytes = 256ull << 20;
constexpr std::size_t kMaxErrorText = 2000;

std::string Where(const ClickHouseUrl& url) {
  std::string where = "clickhouse ";
  where += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  where += ':';
  where += std::to_string(url.port);
  return where;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

core::ErrorCode KindOf(int clickhouse_code, unsigned http_status) {
  switch (clickhouse_code) {
    case 60:  // UNKNOWN_TABLE
    case 81:  // UNKNOWN_DATABASE
      return core::ErrorCode::kNotFound;
    case 159:  // TIMEOUT_EXCEEDED
    case 209:  // SOCKET_TIMEOUT
      return core::ErrorCode::kTimeout;
    case 202:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case 210:  // NETWORK_ERROR
    case 241:  // MEMORY_LIMIT_EXCEEDED
    case 242:  // TABLE_IS_READ_ONLY
    case 252:  // TOO_MANY_PARTS
      return core::ErrorCode::kUnavailable;
    default:
      return http_status == 503 ? core::ErrorCode::kUnavailable : core::ErrorCode::kInternal;
  }
}

}  // namespace

// One keep-alive HTTP connection with its own io_context: every operation is asynchronous under
// the hood so that it can be abandoned at the deadline, and synchronous to the caller.
class Connection {
 public:
  static core::Result<std::unique_ptr<Connection>> Open(const ClickHouseUrl& url,
                                                        Clock::time_point deadline) {
    auto connection = std::make_unique<Connection>();
    tcp::resolver::results_type endpoints;
    error_code ec = connection->Run(
        [&](auto finish) {
          connection->resolver_.async_resolve(
              url.host, std::to_string(url.port),
              [&endpoints, finish](error_code e, tcp::resolver::results_type results) {
                endpoints = std::move(results);
                finish(e);
              });
        },
        deadline);
    if (ec) {
      return core::Fail(core::ErrorCode::kUnavailable,
                        Where(url) + ": cannot resolve the host: " + ec.message());
    }
    ec = connection->Run(
        [&](auto finish) {
          asio::async_connect(connection->socket_, endpoints,
                              [finish](error_code e, const tcp::endpoint&) { finish(e); });
        },
        deadline);
    if (ec) {
      return core::Fail(core::ErrorCode::kUnavailable,
                        Where(url) + ": cannot connect: " + ec.message());
    }
    // Without Nagle, or every small INSERT waits for the previous ACK; a failure is harmless.
    (void)connection->socket_.set_option(tcp::no_delay(true), ec);
    return connection;
  }

  // Sends the request and reads the whole answer into parser. got_some tells whether any byte
  // of an answer arrived (a keep-alive connection the server had closed fails without one).
  error_code Exchange(const http::request<http::string_body>& request,
                      http::response_parser<http::string_body>& parser, Clock::time_point deadline,
                      bool& got_some) {
    got_some = false;
    error_code ec = Run(
        [&](auto finish) {
          http::async_write(socket_, request, [finish](error_code e, std::size_t) { finish(e); });
        },
        deadline);
    if (ec) return ec;
    ec = Run(
        [&](auto finish) {
          http::async_read(socket_, buffer_, parser,
                           [finish](error_code e, std::size_t) { finish(e); });
        },
        deadline);
    got_some = parser.got_some();
    return ec;
  }

  Clock::time_point idle_since;

 private:
  // Starts one operation (start gets a completion callback taking an error_code) and runs the
  // io_context until it completes or the deadline passes; then the socket is closed, the
  // operation aborted and timed_out returned.
  template <class Start>
  error_code Run(Start&& start, Clock::time_point deadline) {
    std::optional<error_code> result;
    start([&result](error_code e) { result = e; });
    ioc_.restart();
    while (!result && ioc_.run_one_until(deadline) > 0) {
    }
    if (result) return *result;
    error_code ignored;
    resolver_.cancel();
    (void)socket_.close(ignored);
    ioc_.restart();
    while (!result && ioc_.run_one() > 0) {
    }
    return asio::error::timed_out;
  }

  asio::io_context ioc_{1};
  tcp::resolver resolver_{ioc_};
  tcp::socket socket_{ioc_};
  boost::beast::flat_buffer buffer_;
};

ClickHouseClient::ClickHouseClient(ClickHouseUrl url, ClientOptions options)
    : url_(std::move(url)), options_(options) {}

ClickHouseClient::~ClickHouseClient() = default;

core::Result<std::string> ClickHouseClient::Query(std::string_view sql, std::string_view settings) {
  return core::Guarded("clickhouse client", [&]() -> core::Result<std::string> {
    std::string target = "/?wait_end_of_query=1";
    if (!settings.empty()) {
      target += '&';
      target += settings;
    }
    return Post(target, std::string(sql));
  });
}

core::Result<void> ClickHouseClient::Insert(std::string_view statement, std::string data,
                                            std::string_view settings) {
  return core::Guarded("clickhouse client", [&]() -> core::Result<void> {
    std::string target = "/?query=" + UrlEncode(statement);
    if (!settings.empty()) {
      target += '&';
      target += settings;
    }
    auto answer = Post(target, std::move(data));
    if (!answer) return std::unexpected(std::move(answer.error()));
    return {};
  });
}

core::Result<std::string> ClickHouseClient::Post(const std::string& target, std::string body) {
  const auto deadline = Clock::now() + options_.timeout;
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, url_.host + ":" + std::to_string(url_.port));
  request.set(http::field::user_agent, "kurz");
  request.set(http::field::content_type, "text/plain; charset=UTF-8");
  request.body() = std::move(body);
  request.prepare_payload();

  while (true) {
    std::unique_ptr<Connection> connection = TakeIdle();
    const bool reused = connection != nullptr;
    if (!reused) {
      auto opened = Connection::Open(url_, deadline);
      if (!opened) return std::unexpected(std::move(opened.error()));
      connection = std::move(*opened);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswerBytes);
    bool got_some = false;
    const error_code ec = connection->Exchange(request, parser, deadline, got_some);
    if (ec == asio::error::timed_out) {
      return core::Fail(
          core::ErrorCode::kTimeout,
          Where(url_) + ": no answer within " + std::to_string(options_.timeout.count()) + " ms");
    }
    if (ec) {
      // The server closed this idle connection before our request reached it: nothing ran,
      // so another connection may try again (ending with a fresh one).
      if (reused && !got_some) continue;
      return core::Fail(core::ErrorCode::kUnavailable, Where(url_) + ": " + ec.message());
    }
    http::response<http::string_body>& response = parser.get();
    const unsigned status = response.result_int();
    if (response.keep_alive()) GiveBack(std::move(connection));
    if (status == 200) return std::move(response.body());

    std::string text = std::move(response.body());
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (text.size() > kMaxErrorText) text.resize(kMaxErrorText);
    if (text.empty()) text = "HTTP " + std::to_string(status);
    return core::Fail(KindOf(ClickHouseErrorCode(text), status), Where(url_) + ": " + text);
  }
}

std::unique_ptr<Connection> ClickHouseClient::TakeIdle() {
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  while (!idle_.empty()) {
    std::unique_ptr<Connection> connection = std::move(idle_.back());
    idle_.pop_back();
    if (now - connection->idle_since < kMaxIdle) return connection;
  }
  return nullptr;
}

void ClickHouseClient::GiveBack(std::unique_ptr<Connection> connection) {
  connection->idle_since = Clock::now();
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(connection));
}

int ClickHouseErrorCode(std::string_view body) {
  constexpr std::string_view kPrefix = "Code: ";
  const auto at = body.find(kPrefix);
  if (at == std::string_view::npos) return -1;
  const char* begin = body.data() + at + kPrefix.size();
  int code = -1;
  const auto [end, ec] = std::from_chars(begin, body.data() + body.size(), code);
  return ec == std::errc() ? code : -1;
}

}  // namespace kurz::adapters::clickhouse
