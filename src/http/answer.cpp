#include "http/answer.hpp"

#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "http/middleware.hpp"

namespace kurz::http {

void Answerer::SendNow(RouteId route, Responder& res, int status, std::span<const Header> headers,
                       std::string_view body) {
  res.Send(status, headers, body);
  metrics_.RecordImmediate(route, status);
}

void Answerer::SendNow(RouteId route, Responder& res, const Response& response) {
  std::vector<Header> headers;
  headers.reserve(response.headers.size());
  for (const auto& [name, value] : response.headers) headers.push_back({name, value});
  SendNow(route, res, response.status, headers, response.body);
}

void Answerer::Defer(WorkerPool& pool, RouteId route, const Request& req, Responder& res,
                     std::string_view request_id, Work work) {
  const std::int64_t start = MonotonicMicros();
  auto deferred = std::make_shared<DeferredResponder>(res.Defer());
  auto task = [this, route, start, req, deferred, id = std::string(request_id),
               work = std::move(work)]() {
    Reply reply(id);
    Response out;
    try {
      out = work(req, reply);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kurz: internal error on %.*s: %s\n", static_cast<int>(req.path.size()),
                   req.path.data(), e.what());
      out = reply.Error(500, "internal", "internal error");
    }
    if (out.status == 500 || out.status == 503) {
      backend_errors_.fetch_add(1, std::memory_order_relaxed);
    }
    metrics_.Record(route, out.status, MonotonicMicros() - start);
    deferred->Send(std::move(out));
  };
  if (!pool.Submit(task)) {
    Reply reply{std::string(request_id)};
    Response out = reply.Error(503, "unavailable", "the server is overloaded; retry shortly");
    metrics_.Record(route, 503, MonotonicMicros() - start);
    deferred->Send(std::move(out));
  }
}

}  // namespace kurz::http
