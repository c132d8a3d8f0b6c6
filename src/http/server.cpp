// The HTTP/1.1 engine's I/O: the connection state machine (read, parse, dispatch, write, linger,
// timeouts), the event loops that accept and own connections, and the Server over them. Over the
// ~600-line guideline because it is one state machine: Connection, Loop and Server share one
// lifetime scheme (shared_ptr loops, slot-indexed connections, deferred answers posted back) that
// splitting would only spread across headers. The request parser is in server_parser.cpp, the
// response serialisation in server_response.cpp, streamed bodies in server_stream.cpp.
//
// Boost 1.74's Asio uses std::exchange without including <utility>; under C++20/23 it must come
// first (the CMake target also force-includes it).
#include <pthread.h>

#include <utility>

#include "http/server.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include "http/error_body.hpp"
#include "http/server_internal.hpp"
#include "http/server_parser.hpp"
#include "http/server_stream.hpp"

namespace kurz::http {

// Out of line so that dropping an unsent responder always answers: the request never hangs.
DeferredResponder& DeferredResponder::operator=(DeferredResponder&& other) noexcept {
  if (this != &other) {
    DeferredResponder old(std::move(*this));  // answers 500 if it still held an unsent request
    target_ = std::move(other.target_);
  }
  return *this;
}

DeferredResponder::~DeferredResponder() {
  if (!target_) return;
  try {
    Response response;
    response.status = 500;
    response.headers.emplace_back("Content-Type", "application/json");
    response.body = R"({"error":{"code":"internal","message":"no response"}})";
    std::exchange(target_, nullptr)->Complete(std::move(response));
  } catch (...) {
    // Out of memory while answering: the connection is closed when the server stops.
  }
}

void DeferredResponder::Send(Response response) {
  if (!target_) return;
  std::exchange(target_, nullptr)->Complete(std::move(response));
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Executor = asio::io_context::executor_type;
// Concrete executor types instead of any_io_executor: no type erasure on every operation.
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Executor>;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
// Asio's error_code overloads (close, cancel, bind, ...) also return the code they set; the code
// is read from `ec`, so the duplicate return value is discarded with (void).

constexpr std::size_t kInitialInputBytes = 4096;
constexpr std::size_t kMinReadSpace = 1024;  // compact the input below this much room
constexpr std::size_t kInitialOutputBytes = 4096;
constexpr std::size_t kFlushOutputBytes =
    std::size_t{64} * 1024;  // write a batch once this much is pending
constexpr std::size_t kKeepOutputBytes =
    std::size_t{256} * 1024;  // larger output buffers go after the write
constexpr std::size_t kInitialHeadStoreBytes = 512;
// Buffers grown past these by one large request are released before the next one, so that
// thousands of keep-alive connections do not each hold a maximum-sized buffer.
constexpr std::size_t kKeepInputBytes = std::size_t{8} * 1024;
constexpr std::size_t kKeepHeadStoreBytes = std::size_t{4} * 1024;
constexpr std::size_t kKeepBodyBytes = std::size_t{16} * 1024;
constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::chrono::milliseconds kAcceptRetry{50};
constexpr Clock::time_point kNever = Clock::time_point::max();
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

using detail::HasUnsupportedVersion;
using detail::RequestParser;
using detail::RequestStore;
using detail::SplitTarget;

std::array<std::uint8_t, 16> ToV6Bytes(const asio::ip::address& address) {
  if (address.is_v4()) {
    return asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes();
  }
  return address.to_v6().to_bytes();
}

// Everything the server keeps across its loops. Loops (and through them connections) hold it by
// shared_ptr so that a DeferredResponder outliving the Server touches nothing freed.
struct Shared {
  Shared(ServerOptions o, Handler& h) : options(std::move(o)), handler(h) {
    options.threads = std::max(options.threads, 1);
    options.max_head_bytes = std::clamp<std::size_t>(options.max_head_bytes, 64, 1u << 30);
    const auto at_least_1ms = [](std::chrono::milliseconds& d) {
      d = std::max(d, std::chrono::milliseconds(1));
    };
    at_least_1ms(options.header_timeout);
    at_least_1ms(options.body_timeout);
    at_least_1ms(options.idle_timeout);
    tick = std::min({options.header_timeout, options.body_timeout, options.idle_timeout});
    head_limit_message =
        "request head larger than " + std::to_string(options.max_head_bytes) + " bytes";
    body_limit_message =
        "request body larger than " + std::to_string(options.max_body_bytes) + " bytes";
    header_timeout_message = "request head not received within " +
                             std::to_string(options.header_timeout.count()) + " ms";
    body_timeout_message =
        "request body not received within " + std::to_string(options.body_timeout.count()) + " ms";
    max_input_bytes = std::max(options.max_head_bytes + 1, kInitialInputBytes);
  }

  ServerOptions options;
  Handler& handler;
  // The connection timer wakes at least this often, so that moving a deadline later never needs a
  // new wait, and no deadline is ever nearer than one tick (see Connection::SetDeadline).
  std::chrono::milliseconds tick{};
  std::size_t max_input_bytes = 0;
  std::string head_limit_message;
  std::string body_limit_message;
  std::string header_timeout_message;
  std::string body_timeout_message;

  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> streams_total{0};
  std::atomic<std::uint64_t> stream_errors{0};
  std::atomic<std::uint64_t> streams_abandoned{0};
};

class Connection;

// One event loop: an io_context run by one thread, with its own SO_REUSEPORT acceptor. Everything
// here except `ioc` is touched only on that thread.
class Loop : public std::enable_shared_from_this<Loop> {
 public:
  Loop(std::shared_ptr<Shared> shared, int index)
      : shared_(std::move(shared)),
        index_(index),
        work_(ioc_.get_executor()),
        acceptor_(ioc_.get_executor()),
        pending_(ioc_.get_executor()),
        accept_retry_(ioc_.get_executor()),
        grace_(ioc_.get_executor()) {}

  asio::io_context& ioc() { return ioc_; }
  Acceptor& acceptor() { return acceptor_; }
  Shared& shared() { return *shared_; }
  int index() const { return index_; }
  bool stopping() const { return stopping_; }
  detail::HttpDate& date() { return date_; }

  void StartAccept();
  void Remove(Connection& connection);
  void BeginStop(Clock::time_point deadline);
  // The loop could not get a thread: take it out of service before anyone connects.
  void Abandon() {
    beast::error_code ec;
    (void)acceptor_.close(ec);
    work_.reset();
  }

  void Run() {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (...) {
        // A completion handler threw (only bad_alloc can); the loop keeps serving.
      }
    }
  }

 private:
  void OnAccept(const beast::error_code& ec);
  void Admit(Socket socket);
  void Drained();

  std::shared_ptr<Shared> shared_;
  int index_;
  asio::io_context ioc_{1};
  asio::executor_work_guard<Executor> work_;  // Run() lasts until Stop(), listening or not
  Acceptor acceptor_;
  Socket pending_;
  Timer accept_retry_;
  Timer grace_;
  detail::HttpDate date_;
  bool stopping_ = false;
  // Declared last, destroyed first: connections go while their io_context still exists.
  std::vector<std::shared_ptr<Connection>> connections_;
};

// One TCP connection; lives as long as it does. Reads, parses, calls the handler and writes
// strictly in turn, so responses keep the order of requests and no locking is needed.
class Connection final : public Responder, public std::enable_shared_from_this<Connection> {
 public:
  Connection(Loop& loop, Socket socket)
      : loop_(loop),
        shared_(loop.shared()),
        socket_(std::move(socket)),
        timer_(loop.ioc().get_executor()),
        in_(kInitialInputBytes) {
    out_.reserve(kInitialOutputBytes);
    store_.text.reserve(kInitialHeadStoreBytes);
  }

