#include "adapters/redis/connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <hiredis/hiredis.h>

namespace kurz::adapters::redis {
namespace {

using Clock = std::chrono::steady_clock;

timeval ToTimeval(std::chrono::microseconds us) {
  us = std::max(us, std::chrono::microseconds(1000));
  return timeval{.tv_sec = static_cast<time_t>(us.count() / 1'000'000),
                 .tv_usec = static_cast<suseconds_t>(us.count() % 1'000'000)};
}

int MillisUntil(Deadline deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

Reply Convert(const redisReply* reply) {
  Reply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(reply->elements);
      for (std::size_t i = 0; i < reply->elements; ++i) {
        out.elements.push_back(Convert(reply->element[i]));
      }
      break;
    default:
      out.type = Reply::Type::kNil;
      break;
  }
  return out;
}

struct ReplyDeleter {
  void operator()(void* reply) const { freeReplyObject(reply); }
};
using OwnedReply = std::unique_ptr<void, ReplyDeleter>;

// The wire form of one command (RESP array of bulk strings).
core::Result<std::string> Format(Args args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* formatted = nullptr;
  const int size = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), argv.data(),
                                          lengths.data());
  if (size < 0 || formatted == nullptr) {
    return core::Fail(core::ErrorCode::kInternal, "redis: cannot format a command");
  }
  std::string bytes(formatted, static_cast<std::size_t>(size));
  redisFreeCommand(formatted);
  return bytes;
}

}  // namespace

bool Reply::IsError(std::string_view word) const {
  return type == Type::kError && str.starts_with(word) &&
         (str.size() == word.size() || str[word.size()] == ' ');
}

Connection::Connection(redisContext* context, Endpoint endpoint)
    : context_(context), endpoint_(std::move(endpoint)) {}

Connection::~Connection() { redisFree(context_); }

core::Result<std::unique_ptr<Connection>> Connection::Open(const Endpoint& endpoint,
                                                           const RedisOptions& options,
                                                           Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
  if (left.count() <= 0) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "redis " + endpoint.ToString() + ": no time left to connect");
  }
  redisContext* context =
      redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, ToTimeval(left));
  if (context == nullptr) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "redis " + endpoint.ToString() + ": cannot allocate a connection");
  }
  if (context->err != 0) {
    std::string detail = "redis " + endpoint.ToString() + ": " + context->errstr;
    redisFree(context);
    return core::Fail(core::ErrorCode::kUnavailable, std::move(detail));
  }
  // Reads and writes wait in poll() against the deadline; the socket timeouts are a backstop.
  redisSetTimeout(context, ToTimeval(options.timeout));
  std::unique_ptr<Connection> connection(new Connection(context, endpoint));

  std::vector<std::vector<std::string_view>> setup;
  if (!options.password.empty()) {
    if (options.username.empty()) {
      setup.push_back({"AUTH", options.password});
    } else {
      setup.push_back({"AUTH", options.username, options.password});
    }
  }
  const std::string db = std::to_string(options.db);
  if (options.db != 0) setup.push_back({"SELECT", db});
  if (!setup.empty()) {
    std::vector<Args> commands(setup.begin(), setup.end());
    auto replies = connection->Pipeline(commands, deadline);
    if (!replies) return std::unexpected(replies.error());
    for (const Reply& reply : *replies) {
      if (reply.IsError()) {
        // A wrong password or database is a configuration error, not an outage.
        return core::Fail(core::ErrorCode::kInternal,
                          "redis " + endpoint.ToString() + ": " + reply.str);
      }
    }
  }
  return connection;
}

core::Error Connection::Fail(std::string_view what) {
  broken_ = true;
  return core::Error{core::ErrorCode::kUnavailable,
                     "redis " + endpoint_.ToString() + ": " + std::string(what)};
}

core::Error Connection::FailFromContext() {
  const int saved_errno = errno;
  if (context_->err == REDIS_ERR_EOF ||
      (context_->err == REDIS_ERR_IO && (saved_errno == ECONNRESET || saved_errno == EPIPE))) {
    closed_by_peer_ = true;
  }
  return Fail(context_->errstr[0] != '\0' ? context_->errstr : "connection failed");
}

core::Result<void> Connection::Write(std::string_view bytes, Deadline deadline) {
  while (!bytes.empty()) {
    const ssize_t sent =
        ::send(context_->fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{.fd = context_->fd, .events = POLLOUT, .revents = 0};
      const int ready = ::poll(&pfd, 1, MillisUntil(deadline));
      if (ready == 0) return std::unexpected(Fail("timed out sending"));
      if (ready < 0 && errno != EINTR) return std::unexpected(Fail(std::strerror(errno)));
      continue;
    }
    const int error = errno;
    if (error == EPIPE || error == ECONNRESET) closed_by_peer_ = true;
    return std::unexpected(Fail(std::strerror(error)));
  }
  return {};
}

core::Result<std::optional<Reply>> Connection::Read(Deadline deadline) {
  if (broken_) return std::unexpected(Fail("connection is broken"));
  while (true) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) {
      return std::unexpected(FailFromContext());
    }
    if (raw != nullptr) {
      OwnedReply reply(raw);
      return Convert(static_cast<const redisReply*>(raw));
    }
    pollfd pfd{.fd = context_->fd, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&pfd, 1, MillisUntil(deadline));
    if (ready == 0) return std::optional<Reply>();
    if (ready < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(Fail(std::strerror(errno)));
    }
    // Readable (or closed): one read() that does not block.
    errno = 0;
    if (redisBufferRead(context_) != REDIS_OK) return std::unexpected(FailFromContext());
  }
}

core::Result<void> Connection::Send(Args args, Deadline deadline) {
  if (broken_) return std::unexpected(Fail("connection is broken"));
  auto bytes = Format(args);
  if (!bytes) return std::unexpected(bytes.error());
  return Write(*bytes, deadline);
}

core::Result<std::vector<Reply>> Connection::Pipeline(std::span<const Args> commands,
                                                      Deadline deadline) {
  if (broken_) return std::unexpected(Fail("connection is broken"));
  std::string bytes;
  for (const Args& args : commands) {
    auto one = Format(args);
    if (!one) return std::unexpected(one.error());
    bytes += *one;
  }
  if (auto written = Write(bytes, deadline); !written) return std::unexpected(written.error());
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto reply = Read(deadline);
    if (!reply) return std::unexpected(reply.error());
    std::optional<Reply>& got = *reply;
    if (!got) return std::unexpected(Fail("timed out waiting for a reply"));
    replies.push_back(std::move(*got));
  }
  return replies;
}

core::Result<Reply> Connection::Command(Args args, Deadline deadline) {
  auto replies = Pipeline(std::span<const Args>(&args, 1), deadline);
  if (!replies) return std::unexpected(replies.error());
  return std::move(replies->front());
}

}  // namespace kurz::adapters::redis
