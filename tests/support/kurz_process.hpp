#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kurz::testing {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "kurz-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// How a child process ended.
struct ExitStatus {
  bool exited = false;  // returned from main or called exit(): `code` is valid
  int code = -1;
  int signal = 0;  // killed by this signal when !exited
  bool timed_out = false;

  bool Success() const { return exited && code == 0; }
  std::string Describe() const;
};

// The result of running a command to completion.
struct RunResult {
  ExitStatus status;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `binary args...` with `env` added to this process's environment, in `work_dir` (a fresh temp
// dir when empty), and waits at most `timeout` (then SIGKILL; status.timed_out is set).
RunResult RunToExit(const std::filesystem::path& binary, const std::vector<std::string>& args,
                    const EnvVars& env = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

// One kurz server child process. Start() can be called again after Terminate() or Kill() to
// restart it with the same arguments (and so the same data directory). Each start writes its
// stdout and stderr to fresh files in a private temp dir; the server must print
// "kurz listening on http://127.0.0.1:<port>" on stdout once it accepts connections.
class KurzProcess {
 public:
  KurzProcess(std::filesystem::path binary, std::vector<std::string> args, EnvVars env = {});
  // Kills the child if it still runs.
  ~KurzProcess();
  KurzProcess(const KurzProcess&) = delete;
  KurzProcess& operator=(const KurzProcess&) = delete;

  // Spawns the child and waits for its listening line. False when it exits or does not print
  // the line within `timeout` (it is killed then); Describe() tells what happened.
  bool Start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGTERM, then waits up to `timeout` for the exit; on timeout SIGKILL and timed_out is set.
  ExitStatus Terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGKILL and reap.
  ExitStatus Kill();

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::vector<std::string>& args() const { return args_; }
  void set_args(std::vector<std::string> args) { args_ = std::move(args); }

  // The output of the latest start so far.
  std::string Stdout() const;
  std::string Stderr() const;
  // The command line, the last exit status and the tail of stdout and stderr, for failure messages.
  std::string Describe() const;

 private:
  std::optional<ExitStatus> TryReap();
  ExitStatus WaitFor(std::chrono::milliseconds timeout);

  std::filesystem::path binary_;
  std::vector<std::string> args_;
  EnvVars env_;
  TempDir logs_;
  int starts_ = 0;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::optional<ExitStatus> last_exit_;
};

}  // namespace kurz::testing