  std::size_t slot = 0;  // index in Loop::connections_

  void Start();
  void OnServerStop();
  void Close();
  void Complete(Response&& response);

  void Send(int status, std::span<const Header> headers, std::string_view body) override;
  DeferredResponder Defer() override;

 private:
  void Pump();
  void ProcessInput();
  void StartRequest();
  void Dispatch();
  void BuildRequest();
  void ParserFailed(const beast::error_code& ec);
  void ProtocolError(int status, std::string_view code, std::string_view message);
  bool PrepareInputSpace();
  void StartRead();
  void OnRead(const beast::error_code& ec, std::size_t bytes);
  void StartWrite();
  void OnWrite(const beast::error_code& ec);
  void StartLingeringClose();
  void LingerRead();
  void SetDeadline(Clock::time_point deadline);
  void ArmTimer();
  void OnTimer(const beast::error_code& ec, std::uint64_t generation);
  void OnDeadline();
  template <class Headers>
  void AppendResponse(int status, const Headers& headers, std::string_view body,
                      bool streamed = false);
  void StartStream(Response& response);
  void RequestPiece();
  void OnPiece();
  void EndStream();

  Loop& loop_;
  Shared& shared_;
  Socket socket_;
  Timer timer_;
  std::array<std::uint8_t, 16> peer_ip_{};

  // Input: bytes [in_begin_, in_end_) of in_ are received but not yet parsed.
  std::vector<char> in_;
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  std::optional<RequestParser> parser_;
  RequestStore store_;
  std::size_t head_bytes_ = 0;  // of the current request, as consumed by the parser
  Request request_;

