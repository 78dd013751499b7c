// The store's link (store_helper.hpp, shared_store.cpp): the real
// retryx-store helper, built beside the tests (RETRYX_STORE_HELPER),
// against a real redis-server (tests/unit/redis_server.hpp).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "redis_server.hpp"
#include "store/redis_url.hpp"
#include "store_helper.hpp"
#include "store_helper_path.hpp"

using namespace retryx;
using retryx::testing::RedisServer;
using Clock = std::chrono::steady_clock;

namespace {

const std::string helper = RETRYX_STORE_HELPER;

std::vector<std::int64_t> answered(SharedStore& store, std::string_view body, const std::vector<std::string>& keys = {},
                                   const std::vector<std::string>& args = {}) {
  const auto answer = store.run_script(body, keys, args);
  REQUIRE_MESSAGE(answer.reply.has_value(), answer.problem);
  CHECK(answer.problem.empty());
  return *answer.reply;
}

// The first answer's problem; the store is then not asked again: no reply,
// no problem, no helper.
std::string failed_once(HelperStore& store, std::string_view body = "return 1",
                        const std::vector<std::string>& keys = {}) {
  const auto answer = store.run_script(body, keys, {});
  CHECK_FALSE(answer.reply.has_value());
  CHECK_FALSE(answer.problem.empty());
  CHECK(store.helper_pid() == 0);
  const auto again = store.run_script("return 1", {}, {});
  CHECK_FALSE(again.reply.has_value());
  CHECK(again.problem.empty());
  CHECK(store.helper_pid() == 0);
  return answer.problem;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int pidfd_of(pid_t pid) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  REQUIRE(pidfd >= 0);
  return pidfd;
}

// Whether the process behind pidfd has ended, waiting at most 10 s.
bool ended(int pidfd) {
  pollfd watched{pidfd, POLLIN, 0};
  int ready;
  while ((ready = ::poll(&watched, 1, 10000)) < 0 && errno == EINTR) {
  }
  return ready == 1;
}

std::string link_target(const std::string& path) {
  std::error_code error;
  return std::filesystem::read_symlink(path, error).string();
}

std::string status_line(pid_t pid, const std::string& field) {
  const std::string text = testing::file_text("/proc/" + std::to_string(pid) + "/status");
  const auto at = text.find("\n" + field + ":");
  REQUIRE(at != std::string::npos);
  const auto start = text.find_first_not_of(" \t", at + field.size() + 2);
  return text.substr(start, text.find('\n', start) - start);
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("store link: a script answered by the helper with its keys and args and integers back") {
  RedisServer server;
  HelperStore store({server.unix_url(), std::nullopt, "", "", ""}, helper);
  CHECK(store.location() == server.unix_url());
  CHECK(store.helper_pid() == 0);  // started by the first request only
  const std::string key("retryx:{job}:\n\0n", 16), arg("41\0", 3);
  const auto first_start = Clock::now();
  CHECK(answered(store, "return {redis.call('INCR', KEYS[1]), tonumber(string.sub(ARGV[1], 1, 2)) + 1, #KEYS, #ARGV,"
                        " string.len(KEYS[1]) + string.len(ARGV[1])}",
                 {key}, {arg, "x"}) == std::vector<std::int64_t>{1, 42, 1, 2, 19});
  const double first_ms = ms_since(first_start);
  CHECK(store.helper_pid() > 0);
  // Large integers (Lua's numbers are doubles: exact to 2^53), one
  // integer, nil, an empty array.
  CHECK(answered(store, "return {redis.call('INCRBY', KEYS[1], ARGV[1]), redis.call('INCRBY', KEYS[1], ARGV[2])}",
                 {"big"}, {"9007199254740991", "-18014398509481982"}) ==
        std::vector<std::int64_t>{9007199254740991, -9007199254740991});
  CHECK(answered(store, "return -7") == std::vector<std::int64_t>{-7});
  CHECK(answered(store, "return nil").empty());
  CHECK(answered(store, "return {}").empty());

  // The round trip of one script through the helper, on a unix socket.
  std::vector<double> round_trips;
  for (int i = 0; i < 100; ++i) {
    const auto start = Clock::now();
    answered(store, "return redis.call('INCR', KEYS[1])", {"retryx:{job}:count"});
    round_trips.push_back(ms_since(start));
  }
  std::sort(round_trips.begin(), round_trips.end());
  MESSAGE("first request (helper start, connect, EVALSHA, EVAL): " << first_ms << " ms; a script's round trip: median "
          << round_trips[50] << " ms, 90th " << round_trips[90] << " ms, max " << round_trips[99] << " ms");
  CHECK(answered(store, "return redis.call('GET', KEYS[1]) + 0", {"retryx:{job}:count"}) ==
        std::vector<std::int64_t>{100});
}

TEST_CASE("store link: a reply that is not integers is a problem once") {
  RedisServer server;
  HelperStore store({server.unix_url(), std::nullopt, "", "", ""}, helper);
  CHECK(answered(store, "return 1") == std::vector<std::int64_t>{1});
  const auto answer = store.run_script("return {1, 'two'}", {}, {});
  CHECK_FALSE(answer.reply);
  CHECK(answer.problem == "protocol: the script's reply is not integers (it holds a string)");
  CHECK(store.helper_pid() == 0);
  CHECK(store.run_script("return 1", {}, {}).problem.empty());
}

TEST_CASE("store link: given up by its user - no more requests and no helper") {
  RedisServer server;
  HelperStore store({server.unix_url(), std::nullopt, "", "", ""}, helper);
  CHECK(answered(store, "return 1") == std::vector<std::int64_t>{1});
  const pid_t pid = store.helper_pid();
  REQUIRE(pid > 0);
  store.give_up();
  CHECK(store.helper_pid() == 0);
  siginfo_t info{};
  CHECK(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) == -1);  // ended and reaped
  CHECK(errno == ECHILD);
  const auto after = store.run_script("return 1", {}, {});
  CHECK_FALSE(after.reply);
  CHECK(after.problem.empty());  // its user said why
  CHECK(store.helper_pid() == 0);
  store.give_up();  // again: nothing more
  HelperStore unstarted({server.unix_url(), std::nullopt, "", "", ""}, helper);
  unstarted.give_up();
  CHECK_FALSE(unstarted.run_script("return 1", {}, {}).reply);
  CHECK(unstarted.helper_pid() == 0);
}

TEST_CASE("store link: an error reply (WRONGTYPE) is a problem once") {
  RedisServer server;
  HelperStore store({server.unix_url(), std::nullopt, "", "", ""}, helper);
  answered(store, "redis.call('SET', KEYS[1], 'text') return 0", {"retryx:{job}:budget:runs"});
  const std::string problem = failed_once(store, "return redis.call('ZCARD', KEYS[1])", {"retryx:{job}:budget:runs"});
  CHECK(problem.starts_with("reply: "));
  CHECK(problem.find("WRONGTYPE") != std::string::npos);
}

TEST_CASE("store link: the server down is a problem once and soon") {
  const auto [listener, port] = testing::bound_loopback_socket();  // bound, not listening: refused
  HelperStore store({"redis://127.0.0.1:" + std::to_string(port), std::nullopt, "", "", ""}, helper);
  const auto start = Clock::now();
  const std::string problem = failed_once(store);
  ::close(listener);
  MESSAGE("server down: '" << problem << "' after " << ms_since(start) << " ms");
  CHECK(problem.starts_with("connect: "));
  CHECK(ms_since(start) < 2000);
  HelperStore missing({"unix:///nonexistent/redis.sock", std::nullopt, "", "", ""}, helper);
  CHECK(failed_once(missing).starts_with("connect: "));
}

TEST_CASE("store link: a hung server (SIGSTOP) is a timeout problem at about 250 ms") {
  RedisServer server;
  HelperStore store({server.unix_url(), std::nullopt, "", "", ""}, helper);
  answered(store, "return 1");  // connected, then the server hangs
  server.pause();
  // retryx's signals arrive meanwhile (its handlers have no SA_RESTART):
  // the wait goes on with the time left.
  struct sigaction on_alarm {}, previous {};
  on_alarm.sa_handler = [](int) {};
  ::sigaction(SIGALRM, &on_alarm, &previous);
  const itimerval every_5ms{{0, 5000}, {0, 5000}}, off{};
  ::setitimer(ITIMER_REAL, &every_5ms, nullptr);
  const auto start = Clock::now();
  const auto answer = store.run_script("return 2", {}, {});
  const double elapsed = ms_since(start);
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::sigaction(SIGALRM, &previous, nullptr);
  server.resume();
  MESSAGE("hung server: '" << answer.problem << "' after " << elapsed << " ms");
  CHECK_FALSE(answer.reply);
  CHECK(answer.problem.starts_with("timeout: "));
  CHECK(elapsed >= 240);   // the deadline cannot pass sooner
  CHECK(elapsed < 2000);   // about 250 ms: a generous bound, not a timing test
  CHECK(store.run_script("return 1", {}, {}).problem.empty());
}

TEST_CASE("store link: a helper that cannot start is a problem once") {
  HelperStore missing({"unix:///nonexistent/redis.sock", std::nullopt, "", "", ""}, "/nonexistent/retryx-store");
  CHECK(failed_once(missing) == "cannot start retryx-store (/nonexistent/retryx-store): No such file or directory");
  const std::string dir = testing::temp_dir();
  const std::string not_executable = dir + "/retryx-store";
  { std::ofstream(not_executable) << "#!/bin/sh\n"; }
  HelperStore refused({"unix:///nonexistent/redis.sock", std::nullopt, "", "", ""}, not_executable);
  CHECK(failed_once(refused) == "cannot start retryx-store (" + not_executable + "): Permission denied");
  std::filesystem::remove_all(dir);
}

// The helper's start is bounded apart from the store's 250 ms (a machine
// busy with a storm of runs starts it late): one that never says it is
// ready is given up on at start_bound, and one that ends at once is said.
TEST_CASE("store link: a helper that never says it is ready is given up on at its start bound") {
  const std::string dir = testing::temp_dir();
  const std::string silent = dir + "/retryx-store";
  { std::ofstream(silent) << "#!/bin/sh\nexec sleep 30\n"; }
  std::filesystem::permissions(silent, std::filesystem::perms::owner_all);
  HelperStore store({"unix:///nonexistent/redis.sock", std::nullopt, "", "", ""}, silent);
  const auto start = Clock::now();
  CHECK(failed_once(store) == "timeout: retryx-store did not start within 2000 ms");
  const double waited = ms_since(start);
  MESSAGE("given up after " << waited << " ms");
  CHECK(waited >= 1990);
  CHECK(waited < 10000);

  const std::string quitter = dir + "/quits";
  { std::ofstream(quitter) << "#!/bin/sh\nexit 3\n"; }
  std::filesystem::permissions(quitter, std::filesystem::perms::owner_all);
  HelperStore quits({"unix:///nonexistent/redis.sock", std::nullopt, "", "", ""}, quitter);
  CHECK(failed_once(quits) == "retryx-store ended without answering (exit status 3)");
  std::filesystem::remove_all(dir);
}

// A signal ends the run: a wait for the helper (here, one that never says
// it is ready) is abandoned at once, with nothing to say.
TEST_CASE("store link: a wait for the helper is abandoned silently once retryx is told to stop") {
  const std::string dir = testing::temp_dir();
  const std::string silent = dir + "/retryx-store";
  { std::ofstream(silent) << "#!/bin/sh\nexec sleep 30\n"; }
  std::filesystem::permissions(silent, std::filesystem::perms::owner_all);
  const auto start = Clock::now();
  RedisStoreSettings settings{"unix:///nonexistent/redis.sock", std::nullopt, "", "", ""};
  settings.stopping = [&] { return Clock::now() - start > std::chrono::milliseconds(100); };
  HelperStore store(settings, silent);
  const auto answer = store.run_script("return 1", {}, {});
  const double waited = ms_since(start);
  MESSAGE("abandoned after " << waited << " ms");
  CHECK_FALSE(answer.reply.has_value());
  CHECK(answer.problem.empty());
  CHECK(store.helper_pid() == 0);
  CHECK(waited < 1000);  // the start bound is 2000 ms
  std::filesystem::remove_all(dir);
}

TEST_CASE("store link: a helper killed between requests is a problem once") {
  RedisServer server;
  for (const bool reaped_elsewhere : {false, true}) {
    INFO("reaped elsewhere: " << reaped_elsewhere);
    HelperStore store({server.unix_url(), std::nullopt, "", "", ""}, helper);
    answered(store, "return 1");
    const pid_t pid = store.helper_pid();
    const int pidfd = pidfd_of(pid);
    REQUIRE(::kill(pid, SIGKILL) == 0);
    REQUIRE(ended(pidfd));
    // As retryx's process layer reaps the orphans it adopts: the store
    // must then signal nothing by that pid.
    if (reaped_elsewhere) CHECK(::waitpid(pid, nullptr, 0) == pid);
    const auto answer = store.run_script("return 1", {}, {});
    CHECK_FALSE(answer.reply);
    CHECK(answer.problem ==
          (reaped_elsewhere ? "retryx-store ended without answering" : "retryx-store ended without answering (killed by SIGKILL)"));
    CHECK(store.helper_pid() == 0);
    CHECK(store.run_script("return 1", {}, {}).problem.empty());
    siginfo_t info{};
    CHECK(::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) == -1);  // reaped: ECHILD
    ::close(pidfd);
  }
}

