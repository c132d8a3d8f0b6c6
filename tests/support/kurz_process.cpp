#include "support/kurz_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace kurz::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kListeningPrefix = "kurz listening on ";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Tail(const std::string& text, std::size_t max_chars) {
  if (text.size() <= max_chars) return text;
  return "..." + text.substr(text.size() - max_chars);
}

ExitStatus FromWaitStatus(int status) {
  ExitStatus result;
  if (WIFEXITED(status)) {
    result.exited = true;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

// Everything the child needs, built before fork() so that the child only makes async-signal-safe
// calls (the parent may run other threads).
struct SpawnPlan {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string work_dir;
};

SpawnPlan MakePlan(const std::filesystem::path& binary, const std::vector<std::string>& args,
                   const EnvVars& env, const std::filesystem::path& work_dir) {
  SpawnPlan plan;
  plan.argv_storage.push_back(binary.string());
  plan.argv_storage.insert(plan.argv_storage.end(), args.begin(), args.end());
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [name, value] : env) {
      if (entry.starts_with(name + "=")) overridden = true;
    }
    if (!overridden) plan.env_storage.emplace_back(entry);
  }
  for (const auto& [name, value] : env)
    plan.env_storage.push_back(std::string(name).append("=").append(value));
  for (auto& s : plan.argv_storage) plan.argv.push_back(s.data());
  plan.argv.push_back(nullptr);
  for (auto& s : plan.env_storage) plan.envp.push_back(s.data());
  plan.envp.push_back(nullptr);
  plan.work_dir = work_dir.string();
  return plan;
}

// Forks and execs; the child's stdout and stderr go to the given files.
pid_t Spawn(SpawnPlan& plan, const std::filesystem::path& out_path,
            const std::filesystem::path& err_path) {
  int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    throw std::system_error(errno, std::generic_category(), "open child output files");
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Child: die with the test process, never outlive it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    if (::chdir(plan.work_dir.c_str()) != 0) ::_exit(126);
    ::execve(plan.argv[0], plan.argv.data(), plan.envp.data());
    static constexpr char kMsg[] = "kurz_process: execve failed\n";
    [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    ::_exit(127);
  }
  int saved_errno = errno;
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  if (pid < 0) throw std::system_error(saved_errno, std::generic_category(), "fork");
  return pid;
}

// Reaps `pid` if it has exited, waiting at most `timeout`.
std::optional<ExitStatus> WaitPid(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return FromWaitStatus(status);
    if (r < 0 && errno != EINTR) return ExitStatus{};  // not our child any more
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// The port from "kurz listening on http://127.0.0.1:<port>", or 0 while the line is not there.
int FindListeningPort(const std::string& out) {
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t end = out.find('\n', pos);
    if (end == std::string::npos) break;  // only complete lines
    std::string_view line(out.data() + pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(kListeningPrefix)) continue;
    line.remove_prefix(kListeningPrefix.size());
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '/')) {
      line.remove_suffix(1);
    }
    std::size_t colon = line.rfind(':');
    if (colon == std::string_view::npos) continue;
    int port = 0;
    for (char c : line.substr(colon + 1)) {
      if (c < '0' || c > '9') {
        port = 0;
        break;
      }
      port = port * 10 + (c - '0');
    }
    if (port > 0 && port < 65536) return port;
  }
  return 0;
}

}  // namespace

TempDir::TempDir(std::string_view prefix) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ExitStatus::Describe() const {
  if (timed_out) return "timed out";
  if (exited) return "exit code " + std::to_string(code);
  if (signal != 0)
    return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "unknown";
}

RunResult RunToExit(const std::filesystem::path& binary, const std::vector<std::string>& args,
                    const EnvVars& env, std::chrono::milliseconds timeout) {
  TempDir dir("kurz-run");
  const auto out_path = dir.path() / "stdout.log";
  const auto err_path = dir.path() / "stderr.log";
  SpawnPlan plan = MakePlan(binary, args, env, dir.path());
  pid_t pid = Spawn(plan, out_path, err_path);
  RunResult result;
  if (auto status = WaitPid(pid, timeout)) {
    result.status = *status;
  } else {
    ::kill(pid, SIGKILL);
    result.status = WaitPid(pid, std::chrono::seconds(10)).value_or(ExitStatus{});
    result.status.timed_out = true;
  }
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

KurzProcess::KurzProcess(std::filesystem::path binary, std::vector<std::string> args, EnvVars env)
    : binary_(std::move(binary)),
      args_(std::move(args)),
      env_(std::move(env)),
      logs_("kurz-logs") {}

KurzProcess::~KurzProcess() {
  if (running()) Kill();
}

bool KurzProcess::Start(std::chrono::milliseconds timeout) {
  if (running()) Kill();
  ++starts_;
  stdout_path_ = logs_.path() / ("stdout." + std::to_string(starts_) + ".log");
  stderr_path_ = logs_.path() / ("stderr." + std::to_string(starts_) + ".log");
  port_ = 0;
  last_exit_.reset();
  SpawnPlan plan = MakePlan(binary_, args_, env_, logs_.path());
  pid_ = Spawn(plan, stdout_path_, stderr_path_);
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (int port = FindListeningPort(ReadFile(stdout_path_)); port != 0) {
      port_ = port;
      return true;
    }
    if (TryReap()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
  last_exit_->timed_out = true;
  return false;
}

std::optional<ExitStatus> KurzProcess::TryReap() {
  if (!running()) return last_exit_;
  if (auto status = WaitPid(pid_, std::chrono::milliseconds(0))) {
    pid_ = -1;
    last_exit_ = *status;
    return status;
  }
  return std::nullopt;
}

ExitStatus KurzProcess::WaitFor(std::chrono::milliseconds timeout) {
  if (auto status = WaitPid(pid_, timeout)) {
    pid_ = -1;
    last_exit_ = *status;
    return *status;
  }
  ::kill(pid_, SIGKILL);
  ExitStatus status = WaitPid(pid_, std::chrono::seconds(10)).value_or(ExitStatus{});
  status.timed_out = true;
  pid_ = -1;
  last_exit_ = status;
  return status;
}

ExitStatus KurzProcess::Terminate(std::chrono::milliseconds timeout) {
  if (!running()) return last_exit_.value_or(ExitStatus{});
  ::kill(pid_, SIGTERM);
  return WaitFor(timeout);
}

ExitStatus KurzProcess::Kill() {
  if (!running()) return last_exit_.value_or(ExitStatus{});
  ::kill(pid_, SIGKILL);
  return WaitFor(std::chrono::seconds(10));
}

std::string KurzProcess::Stdout() const { return ReadFile(stdout_path_); }

std::string KurzProcess::Stderr() const { return ReadFile(stderr_path_); }

std::string KurzProcess::Describe() const {
  std::string text = binary_.string();
  for (const auto& arg : args_) text += " " + arg;
  text += "\n  state: ";
  text += running() ? "running (pid " + std::to_string(pid_) + ")"
                    : (last_exit_ ? last_exit_->Describe() : std::string("not started"));
  text += "\n  stdout: " + Tail(Stdout(), 2000);
  text += "\n  stderr: " + Tail(Stderr(), 4000);
  return text;
}

}  // namespace kurz::testing