  // Responses not yet written, back to back.
  std::string out_;
  std::optional<Response> deferred_response_;
  // A streamed body being sent (deferred_ stays set until it ends): at most one piece is
  // produced or written at a time.
  std::shared_ptr<detail::StreamedBody> stream_;
  bool stream_chunked_ = false;
  bool stream_waiting_ = false;  // a piece is being produced

  Clock::time_point deadline_ = kNever;  // when the current wait (read, write, ...) gives up
  Clock::time_point armed_ = kNever;     // when the timer wakes next
  Clock::time_point request_deadline_ = kNever;
  std::uint64_t timer_generation_ = 0;

  bool reading_ = false;
  bool writing_ = false;
  bool request_started_ = false;  // bytes of a request arrived; it is not dispatched yet
  bool served_any_ = false;
  bool responded_ = false;  // the handler called Send or Defer for the current request
  bool deferred_ = false;   // waiting for a DeferredResponder; input is not parsed meanwhile
  bool closing_ = false;    // close once the pending output is written
  bool linger_ = false;     // a protocol error: the client may still be sending
  bool lingering_ = false;  // final answer sent; draining input before closing
  bool timed_out_ = false;  // the deadline cancelled the read in flight
  bool closed_ = false;
};

// What a DeferredResponder points at: it keeps the loop (and its io_context) alive, so a worker
// may answer even after the Server is gone; the answer is then dropped.
class DeferredTargetImpl final : public detail::DeferredTarget {
 public:
  DeferredTargetImpl(std::shared_ptr<Loop> loop, std::shared_ptr<Connection> connection)
      : loop_(std::move(loop)), connection_(std::move(connection)) {}

  void Complete(Response&& response) override {
    if (!connection_) return;
    asio::post(loop_->ioc(),
               [connection = std::move(connection_), response = std::move(response)]() mutable {
                 connection->Complete(std::move(response));
               });
  }

 private:
  std::shared_ptr<Loop> loop_;  // declared first, released last
  std::shared_ptr<Connection> connection_;
};

// ---- Connection ----------------------------------------------------------------------------

void Connection::Start() {
  beast::error_code ec;
  (void)socket_.set_option(tcp::no_delay(true), ec);
  const auto endpoint = socket_.remote_endpoint(ec);
  if (!ec) peer_ip_ = ToV6Bytes(endpoint.address());
  const auto now = Clock::now();
  deadline_ = now + shared_.options.header_timeout;  // a new connection must start a request
  armed_ = std::min(deadline_, now + shared_.tick);
  timer_.expires_at(armed_);
  ArmTimer();
  Pump();
}

// Decides the next step. Exactly one of read, write, wait for a deferred answer, or close is in
// progress at any time.
void Connection::Pump() {
  if (closed_ || reading_ || writing_ || lingering_) return;
  if (deferred_response_) {
    if (deferred_response_->stream) {
      StartStream(*deferred_response_);
    } else {
      deferred_ = false;
      AppendResponse(deferred_response_->status, deferred_response_->headers,
                     deferred_response_->body);
    }
    deferred_response_.reset();
  }
  if (!deferred_ && !closing_) ProcessInput();
  if (!out_.empty()) return StartWrite();
  if (stream_) {
    // Backpressure: the next piece only once the previous one is written.
    if (!stream_waiting_) RequestPiece();
    return;
  }
  if (closing_) {
    // Closing with unread input resets the connection, which can destroy the answer before the
    // client reads it; so drain first when the client may still be sending.
    beast::error_code ec;
    if (linger_ || in_begin_ < in_end_ || socket_.available(ec) > 0) return StartLingeringClose();
    return Close();
  }
  if (deferred_) return SetDeadline(kNever);
  if (loop_.stopping() && !request_started_) return Close();
  if (!PrepareInputSpace()) {
    ProtocolError(400, "invalid_argument", "request line or chunk header too long");
    return Pump();
  }
  StartRead();
}

// Parses buffered input and dispatches every complete request, until the input runs out, a
// request is deferred, the connection is to close, or enough output has piled up.
void Connection::ProcessInput() {
  const std::size_t max_head = shared_.options.max_head_bytes;
  while (!deferred_ && !closing_ && out_.size() < kFlushOutputBytes && in_begin_ < in_end_) {
    if (!request_started_) StartRequest();
    if (!parser_) return;  // StartRequest() constructs it and nothing resets it: never taken
    RequestParser& parser = *parser_;
    const bool head_was_done = parser.is_header_done();
    beast::error_code ec;
    const std::size_t used =
        parser.put(asio::const_buffer(in_.data() + in_begin_, in_end_ - in_begin_), ec);
    in_begin_ += used;
    if (!head_was_done) {
      // Beast checks header_limit per put() only, and it consumes the head in pieces.
      head_bytes_ += used;
      const bool head_done = parser.is_header_done();
      if (head_bytes_ > max_head ||
          (!head_done && head_bytes_ + (in_end_ - in_begin_) > max_head)) {
        return ProtocolError(431, "invalid_argument", shared_.head_limit_message);
      }
      if (head_done && !ec) {
        request_deadline_ = Clock::now() + shared_.options.body_timeout;
        if (store_.expect_continue && store_.version >= 11 && !parser.is_done() &&
            in_begin_ == in_end_) {
          out_.append(kContinue);
        }
      }
    }
    if (ec == bhttp::error::need_more) return;
    if (ec) return ParserFailed(ec);
    if (parser.is_done()) {
      Dispatch();
    } else if (used == 0) {
      return;  // no progress without an error: wait for input
    }
  }
}

void Connection::StartRequest() {
  if (store_.text.capacity() > kKeepHeadStoreBytes) std::string().swap(store_.text);
  if (store_.forwarded_for.capacity() > kKeepHeadStoreBytes) {
    std::string().swap(store_.forwarded_for);
  }
  if (store_.body.capacity() > kKeepBodyBytes) std::string().swap(store_.body);
  store_.Clear();
  parser_.emplace(store_);
  parser_->eager(false);  // stop after the head, so head_bytes_ counts the head exactly
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(shared_.options.max_head_bytes + 1, UINT32_MAX)));
  parser_->body_limit(shared_.options.max_body_bytes);
  head_bytes_ = 0;
  request_started_ = true;
  request_deadline_ = Clock::now() + shared_.options.header_timeout;
}

