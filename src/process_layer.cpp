#include "process_layer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process/v2/process.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace retryx {

namespace {

using Clock = std::chrono::steady_clock;

// Descriptors above 2 that retryx inherited open across exec (make's
// jobserver, "3>file", LISTEN_FDS). Boost.Process closes every descriptor
// not on its whitelist in the child, so these are whitelisted. Read once at
// start-up, before retryx opens anything of its own.
std::vector<int> inherited_descriptors() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return fds;
  const int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || end == entry->d_name || fd <= 2 || fd == own) continue;
    const int flags = ::fcntl(static_cast<int>(fd), F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) fds.push_back(static_cast<int>(fd));
  }
  ::closedir(dir);
  return fds;
}

// Initializer hooks for Boost.Process v2's default launcher.
struct ChildSetup {
  const std::vector<int>& keep_fds;
  bool sigchld_was_ignored;

  template <class Launcher, class Path, class Argv>
  bp::error_code on_setup(Launcher& launcher, const Path&, Argv&) {
    // Boost 1.81's closer also skips the gaps between whitelisted numbers,
    // so retryx's own descriptors must all be close-on-exec (they are).
    launcher.fd_whitelist.insert(launcher.fd_whitelist.end(), keep_fds.begin(), keep_fds.end());
    return {};
  }

  template <class Launcher, class Path, class Argv>
  bp::error_code on_exec_setup(Launcher&, const Path&, Argv&) {
    // In the child: give back the disposition retryx reset for itself.
    if (sigchld_was_ignored) ::signal(SIGCHLD, SIG_IGN);
    return {};
  }

  // Boost 1.81 detects these two hooks with one argument too many, so only
  // variadic ones are called. A failed exec leaves a zombie (upstream #447):
  // reap it. The failed child calls exit() (upstream #514), flushing stdio
  // copied from retryx: leave with _exit first.
  template <class Launcher, class... Rest>
  void on_error(Launcher& launcher, Rest&&...) {
    if (launcher.pid > 0)
      while (::waitpid(launcher.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
  }
  template <class... Args>
  void on_exec_error(Args&&...) {
    ::_exit(127);
  }
};

// Where execvp would find the command, or why it would fail.
std::variant<std::string, SpawnFailed> resolve(const std::string& name) {
  if (name.empty()) return SpawnFailed{127, "command not found: ''"};
  if (name.find('/') != std::string::npos) return name;
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env ? path_env : "/bin:/usr/bin";  // glibc's execvp default
  bool denied = false;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon - start);
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0) {
      // As execvp, an entry that exists but cannot be run (a directory, no
      // x bit) is remembered and the search goes on.
      if (S_ISREG(st.st_mode) && ::faccessat(AT_FDCWD, candidate.c_str(), X_OK, AT_EACCESS) == 0)
        return candidate;
      denied = true;
    } else if (errno == EACCES) {
      denied = true;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (denied) return SpawnFailed{126, fmt::format("permission denied: {}", name)};
  return SpawnFailed{127, fmt::format("command not found: {}", name)};
}

SpawnFailed spawn_failure(const std::string& name, const bp::error_code& ec) {
  // As timeout(1): 127 when there is no such file, 126 for any other reason.
  if (ec.value() == ENOENT) return {127, fmt::format("command not found: {}", name)};
  if (ec.value() == EACCES) return {126, fmt::format("permission denied: {}", name)};
  return {126, fmt::format("cannot run {}: {}", name, std::strerror(ec.value()))};
}

Termination decode(int raw_status) {
  // Boost's exit_code() gives a signal's number as if it were an exit code;
  // the raw wait status tells the two apart.
  if (WIFSIGNALED(raw_status)) return Signaled{WTERMSIG(raw_status)};
  return Exited{WEXITSTATUS(raw_status)};
}

}  // namespace

struct ProcessLayer::Impl {
  asio::io_context io;
  std::vector<int> keep_fds = inherited_descriptors();
  bool sigchld_was_ignored = false;

  Impl() {
    // An inherited SIG_IGN for SIGCHLD makes the kernel reap children itself
    // and every exit status reads as lost: reset it for retryx only.
    struct sigaction old {};
    ::sigaction(SIGCHLD, nullptr, &old);
    sigchld_was_ignored = old.sa_handler == SIG_IGN;
    ::signal(SIGCHLD, SIG_DFL);
  }

  // Starts the command once; ENOEXEC is handed back for the /bin/sh retry.
  std::optional<bp::process> launch(const std::string& executable, std::vector<const char*>& argv,
                                    bp::error_code& ec) {
    // Stdio buffers must be empty at fork, or a failed child could write
    // them a second time.
    std::fflush(nullptr);
    bp::default_process_launcher launcher;
    argv.push_back(nullptr);
    const char** raw_argv = argv.data();
    bp::process proc = launcher(io.get_executor(), ec, executable, raw_argv,
                                ChildSetup{keep_fds, sigchld_was_ignored});
    argv.pop_back();
    if (ec) return std::nullopt;
    return proc;
  }

  AttemptResult run(const AttemptRequest& request) {
    const auto start = Clock::now();
    auto elapsed = [&] { return std::chrono::duration_cast<Duration>(Clock::now() - start); };
    const std::string& name = request.command.front();

    auto resolved = resolve(name);
    if (auto* failed = std::get_if<SpawnFailed>(&resolved)) return {*failed, elapsed(), 0, false};
    const std::string executable = std::get<std::string>(resolved);

    // argv[0] stays the name the user gave, as execvp keeps it.
    std::vector<const char*> argv;
    for (const auto& arg : request.command) argv.push_back(arg.c_str());

    bp::error_code ec;
    std::optional<bp::process> proc = launch(executable, argv, ec);
    if (ec.value() == ENOEXEC) {
      // A file without "#!" is a shell script, as execvp and shells run it.
      std::vector<const char*> sh_argv{"/bin/sh", executable.c_str()};
      sh_argv.insert(sh_argv.end(), argv.begin() + 1, argv.end());
      ec.clear();
      proc = launch("/bin/sh", sh_argv, ec);
    }
    if (ec || !proc) return {spawn_failure(name, ec), elapsed(), 0, false};

    const int pid = proc->id();
    if (request.on_started) request.on_started(pid);

    bool done = false;
    proc->async_wait([&](bp::error_code, int) { done = true; });
    io.restart();
    while (!done) io.run_one();
    return {decode(proc->native_exit_code()), elapsed(), pid, false};
  }

  void sleep(Duration delay) {
    asio::steady_timer timer(io, delay);
    bool done = false;
    timer.async_wait([&](bp::error_code) { done = true; });
    io.restart();
    while (!done) io.run_one();
  }
};

ProcessLayer::ProcessLayer() : impl_(std::make_unique<Impl>()) {}
ProcessLayer::~ProcessLayer() = default;

AttemptResult ProcessLayer::run(const AttemptRequest& request) { return impl_->run(request); }
void ProcessLayer::sleep(Duration delay) { impl_->sleep(delay); }
Duration ProcessLayer::now() { return std::chrono::duration_cast<Duration>(Clock::now().time_since_epoch()); }

}  // namespace retryx
