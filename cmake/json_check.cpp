// kurz_json_check FILE: exits 0 when FILE is one valid JSON text (RFC 8259), else prints where it
// is not and exits 1. The build runs it on docs/openapi.json before embedding the document:
// CMake's own string(JSON) parser accepts comments, trailing commas and trailing text.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: kurz_json_check FILE\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "kurz_json_check: cannot read %s\n", argv[1]);
    return 1;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    [[maybe_unused]] const nlohmann::json parsed = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::fprintf(stderr, "%s is not valid JSON: %s\n", argv[1], e.what());
    return 1;
  }
  return 0;
}