void Connection::Dispatch() {
  request_started_ = false;
  served_any_ = true;
  BuildRequest();
  responded_ = false;
  try {
    shared_.handler.Handle(request_, *this);
  } catch (...) {
    // A handler must not throw; answer rather than drop the connection.
  }
  if (!responded_) {
    static constexpr Header kJson[] = {{"Content-Type", "application/json"}};
    Send(500, kJson, R"({"error":{"code":"internal","message":"no response"}})");
  }
}

void Connection::BuildRequest() {
  using S = RequestStore;
  Request& r = request_;
  r.method = store_.method;
  r.method_text = store_.View(store_.method_text);
  r.target = store_.View(store_.target);
  SplitTarget(r.target, r.path, r.query);
  r.host = store_.View(store_.fields[S::kHost]);
  r.content_type = store_.View(store_.fields[S::kContentType]);
  r.authorization = store_.View(store_.fields[S::kAuthorization]);
  r.api_key = store_.View(store_.fields[S::kApiKey]);
  r.request_id = store_.View(store_.fields[S::kRequestId]);
  r.accept = store_.View(store_.fields[S::kAccept]);
  r.user_agent = store_.View(store_.fields[S::kUserAgent]);
  r.referer = store_.View(store_.fields[S::kReferer]);
  r.accept_language = store_.View(store_.fields[S::kAcceptLanguage]);
  r.forwarded_for = store_.forwarded_for;
  r.body = store_.body;
  r.keep_alive = store_.keep_alive && !loop_.stopping();
  r.peer_ip = peer_ip_;
  r.loop_index = loop_.index();
}

void Connection::ParserFailed(const beast::error_code& ec) {
  if (store_.error.status != 0) {
    return ProtocolError(store_.error.status, store_.error.code, store_.error.message);
  }
  using E = bhttp::error;
  if (ec == E::header_limit) {
    return ProtocolError(431, "invalid_argument", shared_.head_limit_message);
  }
  if (ec == E::body_limit) {
    return ProtocolError(413, "payload_too_large", shared_.body_limit_message);
  }
  if (ec == E::bad_version &&
      HasUnsupportedVersion({in_.data() + in_begin_, in_end_ - in_begin_})) {
    return ProtocolError(505, "invalid_argument", "only HTTP/1.0 and HTTP/1.1 are supported");
  }
  std::string_view message = "malformed request";
  if (ec == E::bad_method || ec == E::bad_target || ec == E::bad_version) {
    message = "malformed request line";
  } else if (ec == E::bad_field || ec == E::bad_value || ec == E::bad_line_ending ||
             ec == E::bad_obs_fold) {
    message = "malformed header field";
  } else if (ec == E::bad_content_length) {
    message = "invalid or conflicting Content-Length";
  } else if (ec == E::bad_transfer_encoding) {
    message = "Transfer-Encoding conflicts with Content-Length or repeats";
  } else if (ec == E::bad_chunk || ec == E::bad_chunk_extension) {
    message = "malformed chunked body";
  }
  ProtocolError(400, "invalid_argument", message);
}

