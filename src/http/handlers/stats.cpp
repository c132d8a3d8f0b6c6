#include <array>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "http/handlers/handlers.hpp"
#include "http/json_mappers.hpp"
#include "http/query.hpp"

// /v1/urls/{code}/stats and /stats/timeseries: a link's clicks by day and breakdown, and as a
// series of minute, hour or day buckets.

namespace kurz::http::handlers {

namespace {

constexpr int kDefaultStatsDays = 30;
constexpr int kMaxStatsDays = 366;
constexpr int kDefaultTop = 10;  // values per breakdown in /stats
constexpr int kMaxTop = 1000;

// One granularity of /stats/timeseries: its bucket length, default length in buckets and the
// longest range served (minutes are kept only core::kMinuteRetention).
struct SeriesShape {
  core::Granularity granularity;
  std::string_view name;
  core::Micros step;
  std::int64_t default_points;
  std::int64_t max_points;
  std::string_view max_span;
};
constexpr core::Micros kMicrosPerDay = 24 * core::kMicrosPerHour;
// 0000-01-01 and 10000-01-01, the bounds of what RFC 3339 can write.
constexpr core::Micros kEarliestInstant = -62'167'219'200 * core::kMicrosPerSecond;
constexpr core::Micros kLatestInstant = 253'402'300'800 * core::kMicrosPerSecond;
constexpr std::array<SeriesShape, 3> kSeriesShapes = {{
    {core::Granularity::kMinute, "minute", core::kMicrosPerMinute, 60,
     core::kMinuteRetention / core::kMicrosPerMinute, "48 hours"},
    {core::Granularity::kHour, "hour", core::kMicrosPerHour, 48, 31LL * 24, "31 days"},
    {core::Granularity::kDay, "day", kMicrosPerDay, 30, 366, "366 days"},
}};

const SeriesShape* FindSeriesShape(std::string_view name) {
  for (const SeriesShape& shape : kSeriesShapes) {
    if (shape.name == name) return &shape;
  }
  return nullptr;
}

// Rounds down (up) to a multiple of `step`, also before 1970.
core::Micros FloorTo(core::Micros t, core::Micros step) {
  core::Micros q = t / step;
  if (t % step < 0) --q;
  return q * step;
}
core::Micros CeilTo(core::Micros t, core::Micros step) {
  const core::Micros down = FloorTo(t, step);
  return down == t ? t : down + step;
}

// A time series bound: an RFC 3339 date-time, or a date meaning its midnight (UTC).
std::optional<core::Micros> ParseInstant(std::string_view s) {
  if (s.size() == 10) {
    auto date = core::ParseDate(s);
    if (!date) return std::nullopt;
    return core::StartOf(*date);
  }
  auto t = core::ParseRfc3339(s);
  if (!t) return std::nullopt;
  return *t;
}

}  // namespace

Response LinkStats(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  const Request& req = call.request;
  const service::Principal& who = *call.who;
  const std::string_view code = call.params[0];
  auto link = ctx.deps.links.Get(who, code);
  if (!link) return reply.Error(FromError(link.error()));
  const core::Date today = core::DateOf(ctx.deps.clock.Now());
  core::Date to = today;
  core::Date from{today.days - (kDefaultStatsDays - 1)};
  if (auto raw = QueryParam(req.query, "to")) {
    auto d = core::ParseDate(*raw);
    if (!d) return reply.Error(400, "invalid_argument", "to must be a date like 2026-11-27");
    to = *d;
    if (!QueryParam(req.query, "from")) from = core::Date{to.days - (kDefaultStatsDays - 1)};
  }
  if (auto raw = QueryParam(req.query, "from")) {
    auto d = core::ParseDate(*raw);
    if (!d) return reply.Error(400, "invalid_argument", "from must be a date like 2026-11-01");
    from = *d;
  }
  if (from > to) return reply.Error(400, "invalid_argument", "from must not be after to");
  if (to.days - from.days + 1 > kMaxStatsDays) {
    return reply.Error(400, "invalid_argument", "the range may span at most 366 days");
  }
  int top = kDefaultTop;
  if (auto raw = QueryParam(req.query, "top")) {
    auto parsed = ParseIntIn(*raw, 1, kMaxTop);
    if (!parsed) {
      return reply.Error(400, "invalid_argument", "top must be a whole number from 1 to 1000");
    }
    top = *parsed;
  }
  auto stats = ctx.deps.stats.Stats(code, from, to);
  if (!stats) return reply.Error(FromError(stats.error()));
  Json body;
  body["code"] = link->code;
  body["total_clicks"] = stats->total_clicks;
  body["bot_clicks"] = stats->bot_clicks;
  body["unique_visitors"] = stats->unique_visitors;
  body["from"] = core::FormatDate(from);
  body["to"] = core::FormatDate(to);
  body["daily"] = Json::array();
  for (const core::DailyCount& day : stats->daily) {
    Json d;
    d["date"] = core::FormatDate(day.date);
    d["clicks"] = day.clicks;
    d["unique_visitors"] = day.unique_visitors;
    d["bot_clicks"] = day.bot_clicks;
    body["daily"].push_back(std::move(d));
  }
  for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
    const core::Breakdown& values = stats->breakdowns[i];
    Json list = Json::array();
    for (std::size_t k = 0; k < values.size() && k < static_cast<std::size_t>(top); ++k) {
      Json v;
      v["value"] = values[k].value;
      v["clicks"] = values[k].clicks;
      list.push_back(std::move(v));
    }
    body[std::string(core::DimensionName(static_cast<core::Dimension>(i)))] = std::move(list);
  }
  if (ctx.deps.realtime != nullptr) {
    if (auto rt = ctx.deps.realtime->Read(code, ctx.deps.clock.Now())) {
      Json r;
      r["clicks"] = rt->clicks;
      r["clicks_last_hour"] = rt->clicks_last_hour;
      r["visitors_today"] = rt->visitors_today;
      body["realtime"] = std::move(r);
    }
  }
  return reply.Json(200, body);
}

