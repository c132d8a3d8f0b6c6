#include "http/server_stream.hpp"

#include <charconv>
#include <exception>
#include <utility>

namespace kurz::http::detail {

namespace {
// A producer asked for ~64 KiB pieces gets its buffer reserved once.
constexpr std::size_t kChunkReserve = std::size_t{64} * 1024;
}  // namespace

void AppendStreamFraming(std::string& out, bool chunked, bool close, bool keep_alive_header) {
  if (chunked) out.append("Transfer-Encoding: chunked\r\n");
  if (close) {
    out.append("Connection: close\r\n");
  } else if (keep_alive_header) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

void AppendBodyPiece(std::string& out, std::string_view data, bool chunked) {
  if (data.empty()) return;
  if (!chunked) {
    out.append(data);
    return;
  }
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, data.size(), 16);
  out.append(digits, result.ptr);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

StreamedBody::StreamedBody(std::shared_ptr<BodyStream> stream) : stream_(std::move(stream)) {}

bool StreamedBody::Produce(std::function<void()> ready) {
  if (!stream_ || !stream_->run || !stream_->produce) return false;
  // The task holds the body, so a connection that closes meanwhile frees nothing it uses.
  return stream_->run([self = shared_from_this(), ready = std::move(ready)] {
    self->chunk_.clear();
    if (self->chunk_.capacity() < kChunkReserve) self->chunk_.reserve(kChunkReserve);
    try {
      self->result_ = self->stream_->produce(self->chunk_);
      if (!self->result_) self->error_ = self->result_.error().detail;
    } catch (const std::exception& e) {
      self->result_ = core::Fail(core::ErrorCode::kInternal, e.what());
      self->error_ = e.what();
    } catch (...) {
      self->result_ = core::Fail(core::ErrorCode::kInternal, "unknown exception");
      self->error_ = "unknown exception";
    }
    ready();
  });
}

StreamedBody::Piece StreamedBody::Take() const {
  if (!result_) return Piece{State::kFailed, {}, error_};
  return Piece{*result_ ? State::kMore : State::kEnd, chunk_, {}};
}

}  // namespace kurz::http::detail
