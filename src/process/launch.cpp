#include "process/launch.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

extern char** environ;

namespace retryx::process {

SpawnFailed spawn_failure(const std::string& name, int error) {
  if (error == ENOENT) return {127, fmt::format("command not found: {}", name)};
  if (error == EACCES) return {126, fmt::format("permission denied: {}", name)};
  return {126, fmt::format("cannot run {}: {}", name, std::strerror(error))};
}

std::variant<std::string, SpawnFailed> resolve(const std::string& name) {
  if (name.empty()) return SpawnFailed{127, "command not found: ''"};
  if (name.find('/') != std::string::npos) return name;
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env ? path_env : "/bin:/usr/bin";  // glibc's execvp default
  bool denied = false;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = path.find(':', start);
    const std::string dir = path.substr(start, colon - start);
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
  return spawn_failure(name, denied ? EACCES : ENOENT);
}

ChildEnv::ChildEnv(const ChildEnvironment& changes) {
  const std::string own_listen_pid = fmt::format("LISTEN_PID={}", ::getpid());
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text = *entry;
    const std::string_view name = text.substr(0, text.find('='));
    const bool changed =
        std::any_of(changes.begin(), changes.end(), [&](const auto& change) { return change.first == name; });
    if (changed) continue;
    if (text == own_listen_pid) listen_pid_index_ = strings_.size();
    strings_.emplace_back(text);
  }
  for (const auto& [name, value] : changes)
    if (value) strings_.push_back(name + "=" + *value);
  for (const auto& s : strings_) pointers_.push_back(s.c_str());
  pointers_.push_back(nullptr);
  if (listen_pid_index_) {
    std::memcpy(listen_pid_, "LISTEN_PID=", 12);
    pointers_[*listen_pid_index_] = listen_pid_;
  }
}

std::variant<pid_t, SpawnError> launch(const std::string& executable, const Command& command, const ChildEnv& env,
                                       const ChildSetup& setup, const ChildStack& stack) {
  std::vector<const char*> argv;
  for (const auto& arg : command) argv.push_back(arg.c_str());
  argv.push_back(nullptr);
  auto launched = spawn(setup, executable.c_str(), const_cast<char* const*>(argv.data()), env.get(), stack);
  if (auto* failed = std::get_if<SpawnError>(&launched); failed && failed->error == ENOEXEC) {
    // A file without "#!" is a shell script.
    std::vector<const char*> sh_argv{"/bin/sh", executable.c_str()};
    sh_argv.insert(sh_argv.end(), argv.begin() + 1, argv.end());
    launched = spawn(setup, "/bin/sh", const_cast<char* const*>(sh_argv.data()), env.get(), stack);
  }
  return launched;
}

}  // namespace retryx::process
