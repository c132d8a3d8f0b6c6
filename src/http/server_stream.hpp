#pragma once

// Streamed response bodies (Response::stream), apart from server.cpp's Asio state machine: the
// chunked framing and the hand-off of each piece between the loop and the producer's thread.
// Testable without sockets.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "http/server.hpp"

namespace kurz::http::detail {

// Ends the head of a streamed response: "Transfer-Encoding: chunked" when `chunked` (HTTP/1.1),
// the Connection header, the blank line. Without chunking the body ends when the connection
// closes, so `close` must then be true.
void AppendStreamFraming(std::string& out, bool chunked, bool close, bool keep_alive_header);

// Appends one chunk ("<hex size>\r\n<data>\r\n"), or `data` as is when not chunked; nothing for
// an empty piece (a zero-size chunk would end the body).
void AppendBodyPiece(std::string& out, std::string_view data, bool chunked);

// The zero-size chunk that ends a chunked body (no trailers).
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// One streamed body in flight. The connection asks for a piece with Produce and, once `ready`
// has run (on the producer's thread; the connection posts itself back to its loop), reads the
// outcome with Take. Between the two the loop touches nothing here, so no lock is needed: the
// post from the producer's thread to the loop orders the accesses.
class StreamedBody : public std::enable_shared_from_this<StreamedBody> {
 public:
  explicit StreamedBody(std::shared_ptr<BodyStream> stream);

  // Queues one call of the producer; false when the stream's runner refused the task (or there
  // is none), in which case `ready` is never called.
  bool Produce(std::function<void()> ready);

  enum class State { kMore, kEnd, kFailed };
  struct Piece {
    State state;
    std::string_view data;   // valid until the next Produce
    std::string_view error;  // kFailed: why
  };
  // The outcome of the last Produce, on the loop after its `ready`.
  Piece Take() const;

 private:
  std::shared_ptr<BodyStream> stream_;
  std::string chunk_;
  core::Result<bool> result_{false};
  std::string error_;
};

}  // namespace kurz::http::detail
