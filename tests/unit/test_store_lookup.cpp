// A hung DNS server cannot hold the store's caller: the lookup is
// abandoned at the deadline, and the process still exits at once.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/name_lookup.hpp"
#include "store/redis_client.hpp"
#include "temp_files.hpp"

using namespace retryx::store;

namespace {

// In a child with its own network and mount namespaces: loopback up, a
// UDP socket on 127.0.0.1:53 that reads nothing and answers nothing, and
// /etc/resolv.conf bind-mounted to name it (30 s timeout, 5 attempts).
// Exits 0 when the call timed out while resolving; 77 when the
// namespaces cannot be made (not root); anything else is a failure. The
// exit itself is the point: a lookup thread still in getaddrinfo must not
// hold it.
[[noreturn]] void resolve_against_a_silent_dns_server(const std::string& dir) {
  if (::unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) ::_exit(77);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(77);
  const int control = ::socket(AF_INET, SOCK_DGRAM, 0);
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(control, SIOCGIFFLAGS, &request) != 0) ::_exit(77);
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(control, SIOCSIFFLAGS, &request) != 0) ::_exit(77);
  const int dns = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(53);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(dns, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) ::_exit(3);
  std::ofstream(dir + "/resolv.conf") << "nameserver 127.0.0.1\noptions timeout:30 attempts:5\n";
  if (::mount((dir + "/resolv.conf").c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0) ::_exit(77);
  auto parsed = parse_redis_url("redis://silent-dns.retryx-test:6379", std::nullopt);
  RedisClient client({std::get<RedisLocation>(parsed), {}, std::chrono::milliseconds(250)});
  const auto answer = client.call({"PING"});
  const auto* problem = std::get_if<StoreError>(&answer);
  const bool ok = problem != nullptr && problem->kind == StoreError::Kind::timeout &&
                  problem->message.find("resolving silent-dns.retryx-test") != std::string::npos;
  std::exit(ok ? 0 : 4);  // exit, not _exit: atexit handlers and static destructors run
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("store lookup: an address literal needs no lookup") {
  const auto found = look_up("::1", std::chrono::steady_clock::now());  // a deadline already passed
  CHECK_FALSE(found.timed_out);
  REQUIRE(found.addresses.size() == 1);
  CHECK(found.addresses[0] == "::1");
  const auto local = look_up("localhost", std::chrono::steady_clock::now() + std::chrono::seconds(5));
  CHECK_FALSE(local.addresses.empty());
}

TEST_CASE("store lookup: a silent DNS server gives a timeout and does not hold the process at exit") {
  const std::string dir = retryx::testing::temp_dir();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) resolve_against_a_silent_dns_server(dir);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  std::filesystem::remove_all(dir);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    MESSAGE("skipped: no network and mount namespaces here (needs root)");
    return;
  }
  CHECK(WEXITSTATUS(status) == 0);
}

}  // TEST_SUITE