void Connection::ProtocolError(int status, std::string_view code, std::string_view message) {
  shared_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  closing_ = true;
  linger_ = true;
  request_started_ = false;
  request_ = Request{};
  request_.keep_alive = false;
  request_.peer_ip = peer_ip_;
  request_.loop_index = loop_.index();
  responded_ = false;
  try {
    shared_.handler.HandleProtocolError(status, code, message, *this);
  } catch (...) {
    // fall through to the plain answer below
  }
  if (!responded_) {
    try {
      const std::string body = ErrorBody(code, message);
      static constexpr Header kJson[] = {{"Content-Type", "application/json"}};
      Send(status, kJson, body);
    } catch (...) {
      Close();
    }
  }
}

template <class Headers>
void Connection::AppendResponse(int status, const Headers& headers, std::string_view body,
                                bool streamed) {
  const auto name = [](const auto& h) -> std::string_view {
    if constexpr (std::is_same_v<std::decay_t<decltype(h)>, Header>) {
      return h.name;
    } else {
      return h.first;
    }
  };
  const auto value = [](const auto& h) -> std::string_view {
    if constexpr (std::is_same_v<std::decay_t<decltype(h)>, Header>) {
      return h.value;
    } else {
      return h.second;
    }
  };
  bool close = closing_ || !request_.keep_alive || loop_.stopping();
  for (const auto& h : headers) {
    if (detail::ClassifyResponseHeader(name(h), value(h)) == detail::HeaderKind::kConnectionClose) {
      close = true;
    }
  }
  detail::AppendStatusLine(out_, status);
  out_.append(loop_.date().Line(std::chrono::system_clock::now()));
  for (const auto& h : headers) {
    if (detail::ClassifyResponseHeader(name(h), value(h)) == detail::HeaderKind::kPlain) {
      detail::AppendHeader(out_, name(h), value(h));
    }
  }
  if (streamed) {
    detail::AppendStreamFraming(out_, stream_chunked_, close, !close && store_.version == 10);
  } else {
    detail::AppendFraming(out_, status, body.size(), close, !close && store_.version == 10);
    if (request_.method != Method::kHead && detail::StatusAllowsBody(status)) out_.append(body);
  }
  if (close) closing_ = true;
}

// Sends the head now; the body follows piece by piece (RequestPiece, OnPiece). HEAD, and
// statuses without a body, end here.
void Connection::StartStream(Response& response) {
  const bool has_body =
      request_.method != Method::kHead && detail::StatusAllowsBody(response.status);
  // An HTTP/1.0 client cannot take chunks: its body ends when the connection closes. A 204 or
  // 304 has no body to frame; HEAD announces the framing GET would have.
  stream_chunked_ = store_.version >= 11 && detail::StatusAllowsBody(response.status);
  if (has_body && !stream_chunked_) closing_ = true;
  AppendResponse(response.status, response.headers, {}, /*streamed=*/true);
  if (!has_body) {
    deferred_ = false;
    return;
  }
  shared_.streams_total.fetch_add(1, std::memory_order_relaxed);
  try {
    stream_ = std::make_shared<detail::StreamedBody>(std::move(response.stream));
  } catch (...) {
    return Close();
  }
  stream_waiting_ = false;
}

void Connection::RequestPiece() {
  stream_waiting_ = true;
  SetDeadline(kNever);  // the producer's pace; a write the client does not take still times out
  bool queued = false;
  try {
    queued = stream_->Produce([loop = loop_.shared_from_this(), self = shared_from_this()] {
      asio::post(loop->ioc(), [self] { self->OnPiece(); });
    });
  } catch (...) {
    queued = false;
  }
  if (!queued) {
    shared_.stream_errors.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "kurz: streamed response to %.*s cut: no worker took the next piece\n",
                 static_cast<int>(request_.path.size()), request_.path.data());
    stream_.reset();
    Close();
  }
}

void Connection::OnPiece() {
  if (closed_ || !stream_ || !stream_waiting_) return;
  stream_waiting_ = false;
  const auto piece = stream_->Take();
  if (piece.state == detail::StreamedBody::State::kFailed) {
    // The status line is long gone: closing without the last chunk tells the client the body
    // is incomplete.
    shared_.stream_errors.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "kurz: streamed response to %.*s cut by its producer: %.*s\n",
                 static_cast<int>(request_.path.size()), request_.path.data(),
                 static_cast<int>(piece.error.size()), piece.error.data());
    stream_.reset();
    return Close();
  }
  detail::AppendBodyPiece(out_, piece.data, stream_chunked_);
  if (piece.state == detail::StreamedBody::State::kEnd) EndStream();
  Pump();
}

