#include "adapters/clickhouse/tab_separated.hpp"

namespace kurz::adapters::clickhouse {
namespace {

// The escape letter for a byte that must not appear raw, or 0.
char EscapeLetter(char c) {
  switch (c) {
    case '\\':
      return '\\';
    case '\t':
      return 't';
    case '\n':
      return 'n';
    case '\r':
      return 'r';
    case '\0':
      return '0';
    case '\b':
      return 'b';
    case '\f':
      return 'f';
    default:
      return 0;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ClickHouse's readEscapedString: \x hex pairs, the C letters, and any other escaped byte as
// itself (its output writes \' for a quote).
void Unescape(std::string_view field, std::string& out) {
  out.clear();
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out += c;
      continue;
    }
    const char e = field[++i];
    switch (e) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'e':
        out += '\x1b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '0':
        out += '\0';
        break;
      case 'x':
        if (i + 2 < field.size() && HexValue(field[i + 1]) >= 0 && HexValue(field[i + 2]) >= 0) {
          out += static_cast<char>(HexValue(field[i + 1]) * 16 + HexValue(field[i + 2]));
          i += 2;
        } else {
          out += 'x';
        }
        break;
      default:
        out += e;
        break;
    }
  }
}

}  // namespace

void AppendTsvField(std::string& out, std::string_view value) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char letter = EscapeLetter(value[i]);
    if (letter == 0) continue;
    out.append(value.data() + start, i - start);
    out += '\\';
    out += letter;
    start = i + 1;
  }
  out.append(value.data() + start, value.size() - start);
}

void AppendSqlString(std::string& out, std::string_view value) {
  out += '\'';
  for (const char c : value) {
    if (c == '\'') {
      out += "\\'";
    } else if (const char letter = EscapeLetter(c); letter != 0) {
      out += '\\';
      out += letter;
    } else {
      out += c;
    }
  }
  out += '\'';
}

std::string SqlString(std::string_view value) {
  std::string out;
  AppendSqlString(out, value);
  return out;
}

core::Result<std::vector<std::vector<std::string>>> ParseTabSeparated(std::string_view text,
                                                                      std::size_t columns) {
  std::vector<std::vector<std::string>> rows;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    std::vector<std::string> fields;
    fields.reserve(columns);
    while (true) {
      const auto tab = line.find('\t');
      Unescape(line.substr(0, tab), fields.emplace_back());
      if (tab == std::string_view::npos) break;
      line = line.substr(tab + 1);
    }
    if (fields.size() != columns) {
      return core::Fail(core::ErrorCode::kInternal,
                        "clickhouse: expected " + std::to_string(columns) +
                            " TabSeparated columns, got " + std::to_string(fields.size()));
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

}  // namespace kurz::adapters::clickhouse
