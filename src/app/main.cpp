// kurz: one binary, several roles. `kurz serve` runs the link service, `kurz worker` the
// analytics consumer; the other commands administer the database. Each command is a file in
// commands/; this only dispatches.

#include <cstdio>
#include <string_view>

#include "app/commands/command.hpp"

namespace {

struct Command {
  std::string_view name;
  int (*run)(int argc, char** argv);
};

constexpr Command kCommands[] = {
    {"serve", &kurz::app::Serve}, {"worker", &kurz::app::Worker}, {"migrate", &kurz::app::Migrate},
    {"keys", &kurz::app::Keys},   {"users", &kurz::app::Users},   {"help", &kurz::app::Help},
    {"--help", &kurz::app::Help}, {"-h", &kurz::app::Help},
};

}  // namespace

int main(int argc, char** argv) {
  using namespace kurz::app;
  if (argc < 2) return Help(argc, argv);
  const std::string_view command = argv[1];
  if (command == "--version" || command == "version") {
    std::printf("kurz 0.1.0\n");
    return 0;
  }
  for (const Command& c : kCommands) {
    if (c.name == command) return c.run(argc, argv);
  }
  return Fail("unknown command '" + std::string(command) +
                  "' (serve, worker, migrate, keys, users; see kurz --help)",
              kExitUsage);
}
