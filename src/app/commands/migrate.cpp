// `kurz migrate`: creates or upgrades the database schema and exits.

#include <cstdio>
#include <string>

#include "app/commands/command.hpp"

namespace kurz::app {
namespace {

constexpr const char* kMigrateHelp = R"(Usage: kurz migrate [--data DIR] [--database URL]

Creates or upgrades the database schema and exits. 'kurz serve' also does this at start.
)";

}  // namespace

int Migrate(int argc, char** argv) {
  if (WantsHelp(argc, argv, 2)) {
    std::fputs(kMigrateHelp, stdout);
    return 0;
  }
  auto flags = Flags::Parse(argc, argv, 2, AdminFlags({}));
  if (!flags) return Fail(flags.error().detail, kExitUsage);
  if (!flags->positional().empty()) {
    return Fail("unexpected argument '" + flags->positional().front() + "'", kExitUsage);
  }
  auto backends = OpenForAdmin(*flags);
  if (!backends) return Fail("cannot migrate: " + backends.error().detail);
  std::printf("kurz: %s is up to date (%d migration(s) applied)\n", backends->description.c_str(),
              backends->migrations_applied);
  return 0;
}

}  // namespace kurz::app
