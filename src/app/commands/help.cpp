#include <cstdio>

#include "app/commands/command.hpp"

namespace kurz::app {
namespace {

constexpr const char* kMainHelp = R"(kurz - a fast, self-hosted URL shortener

Usage: kurz <command> [flags]

Commands:
  serve     run the link service (redirects, REST API)
  worker    consume the click-events stream into the analytics stores (cluster mode)
  migrate   create or upgrade the database schema
  keys      create, list or revoke API keys
  users     create, list, suspend or activate users

Run 'kurz <command> --help' for the flags of a command. Every flag can also be set in the
environment as KURZ_<FLAG> (e.g. KURZ_LISTEN=0.0.0.0:8080); a flag wins over the environment.
)";

}  // namespace

// Without a command the help goes to stderr and the exit status is 2 (a usage error).
int Help(int argc, char** /*argv*/) {
  std::fputs(kMainHelp, argc < 2 ? stderr : stdout);
  return argc < 2 ? kExitUsage : 0;
}

}  // namespace kurz::app