void Connection::EndStream() {
  if (stream_chunked_) out_.append(detail::kLastChunk);
  stream_.reset();
  deferred_ = false;  // the next pipelined request may be read
}

void Connection::Send(int status, std::span<const Header> headers, std::string_view body) {
  if (responded_ || closed_) return;
  responded_ = true;
  AppendResponse(status, headers, body);
}

DeferredResponder Connection::Defer() {
  if (responded_ || closed_) return DeferredResponder();
  responded_ = true;
  deferred_ = true;
  return DeferredResponder(
      std::make_shared<DeferredTargetImpl>(loop_.shared_from_this(), shared_from_this()));
}

void Connection::Complete(Response&& response) {
  if (closed_ || !deferred_ || deferred_response_) return;
  deferred_response_.emplace(std::move(response));
  Pump();
}

bool Connection::PrepareInputSpace() {
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
    if (in_.size() > kKeepInputBytes) {
      in_.resize(kInitialInputBytes);
      in_.shrink_to_fit();
    }
  } else if (in_begin_ > 0 && in_.size() - in_end_ < kMinReadSpace) {
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_end_ < in_.size()) return true;
  // Full of one unparsed element: a head (at most max_head_bytes, which always fits) or a chunk
  // header line.
  if (in_.size() >= shared_.max_input_bytes) return false;
  in_.resize(std::min(in_.size() * 2, shared_.max_input_bytes));
  return true;
}

void Connection::StartRead() {
  if (request_started_) {
    SetDeadline(request_deadline_);
  } else {
    const auto wait = served_any_ ? shared_.options.idle_timeout : shared_.options.header_timeout;
    SetDeadline(Clock::now() + wait);
  }
  reading_ = true;
  socket_.async_read_some(
      asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
      [self = shared_from_this()](const beast::error_code& ec, std::size_t bytes) {
        self->OnRead(ec, bytes);
      });
}

void Connection::OnRead(const beast::error_code& ec, std::size_t bytes) {
  reading_ = false;
  if (closed_) return;
  if (timed_out_) {
    timed_out_ = false;
    if (!request_started_) return Close();  // idle: close silently
    const bool head_done = parser_ && parser_->is_header_done();
    ProtocolError(408, "timeout",
                  head_done ? shared_.body_timeout_message : shared_.header_timeout_message);
    return Pump();
  }
  if (ec) return Close();  // EOF, reset or cancelled by Stop
  in_end_ += bytes;
  Pump();
}

void Connection::StartWrite() {
  SetDeadline(Clock::now() + shared_.options.idle_timeout);  // a client that stops reading
  writing_ = true;
  asio::async_write(
      socket_, asio::buffer(out_),
      [self = shared_from_this()](const beast::error_code& ec, std::size_t) { self->OnWrite(ec); });
}

void Connection::OnWrite(const beast::error_code& ec) {
  writing_ = false;
  if (closed_) return;
  if (ec) return Close();
  out_.clear();
  if (out_.capacity() > kKeepOutputBytes) {
    std::string().swap(out_);
    out_.reserve(kInitialOutputBytes);
  }
  Pump();
}

// After a final answer: stop sending, then read and drop what the client still sends until it
// closes (or kLingerTime passes).
void Connection::StartLingeringClose() {
  lingering_ = true;
  beast::error_code ec;
  (void)socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return Close();
  SetDeadline(Clock::now() + kLingerTime);
  LingerRead();
}

void Connection::LingerRead() {
  reading_ = true;
  socket_.async_read_some(asio::buffer(in_.data(), in_.size()),
                          [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                            self->reading_ = false;
                            if (ec || self->timed_out_) return self->Close();
                            self->LingerRead();
                          });
}

// The timer wakes at `armed_`, which is never later than one tick after it was set. Deadlines
// are at least a tick away when set, so the hot path moves `deadline_` and never re-arms the
// timer (which would cost a cancelled wait and an allocation per request).
void Connection::SetDeadline(Clock::time_point deadline) {
  deadline_ = deadline;
  if (deadline < armed_) {
    armed_ = deadline;
    timer_.expires_at(armed_);  // cancels the wait in flight; its completion is ignored
    ArmTimer();
  }
}

void Connection::ArmTimer() {
  timer_.async_wait([self = shared_from_this(), generation = ++timer_generation_](
                        const beast::error_code& ec) { self->OnTimer(ec, generation); });
}

void Connection::OnTimer(const beast::error_code& ec, std::uint64_t generation) {
  if (closed_ || generation != timer_generation_ || ec == asio::error::operation_aborted) return;
  const auto now = Clock::now();
  if (deadline_ <= now) {
    OnDeadline();
    if (closed_) return;
  }
  armed_ = std::min(deadline_, now + shared_.tick);
  timer_.expires_at(armed_);
  ArmTimer();
}

