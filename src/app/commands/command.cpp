#include "app/commands/command.hpp"

#include <cstdio>
#include <cstring>

namespace kurz::app {

int Fail(const std::string& message, int code, const char* prefix) {
  std::fprintf(stderr, "%s: %s\n", prefix, message.c_str());
  return code;
}

bool WantsHelp(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return true;
  }
  return false;
}

std::vector<std::string> AdminFlags(std::vector<std::string> extra) {
  extra.emplace_back("data");
  extra.emplace_back("database");
  return extra;
}

core::Result<Backends> OpenForAdmin(const Flags& flags) {
  return OpenDatabase(DatabaseUrl(flags.Get("data").value_or(ServeConfig{}.data_dir),
                                  flags.Get("database").value_or("")),
                      adapters::DatabaseOptions{});
}

}  // namespace kurz::app