Response LinkTimeseries(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  const Request& req = call.request;
  const service::Principal& who = *call.who;
  const std::string_view code = call.params[0];
  auto link = ctx.deps.links.Get(who, code);
  if (!link) return reply.Error(FromError(link.error()));
  const SeriesShape* shape = &kSeriesShapes[1];  // hour
  if (auto raw = QueryParam(req.query, "granularity")) {
    shape = FindSeriesShape(*raw);
    if (!shape) {
      return reply.Error(400, "invalid_argument", "granularity must be minute, hour or day");
    }
  }
  const core::Micros step = shape->step;
  std::optional<core::Micros> from;
  std::optional<core::Micros> to;
  if (auto raw = QueryParam(req.query, "from")) {
    from = ParseInstant(*raw);
    if (!from) {
      return reply.Error(400, "invalid_argument",
                         "from must be an RFC 3339 date-time such as 2026-11-28T04:00:00Z or a "
                         "date such as 2026-11-28");
    }
  }
  if (auto raw = QueryParam(req.query, "to")) {
    to = ParseInstant(*raw);
    if (!to) {
      return reply.Error(400, "invalid_argument",
                         "to must be an RFC 3339 date-time such as 2026-11-28T05:00:00Z or a "
                         "date such as 2026-11-29");
    }
  }
  // Defaults: the last default_points buckets, the current (unfinished) one included.
  if (!to) to = FloorTo(ctx.deps.clock.Now(), step) + step;
  if (!from) from = CeilTo(*to, step) - shape->default_points * step;
  if (*from >= *to) {
    return reply.Error(400, "invalid_argument", "from must be before to (to is exclusive)");
  }
  // Every bucket that overlaps [from, to).
  const core::Micros start = FloorTo(*from, step);
  const core::Micros end = CeilTo(*to, step);
  const std::int64_t count = (end - start) / step;
  if (start < kEarliestInstant || end >= kLatestInstant) {
    return reply.Error(400, "invalid_argument", "from and to must lie in the years 0000 to 9999");
  }
  if (count > shape->max_points) {
    return reply.Error(400, "invalid_argument",
                       "a " + std::string(shape->name) + " series may span at most " +
                           std::string(shape->max_span) + " (" + std::to_string(shape->max_points) +
                           " points)");
  }
  auto series = ctx.deps.stats.Series(code, shape->granularity, start, end);
  if (!series) return reply.Error(FromError(series.error()));
  std::vector<core::BucketCount> points(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < points.size(); ++i) {
    points[i].start = start + static_cast<core::Micros>(i) * step;
  }
  for (const core::BucketCount& bucket : *series) {
    if (bucket.start < start || bucket.start >= end) continue;
    core::BucketCount& point = points[static_cast<std::size_t>((bucket.start - start) / step)];
    point.clicks += bucket.clicks;
    point.bot_clicks += bucket.bot_clicks;
  }
  Json body;
  body["code"] = link->code;
  body["granularity"] = shape->name;
  body["from"] = core::FormatRfc3339(start);
  body["to"] = core::FormatRfc3339(end);
  Json list = Json::array();
  for (const core::BucketCount& point : points) {
    Json p;
    p["start"] = core::FormatRfc3339(point.start);
    p["clicks"] = point.clicks;
    p["bot_clicks"] = point.bot_clicks;
    list.push_back(std::move(p));
  }
  body["points"] = std::move(list);
  return reply.Json(200, body);
}

}  // namespace kurz::http::handlers