TEST_CASE("store link: a wrong password is a problem without the password") {
  RedisServer server({"--requirepass", "right-horse-battery"}, RedisServer::Listen::tcp);
  HelperStore right({server.unix_url(), "right-horse-battery", "", "", ""}, helper);
  CHECK(answered(right, "return 3") == std::vector<std::int64_t>{3});
  const std::string url = "redis://:wrong-staple-guess@127.0.0.1:" + std::to_string(server.port);
  HelperStore in_url({url, "wrong-from-env", "", "", ""}, helper);
  CHECK(in_url.location() == "redis://:***@127.0.0.1:" + std::to_string(server.port));
  const std::string problem = failed_once(in_url);
  CHECK(problem.starts_with("auth: "));
  CHECK(problem.find("wrong-staple-guess") == std::string::npos);
  CHECK(problem.find("wrong-from-env") == std::string::npos);
  HelperStore from_env({server.unix_url(), "wrong-env-secret", "", "", ""}, helper);
  const std::string env_problem = failed_once(from_env);
  CHECK(env_problem.starts_with("auth: "));
  CHECK(env_problem.find("wrong-env-secret") == std::string::npos);
  HelperStore none({server.unix_url(), std::nullopt, "", "", ""}, helper);
  CHECK(failed_once(none).starts_with("reply: NOAUTH"));
}

