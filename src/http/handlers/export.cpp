#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/handlers/handlers.hpp"
#include "http/json_mappers.hpp"
#include "http/query.hpp"

// GET /v1/urls/export?format=jsonl|csv: every own link that is not deleted, streamed (see
// BodyStream), in the shape `kurz import --from kurz` reads back. Memory stays constant whatever
// the number of links: one page of links and one piece of output at a time.

namespace kurz::http::handlers {

namespace {

constexpr int kPageSize = 500;
// A piece ends after the link that takes it past this size.
constexpr std::size_t kPieceBytes = std::size_t{64} * 1024;

enum class Format { kJsonl, kCsv };

// The CSV columns: LinkJson's fields of these names, in this order, then "options" holding every
// other field of LinkJson as one JSON object (so options added to the link model are exported
// without changing this list).
constexpr std::string_view kCsvColumns[] = {
    "code",      "short_url",   "url",   "created_at", "expires_at", "redirect_type",
    "is_custom", "click_count", "title", "tags",       "metadata",
};

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// RFC 4180: a field with a comma, a quote, CR or LF is quoted and its quotes doubled. Cells are
// never altered otherwise (no formula-injection prefix): the file must give back exactly what
// was exported, and every cell is the caller's own data.
void AppendCsvField(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (const char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// One cell for a LinkJson value: strings as they are, null as an empty cell, numbers and
// booleans as JSON writes them, arrays and objects as JSON text.
std::string CsvCell(const Json* value) {
  if (value == nullptr || value->is_null()) return {};
  if (value->is_string()) return value->get<std::string>();
  return Dump(*value);
}

void AppendCsvHeader(std::string& out) {
  for (const std::string_view column : kCsvColumns) {
    out.append(column);
    out.push_back(',');
  }
  out.append("options\r\n");
}

void AppendCsvRow(std::string& out, const Json& link) {
  Json options = Json::object();
  for (const auto& [name, value] : link.items()) {
    if (std::ranges::find(kCsvColumns, name) == std::end(kCsvColumns)) options[name] = value;
  }
  for (const std::string_view column : kCsvColumns) {
    const auto it = link.find(column);
    if (column == "tags" && it == link.end()) {
      out.append("[]");  // a link model without tags yet: none
    } else {
      AppendCsvField(out, CsvCell(it == link.end() ? nullptr : &*it));
    }
    out.push_back(',');
  }
  AppendCsvField(out, Dump(options));
  out.append("\r\n");
}

// The producer's state: the owner's links are read page by page with the list's keyset cursor.
class Exporter {
 public:
  Exporter(ApiContext& ctx, service::Principal who, Format format, service::LinkPage first)
      : ctx_(ctx), who_(who), format_(format), page_(std::move(first)) {}

  core::Result<bool> Next(std::string& chunk) {
    if (!header_sent_) {
      header_sent_ = true;
      if (format_ == Format::kCsv) AppendCsvHeader(chunk);
    }
    while (chunk.size() < kPieceBytes) {
      if (index_ == page_.items.size()) {
        if (!page_.next) return false;
        auto page = ctx_.deps.links.List(who_, page_.next, kPageSize);
        if (!page) {
          ctx_.answers.CountStreamError();
          return std::unexpected(std::move(page.error()));
        }
        page_ = std::move(*page);
        index_ = 0;
        continue;
      }
      const Json link = LinkJson(page_.items[index_++], ctx_.options.base_url);
      if (format_ == Format::kCsv) {
        AppendCsvRow(chunk, link);
      } else {
        chunk.append(Dump(link));
        chunk.push_back('\n');
      }
    }
    return index_ < page_.items.size() || page_.next.has_value();
  }

 private:
  ApiContext& ctx_;
  service::Principal who_;
  Format format_;
  service::LinkPage page_;
  std::size_t index_ = 0;
  bool header_sent_ = false;
};

}  // namespace

Response ExportLinks(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  Format format = Format::kJsonl;
  if (auto raw = QueryParam(call.request.query, "format")) {
    if (*raw == "csv") {
      format = Format::kCsv;
    } else if (*raw != "jsonl") {
      return reply.Error(400, "invalid_argument", "format must be jsonl or csv");
    }
  }
  // The first page is read before the head goes out, so that a store that is down answers with
  // a status (503) rather than a cut stream.
  auto first = ctx.deps.links.List(*call.who, std::nullopt, kPageSize);
  if (!first) return reply.Error(FromError(first.error()));

  const std::string today = core::FormatRfc3339(ctx.deps.clock.Now()).substr(0, 10);
  std::string date;
  for (const char c : today) {
    if (c != '-') date.push_back(c);
  }
  const bool csv = format == Format::kCsv;
  Response out = reply.Empty(200);
  out.headers.emplace_back("Content-Type",
                           csv ? "text/csv; charset=utf-8" : "application/x-ndjson");
  out.headers.emplace_back("Content-Disposition", "attachment; filename=\"kurz-links-" + date +
                                                      (csv ? ".csv\"" : ".jsonl\""));
  auto exporter = std::make_shared<Exporter>(ctx, *call.who, format, std::move(*first));
  out.stream = std::make_shared<BodyStream>();
  out.stream->produce = [exporter](std::string& chunk) { return exporter->Next(chunk); };
  // Each piece is a task of its own, so a long export takes turns with the other requests.
  out.stream->run = [&workers = ctx.deps.workers](std::function<void()> task) {
    return workers.Submit(std::move(task));
  };
  return out;
}

}  // namespace kurz::http::handlers
