#pragma once

// What the kurz commands share: exit codes, the error line, --help detection, the system clock
// and the database flags of the admin commands. Each command is one file in commands/; main.cpp
// only dispatches.

#include <string>
#include <vector>

#include "adapters/common/clock.hpp"
#include "app/backends.hpp"
#include "app/config.hpp"

namespace kurz::app {

inline constexpr int kExitUsage = 2;
inline constexpr int kExitFailure = 1;

// Prints "kurz: <message>" (or "<prefix>: <message>") on stderr; returns `code`.
int Fail(const std::string& message, int code = kExitFailure, const char* prefix = "kurz");

// Whether argv[first..] asks for --help / -h.
bool WantsHelp(int argc, char** argv, int first);

using adapters::SystemClock;

// The flags of the admin commands: `extra` plus --data and --database.
std::vector<std::string> AdminFlags(std::vector<std::string> extra);
// The database named by --data / --database, migrated.
core::Result<Backends> OpenForAdmin(const Flags& flags);

// The commands: argv[1] is the command word.
int Help(int argc, char** argv);  // kurz help / --help / no command
int Serve(int argc, char** argv);
int Worker(int argc, char** argv);
int Migrate(int argc, char** argv);
int Keys(int argc, char** argv);
int Users(int argc, char** argv);

}  // namespace kurz::app