TEST_CASE("store link: the helper has descriptors 0 1 2 and its own group and signals and environment") {
  RedisServer server;
  // What the helper must not get from this process: a descriptor without
  // close-on-exec, an ignored signal, a blocked one, REDISCLI_AUTH.
  const std::string dir = testing::temp_dir();
  const int inherited = ::open((dir + "/inherited").c_str(), O_WRONLY | O_CREAT, 0600);
  REQUIRE(inherited >= 0);
  struct sigaction ignore {}, previous_int {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &previous_int);
  sigset_t usr1, previous_mask;
  ::sigemptyset(&usr1);
  ::sigaddset(&usr1, SIGUSR1);
  ::sigprocmask(SIG_BLOCK, &usr1, &previous_mask);
  ::setenv("REDISCLI_AUTH", "env-secret-of-retryx", 1);
  // Nor retryx's options (a URL with its password), but the rest: OpenSSL's
  // and the resolver's.
  ::setenv("RETRYX_CIRCUIT", "redis://:circuit-secret@127.0.0.1/", 1);
  ::setenv("RETRYX_RETRY_BUDGET", "redis://:budget-secret@127.0.0.1/", 1);
  ::setenv("SSL_CERT_DIR", "/nonexistent/certs", 1);
  ::setenv("RES_OPTIONS", "attempts:1", 1);

  HelperStore plain({server.unix_url(), std::nullopt, "", "", ""}, helper);
  const auto answer = plain.run_script("return 1", {}, {});
  for (const char* name : {"REDISCLI_AUTH", "RETRYX_CIRCUIT", "RETRYX_RETRY_BUDGET", "SSL_CERT_DIR", "RES_OPTIONS"})
    ::unsetenv(name);
  ::sigprocmask(SIG_SETMASK, &previous_mask, nullptr);
  ::sigaction(SIGINT, &previous_int, nullptr);
  ::close(inherited);
  REQUIRE_MESSAGE(answer.reply, answer.problem);
  const pid_t pid = plain.helper_pid();
  const std::string fds = "/proc/" + std::to_string(pid) + "/fd/";
  CHECK(link_target(fds + "0").starts_with("socket:"));
  CHECK(link_target(fds + "1") == link_target(fds + "0"));
  CHECK(link_target(fds + "2").starts_with("pipe:"));  // its own: see said()
  CHECK(link_target(fds + "2") != link_target("/proc/self/fd/2"));
  for (const auto& entry : std::filesystem::directory_iterator(fds)) {
    const int fd = std::stoi(entry.path().filename().string());
    const std::string target = link_target(entry.path().string());
    INFO(fd << " -> " << target);
    // Above 2: only the client's own (its socket to Redis, Asio's epoll and eventfd).
    if (fd > 2) CHECK((target.starts_with("socket:") || target.starts_with("anon_inode:")));
    CHECK(target.find(dir) == std::string::npos);
  }
  CHECK(::getpgid(pid) == pid);
  CHECK(status_line(pid, "SigBlk") == "0000000000000000");
  // Ignored: SIGPIPE, the helper's own, and glibc's internal 32 and 33
  // (its posix_spawn leaves them so: glibc installs its handlers when it
  // needs them).
  CHECK((std::stoull(status_line(pid, "SigIgn"), nullptr, 16) & ~0x180000000ull) == 0x1000);
  const std::string environment = testing::file_text("/proc/" + std::to_string(pid) + "/environ");
  CHECK(environment.find("REDISCLI_AUTH") == std::string::npos);
  CHECK(environment.find("RETRYX_") == std::string::npos);
  CHECK(environment.find("secret") == std::string::npos);
  CHECK(environment.find(std::string("SSL_CERT_DIR=/nonexistent/certs\0", 32)) != std::string::npos);
  CHECK(environment.find(std::string("RES_OPTIONS=attempts:1\0", 23)) != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("store link: the helper is gone once the store is destroyed") {
  RedisServer server;
  for (const bool stopped : {false, true}) {
    INFO("helper stopped: " << stopped);
    auto store = std::make_unique<HelperStore>(RedisStoreSettings{server.unix_url(), std::nullopt, "", "", ""}, helper);
    answered(*store, "return 1");
    const pid_t pid = store->helper_pid();
    const int pidfd = pidfd_of(pid);
    // A helper that cannot exit at the end of its stdin is killed after 300 ms.
    if (stopped) REQUIRE(::kill(pid, SIGSTOP) == 0);
    const auto start = Clock::now();
    store.reset();
    MESSAGE("destroyed in " << ms_since(start) << " ms (helper stopped: " << stopped << ")");
    CHECK(ms_since(start) < 2000);
    pollfd watched{pidfd, POLLIN, 0};
    CHECK(::poll(&watched, 1, 0) == 1);  // ended
    siginfo_t info{};
    CHECK(::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) == -1);  // and reaped
    CHECK(errno == ECHILD);
    ::close(pidfd);
  }
}

TEST_CASE("store link: the helper found beside retryx or in the install's libexec directory") {
  CHECK(store_helper_candidates("/usr/bin/retryx") ==
        std::vector<std::string>{"/usr/bin/retryx-store",
                                 (std::filesystem::path("/usr/bin") / store_helper_from_bindir).lexically_normal().string()});
  const std::string dir = testing::temp_dir();
  const std::string installed = (std::filesystem::path(dir + "/bin") / store_helper_from_bindir).lexically_normal().string();
  CHECK(find_store_helper(dir + "/bin/retryx") == installed);  // neither: the install's, for the message
  std::filesystem::create_directories(std::filesystem::path(installed).parent_path());
  std::filesystem::create_directories(dir + "/bin");
  std::filesystem::create_symlink(helper, installed);
  CHECK(find_store_helper(dir + "/bin/retryx") == installed);
  RedisServer server;
  HelperStore store({server.unix_url(), std::nullopt, "", "", ""}, find_store_helper(dir + "/bin/retryx"));
  CHECK(answered(store, "return 5") == std::vector<std::int64_t>{5});
  std::filesystem::create_symlink(helper, dir + "/bin/retryx-store");
  CHECK(find_store_helper(dir + "/bin/retryx") == dir + "/bin/retryx-store");  // the build tree's way first
  std::filesystem::remove_all(dir);
  // open_redis_store looks beside this test binary (/proc/self/exe), where
  // there is no helper: the problem names where an install would have it.
  const auto test_binary = std::filesystem::read_symlink("/proc/self/exe");
  const auto opened = open_redis_store({"unix:///nonexistent/redis.sock", std::nullopt, "", "", ""});
  CHECK(opened->run_script("return 1", {}, {}).problem ==
        "cannot start retryx-store (" +
            (test_binary.parent_path() / store_helper_from_bindir).lexically_normal().string() +
            "): No such file or directory");
}

}  // TEST_SUITE
