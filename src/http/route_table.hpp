#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/account.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"

namespace kurz::http {

// What a route requires of the caller. Every row declares one.
struct Permit {
  enum class Kind : std::uint8_t {
    kPublic,         // no API key (operations endpoints)
    kAnyPermission,  // a key with at least one permission (key management)
    kPermission,     // a key with `permission`
  };
  Kind kind = Kind::kPublic;
  core::Permission permission = core::kPermRead;

  static constexpr Permit Public() { return {Kind::kPublic, core::kPermRead}; }
  static constexpr Permit AnyPermission() { return {Kind::kAnyPermission, core::kPermRead}; }
  static constexpr Permit Needs(core::Permission p) { return {Kind::kPermission, p}; }
};

// Where a route is answered: on the event loop (never blocks, e.g. /healthz) or on the workers.
enum class Runs : std::uint8_t { kOnLoop, kOnWorker };

// The most {…} segments a pattern may have.
inline constexpr std::size_t kMaxPathParams = 2;
using PathParams = std::array<std::string_view, kMaxPathParams>;

// Matches requests against a table of rows. A Row has at least
//   Method method; std::string_view pattern; std::string_view name;
// where pattern is a path such as "/v1/urls/{code}/stats" ({…} matches one segment, empty
// included) and name the `route` label of the request metrics. Rows that share a pattern share
// a name and a RouteId (registered with Metrics in table order); HEAD is answered by the GET row.
// Matching never allocates; the rows must outlive the table.
template <class Row>
class RouteTable {
 public:
  struct Match {
    const Row* row = nullptr;  // null: the path matched but not the method (answer 405)
    RouteId id = 0;
    std::string_view allow;  // the Allow header for the path
    PathParams params{};     // the {…} segments in order
  };

  RouteTable(std::span<const Row> rows, Metrics& metrics) {
    for (const Row& row : rows) {
      Pattern* pattern = FindPattern(row.pattern);
      if (pattern == nullptr) {
        pattern = &patterns_.emplace_back();
        pattern->text = row.pattern;
        pattern->segments = Split(row.pattern);
        pattern->id = metrics.Register(row.name);
      }
      pattern->rows[static_cast<std::size_t>(row.method)] = &row;
    }
    for (Pattern& p : patterns_) {
      if (p.rows[Index(Method::kHead)] == nullptr) {
        p.rows[Index(Method::kHead)] = p.rows[Index(Method::kGet)];
      }
      for (std::size_t m = 0; m < kMethods; ++m) {
        if (p.rows[m] == nullptr) continue;
        if (!p.allow.empty()) p.allow += ", ";
        p.allow += kMethodNames[m];
      }
    }
  }

  // The row for (method, path); nullopt when no pattern matches the path.
  std::optional<Match> Find(Method method, std::string_view path) const {
    if (path.empty() || path.front() != '/') return std::nullopt;
    // Most requests are redirects ("/<code>"): one comparison per pattern rejects them.
    const std::string_view first = path.substr(1, path.find('/', 1) - 1);
    for (const Pattern& p : patterns_) {
      if (p.segments.empty() || (p.segments[0] != first && !p.segments[0].starts_with('{'))) {
        continue;
      }
      Match match;
      if (!Matches(p, path, match.params)) continue;
      match.row = p.rows[Index(method)];
      match.id = p.id;
      match.allow = p.allow;
      return match;
    }
    return std::nullopt;
  }

  // Every (method, pattern) the table answers, HEAD included where GET is.
  template <class Visit>
  void ForEachRoute(Visit&& visit) const {
    for (const Pattern& p : patterns_) {
      for (std::size_t m = 0; m < kMethods; ++m) {
        if (p.rows[m] != nullptr) visit(static_cast<Method>(m), p.text);
      }
    }
  }

 private:
  static constexpr std::size_t kMethods = static_cast<std::size_t>(Method::kOther);
  // In Method order, which is also the order of the Allow header.
  static constexpr std::array<std::string_view, kMethods> kMethodNames = {
      "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  static constexpr std::size_t Index(Method m) { return static_cast<std::size_t>(m); }

  struct Pattern {
    std::string_view text;
    std::vector<std::string_view> segments;  // "{…}" for a parameter
    RouteId id = 0;
    std::array<const Row*, kMethods + 1> rows{};
    std::string allow;
  };

  static std::vector<std::string_view> Split(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t start = 1;  // after the leading '/'
    while (start <= path.size()) {
      const auto slash = path.find('/', start);
      out.push_back(path.substr(start, slash - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return out;
  }

  static bool Matches(const Pattern& p, std::string_view path, PathParams& params) {
    std::size_t start = 1;
    std::size_t n_params = 0;
    for (std::size_t i = 0; i < p.segments.size(); ++i) {
      if (start > path.size()) return false;
      const auto slash = path.find('/', start);
      const std::string_view segment = path.substr(start, slash - start);
      const std::string_view want = p.segments[i];
      if (want.starts_with('{')) {
        if (n_params < params.size()) params[n_params++] = segment;
      } else if (segment != want) {
        return false;
      }
      start = slash == std::string_view::npos ? path.size() + 1 : slash + 1;
    }
    return start == path.size() + 1;  // every segment of the path consumed
  }

  Pattern* FindPattern(std::string_view text) {
    for (Pattern& p : patterns_) {
      if (p.text == text) return &p;
    }
    return nullptr;
  }

  std::vector<Pattern> patterns_;
};

}  // namespace kurz::http
