#pragma once
// A real redis-server for the store's tests: started in a new directory
// under /tmp with --save '' --appendonly no, on a unix socket or a free
// port of 127.0.0.1 (TCP or TLS), and stopped by its pid (SIGKILL, reaped).
// Ready means its own READY=1 on a NOTIFY_SOCKET (--supervised systemd:
// sent once its listeners are open), waited for at most 10 s, or its exit.
// The server dies with the test process (PR_SET_PDEATHSIG), even when a
// test ends it by a signal, and holds none of its output pipes.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <doctest/doctest.h>
#include <filesystem>
#include <netinet/in.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <string>
#include <utility>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "temp_files.hpp"

extern char** environ;

namespace retryx::testing {

// A TCP socket bound to a port of 127.0.0.1 of the kernel's choice, not
// listening: its descriptor (the caller closes it) and the port.
inline std::pair<int, std::uint16_t> bound_loopback_socket() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  return {fd, ntohs(address.sin_port)};
}

// A port of 127.0.0.1 that was free a moment ago (the kernel's choice).
inline std::uint16_t free_port() {
  const auto [fd, port] = bound_loopback_socket();
  ::close(fd);
  return port;
}

class RedisServer {
 public:
  enum class Listen { unix_socket, tcp, tls };

  explicit RedisServer(std::vector<std::string> extra = {}, Listen listen = Listen::unix_socket)
      : dir(temp_dir()), socket_path(dir + "/redis.sock") {
    // A port taken between free_port() and redis-server's bind: try again.
    for (int attempt = 0; attempt < 3 && pid <= 0; ++attempt) start(extra, listen);
    REQUIRE_MESSAGE(pid > 0, "redis-server did not start: " << file_text(dir + "/redis.log"));
  }
  ~RedisServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  void stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);  // a stopped process dies of SIGKILL too
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
  }
  void pause() const { REQUIRE(::kill(pid, SIGSTOP) == 0); }
  void resume() const { REQUIRE(::kill(pid, SIGCONT) == 0); }

  std::string unix_url() const { return "unix://" + socket_path; }
  std::string tcp_url(const std::string& scheme = "redis", const std::string& host = "127.0.0.1") const {
    return scheme + "://" + host + ":" + std::to_string(port);
  }

  std::string dir;
  std::string socket_path;
  std::uint16_t port = 0;
  pid_t pid = -1;

 private:
  void start(const std::vector<std::string>& extra, Listen listen) {
    const std::string notify_path = dir + "/notify";
    ::unlink(notify_path.c_str());
    const int notify = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(notify >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, notify_path.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::bind(notify, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);

    std::vector<std::string> args{"redis-server", "--save", "", "--appendonly", "no", "--dir", dir,
                                  "--logfile", dir + "/redis.log", "--supervised", "systemd",
                                  "--unixsocket", socket_path};
    port = listen == Listen::unix_socket ? 0 : free_port();
    const std::string port_text = std::to_string(port);
    if (listen == Listen::tls) args.insert(args.end(), {"--port", "0", "--tls-port", port_text});
    else args.insert(args.end(), {"--port", port_text, "--bind", "127.0.0.1"});
    if (listen == Listen::tls) args.insert(args.end(), {"--bind", "127.0.0.1"});
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_text{"NOTIFY_SOCKET=" + notify_path};
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, "NOTIFY_SOCKET=", 14) != 0) env_text.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);

    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // only async-signal-safe calls until exec
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execvpe("redis-server", argv.data(), envp.data());
      ::_exit(127);
    }
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
    REQUIRE(pidfd >= 0);
    bool ready = false, exited = false;
    for (;;) {
      pollfd fds[2] = {{notify, POLLIN, 0}, {pidfd, POLLIN, 0}};
      const int n = ::poll(fds, 2, 10000);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // 10 s without a word: give up
      if (fds[0].revents & POLLIN) {
        char message[512] = {};
        const auto got = ::recv(notify, message, sizeof message - 1, 0);
        if (got > 0 && std::strstr(message, "READY=1") != nullptr) {
          ready = true;
          break;
        }
        continue;
      }
      if (fds[1].revents & POLLIN) {
        exited = true;
        break;
      }
    }
    ::close(pidfd);
    ::close(notify);
    if (ready) {
      pid = child;
      return;
    }
    if (!exited) ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
  }
};

}  // namespace retryx::testing