void Connection::OnDeadline() {
  deadline_ = kNever;
  if (reading_) {
    // The read completes with operation_aborted; OnRead answers 408 or closes.
    timed_out_ = true;
    beast::error_code ec;
    (void)socket_.cancel(ec);
    return;
  }
  Close();  // a write the client does not take, or lingering
}

void Connection::OnServerStop() {
  if (closed_) return;
  // Idle between requests: nothing in flight, close now. Otherwise the current request ends
  // normally and its answer carries "Connection: close".
  if (reading_ && !request_started_ && !lingering_) Close();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ec;
  (void)socket_.close(ec);
  timer_.cancel();
  deferred_response_.reset();
  if (stream_) {
    shared_.streams_abandoned.fetch_add(1, std::memory_order_relaxed);
    stream_.reset();  // a piece in flight keeps the body alive until its task ends
  }
  loop_.Remove(*this);
}

// ---- Loop ----------------------------------------------------------------------------------

void Loop::StartAccept() {
  acceptor_.async_accept(pending_, [this](const beast::error_code& ec) { OnAccept(ec); });
}

void Loop::OnAccept(const beast::error_code& ec) {
  if (stopping_ || !acceptor_.is_open()) return;
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
        ec == asio::error::no_memory || ec.value() == ENFILE) {
      // Out of file descriptors: retrying at once would spin.
      accept_retry_.expires_after(kAcceptRetry);
      accept_retry_.async_wait([this](const beast::error_code& wait_ec) {
        if (!wait_ec && !stopping_) StartAccept();
      });
      return;
    }
    return StartAccept();  // the peer went away before accept: carry on
  }
  Admit(std::move(pending_));
  StartAccept();
}

void Loop::Admit(Socket socket) {
  beast::error_code ec;
  const std::uint64_t open = shared_->connections_open.fetch_add(1, std::memory_order_relaxed);
  if (open >= shared_->options.max_connections) {
    shared_->connections_open.fetch_sub(1, std::memory_order_relaxed);
    shared_->connections_rejected.fetch_add(1, std::memory_order_relaxed);
    (void)socket.close(ec);
    return;
  }
  std::shared_ptr<Connection> connection;
  try {
    connection = std::make_shared<Connection>(*this, std::move(socket));
    connections_.push_back(connection);
  } catch (...) {
    shared_->connections_open.fetch_sub(1, std::memory_order_relaxed);
    return;  // out of memory: the socket closes with whatever holds it
  }
  connection->slot = connections_.size() - 1;
  shared_->connections_total.fetch_add(1, std::memory_order_relaxed);
  connection->Start();
}

void Loop::Remove(Connection& connection) {
  const std::size_t slot = connection.slot;
  if (slot >= connections_.size() || connections_[slot].get() != &connection) return;
  if (slot + 1 != connections_.size()) {
    connections_[slot] = std::move(connections_.back());
    connections_[slot]->slot = slot;
  }
  connections_.pop_back();
  shared_->connections_open.fetch_sub(1, std::memory_order_relaxed);
  if (stopping_ && connections_.empty()) Drained();
}

void Loop::BeginStop(Clock::time_point deadline) {
  if (stopping_) return;
  stopping_ = true;
  work_.reset();
  beast::error_code ec;
  (void)acceptor_.close(ec);
  accept_retry_.cancel();
  // Backwards: a connection that closes is replaced by the last one, which was visited already.
  for (std::size_t i = connections_.size(); i-- > 0;) {
    if (i >= connections_.size()) continue;
    const auto connection = connections_[i];
    connection->OnServerStop();
  }
  if (connections_.empty()) return Drained();
  grace_.expires_at(deadline);
  grace_.async_wait([this](const beast::error_code& wait_ec) {
    if (wait_ec) return;
    while (!connections_.empty()) {
      const auto connection = connections_.back();
      connection->Close();
    }
    ioc_.stop();  // handlers of the cancelled operations are dropped with the io_context
  });
}

void Loop::Drained() {
  // Nothing is left to keep run() busy once the cancelled operations have completed.
  grace_.cancel();
}

}  // namespace

// ---- Server --------------------------------------------------------------------------------

class Server::Impl {
 public:
  Impl(ServerOptions options, Handler& handler)
      : shared_(std::make_shared<Shared>(std::move(options), handler)) {
    for (int i = 0; i < shared_->options.threads; ++i) {
      loops_.push_back(std::make_shared<Loop>(shared_, i));
    }
  }

  core::Result<std::uint16_t> Listen();
  void Run();
  void Stop(std::chrono::milliseconds grace);
  ServerStats Stats() const;

 private:
  core::Result<tcp::endpoint> ResolveEndpoint();

  std::shared_ptr<Shared> shared_;
  std::vector<std::shared_ptr<Loop>> loops_;
  std::atomic<bool> stop_requested_{false};
  bool listening_ = false;
};

core::Result<tcp::endpoint> Server::Impl::ResolveEndpoint() {
  const ServerOptions& o = shared_->options;
  beast::error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  if (!ec) return tcp::endpoint(address, o.port);
  tcp::resolver resolver(loops_.front()->ioc());
  const auto results = resolver.resolve(
      o.host, std::to_string(o.port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "cannot resolve listen host " + o.host + ": " + ec.message());
  }
  return results.begin()->endpoint();
}

core::Result<std::uint16_t> Server::Impl::Listen() {
  if (listening_) return core::Fail(core::ErrorCode::kInternal, "Listen() called twice");
  try {
    auto endpoint = ResolveEndpoint();
    if (!endpoint) return std::unexpected(std::move(endpoint.error()));
    const auto fail = [&](std::string_view what, const beast::error_code& ec) {
      for (auto& loop : loops_) loop->Abandon();
      return core::Fail(core::ErrorCode::kUnavailable,
                        "cannot " + std::string(what) + " " + shared_->options.host + ":" +
                            std::to_string(endpoint->port()) + ": " + ec.message());
    };
    beast::error_code ec;
    // SO_REUSEPORT would let a second kurz share a port silently; bind once without it to find
    // out whether the address is free (and which port 0 picked).
    {
      Acceptor probe(loops_.front()->ioc().get_executor());
      (void)probe.open(endpoint->protocol(), ec);
      if (!ec) (void)probe.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) (void)probe.bind(*endpoint, ec);
      if (ec) return fail("bind", ec);
      endpoint->port(probe.local_endpoint(ec).port());
      if (ec) return fail("bind", ec);
    }
    const bool reuse_port = loops_.size() > 1;
    for (auto& loop : loops_) {
      Acceptor& acceptor = loop->acceptor();
      (void)acceptor.open(endpoint->protocol(), ec);
      if (!ec) (void)acceptor.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec && reuse_port) (void)acceptor.set_option(ReusePort(true), ec);
      if (!ec) (void)acceptor.bind(*endpoint, ec);
      if (!ec) (void)acceptor.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) return fail("listen on", ec);
    }
    for (auto& loop : loops_) loop->StartAccept();
    listening_ = true;
    return endpoint->port();
  } catch (const std::exception& e) {
    return core::Fail(core::ErrorCode::kUnavailable, std::string("cannot listen: ") + e.what());
  }
}

void Server::Impl::Run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < loops_.size(); ++i) {
    try {
      threads.emplace_back([loop = loops_[i], i] {
        pthread_setname_np(pthread_self(), ("kurz-loop-" + std::to_string(i)).c_str());
        loop->Run();
      });
    } catch (...) {
      loops_[i]->Abandon();  // SO_REUSEPORT spreads connections only over open acceptors
    }
  }
  pthread_setname_np(pthread_self(), "kurz-loop-0");
  loops_.front()->Run();
  for (auto& thread : threads) thread.join();
}

void Server::Impl::Stop(std::chrono::milliseconds grace) {
  if (stop_requested_.exchange(true)) return;
  const auto deadline = Clock::now() + grace;
  for (auto& loop : loops_) {
    try {
      asio::post(loop->ioc(), [loop, deadline] { loop->BeginStop(deadline); });
    } catch (...) {
      loop->ioc().stop();  // cannot queue the graceful stop: stop hard
    }
  }
}

ServerStats Server::Impl::Stats() const {
  ServerStats stats;
  stats.connections_open = shared_->connections_open.load(std::memory_order_relaxed);
  stats.connections_total = shared_->connections_total.load(std::memory_order_relaxed);
  stats.connections_rejected = shared_->connections_rejected.load(std::memory_order_relaxed);
  stats.protocol_errors = shared_->protocol_errors.load(std::memory_order_relaxed);
  stats.streams_total = shared_->streams_total.load(std::memory_order_relaxed);
  stats.stream_errors = shared_->stream_errors.load(std::memory_order_relaxed);
  stats.streams_abandoned = shared_->streams_abandoned.load(std::memory_order_relaxed);
  return stats;
}

Server::Server(ServerOptions options, Handler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

Server::~Server() = default;

core::Result<std::uint16_t> Server::Listen() { return impl_->Listen(); }

void Server::Run() { impl_->Run(); }

void Server::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }

ServerStats Server::Stats() const { return impl_->Stats(); }

}  // namespace kurz::http
