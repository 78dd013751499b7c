// The helper process (store_helper.hpp): what it says on its stderr, and
// its end, bounded even when it cannot be reaped after SIGKILL (also run
// with pidfd_open refused: no_pidfd.unit_store_helper in
// tests/CMakeLists.txt, where the end polls the pid). The rest of the
// store's link: test_shared_store.cpp.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <string>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "redis_server.hpp"
#include "store_helper.hpp"

using namespace retryx;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The first answer's problem; the store is then not asked again.
std::string failed_once(HelperStore& store) {
  const auto answer = store.run_script("return 1", {}, {});
  CHECK_FALSE(answer.reply.has_value());
  CHECK(store.helper_pid() == 0);
  const auto again = store.run_script("return 1", {}, {});
  CHECK((!again.reply && again.problem.empty()));
  return answer.problem;
}

}  // namespace

TEST_SUITE("store") {

// What the helper writes on its stderr (the loader's error, glibc's or a
// sanitizer's) is its own pipe's, never this process's stderr: said in the
// problem when it ends without answering (the first 1 KiB, one line,
// without the password), and a helper that fills the pipe hangs nothing.
TEST_CASE("store helper: what it says on its stderr is in the problem, not on retryx's stderr") {
  const std::string dir = testing::temp_dir();
  const auto fake = [&](const std::string& name, const std::string& body) {
    { std::ofstream(dir + "/" + name) << "#!/bin/sh\n" << body << "\n"; }
    std::filesystem::permissions(dir + "/" + name, std::filesystem::perms::owner_all);
    return dir + "/" + name;
  };
  const std::string url = "redis://:pw-secret-xyz@127.0.0.1:1";
  const std::string loader = fake("loader", "echo 'retryx-store: error while loading shared libraries: libhiredis.so.0.14: "
                                            "cannot open shared object file: No such file or directory' >&2\n"
                                            "printf 'second line pw-secret-xyz and env-secret-abc\\n\\n' >&2\nexit 127");
  const std::string cut = fake("cut", "head -c 1016 /dev/zero | tr '\\0' x >&2\necho ' pw-secret-xyz and more' >&2\nexit 127");
  const std::string flood = fake("flood", "head -c 300000 /dev/zero | tr '\\0' y >&2\nexit 127");
  const int saved_stderr = ::dup(STDERR_FILENO);
  const int captured = ::open((dir + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE((saved_stderr >= 0 && captured >= 0 && ::dup2(captured, STDERR_FILENO) == STDERR_FILENO));
  std::string said, said_cut, flooded;
  double flood_ms = 0;
  {
    HelperStore loader_store({url, "env-secret-abc", "", "", ""}, loader);
    said = failed_once(loader_store);
    HelperStore cut_store({url, std::nullopt, "", "", ""}, cut);
    said_cut = failed_once(cut_store);
    const auto start = Clock::now();
    HelperStore flood_store({url, std::nullopt, "", "", ""}, flood);
    flooded = failed_once(flood_store);  // blocked on its full pipe: never ready
    flood_ms = ms_since(start);
  }
  ::dup2(saved_stderr, STDERR_FILENO);
  ::close(saved_stderr);
  ::close(captured);
  CHECK(said == "retryx-store ended without answering (exit status 127): retryx-store: error while loading shared "
                "libraries: libhiredis.so.0.14: cannot open shared object file: No such file or directory; "
                "second line *** and ***");
  CHECK(said_cut == "retryx-store ended without answering (exit status 127): " + std::string(1016, 'x') + " ...");
  CHECK(flooded == "timeout: retryx-store did not start within 2000 ms");
  CHECK(flood_ms < 10000);
  CHECK(testing::file_text(dir + "/stderr").empty());
  std::filesystem::remove_all(dir);
}


// A helper in uninterruptible sleep (D: an NFS or FUSE wait) ends when it
// can, whatever the signal. Here a tracer holds its exit instead: a zombie
// that is traced is its tracer's to see first, and this process cannot
// reap it until the tracer lets go. Its end must not wait for that.
TEST_CASE("store helper: one that cannot be reaped after SIGKILL is left to init after about 1 s") {
  const int probe = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (probe >= 0) ::close(probe);
  CHECK((probe < 0) == (std::getenv("RETRYX_UNIT_NO_PIDFD") != nullptr));  // the variant refuses it
  MESSAGE("pidfd: " << std::string(probe >= 0 ? "yes" : "no"));

  const std::string dir = testing::temp_dir();
  const std::string fake = dir + "/retryx-store";
  { std::ofstream(fake) << "#!/bin/sh\nexec sleep 30\n"; }  // keeps the socket: does not end at its end
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  StoreHelper helper;
  REQUIRE(helper.start(fake).empty());
  const pid_t pid = helper.pid();

  int release[2], seized[2];
  REQUIRE((::pipe(release) == 0 && ::pipe(seized) == 0));
  const pid_t tracer = ::fork();
  REQUIRE(tracer >= 0);
  if (tracer == 0) {
    ::close(release[1]);
    const char result = ::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == 0 ? '1' : '0';
    (void)!::write(seized[1], &result, 1);
    pollfd watched{release[0], POLLIN, 0};
    ::poll(&watched, 1, 8000);  // lets go when told, or after 8 s (it exits: the tracee is detached)
    ::_exit(0);
  }
  ::close(release[0]);
  ::close(seized[1]);
  char result = 0;
  CHECK(::read(seized[0], &result, 1) == 1);
  ::close(seized[0]);
  if (result != '1') {
    MESSAGE("skipped: ptrace refused here (Yama ptrace_scope?)");
    ::close(release[1]);
    ::waitpid(tracer, nullptr, 0);
    helper.end(std::chrono::milliseconds(0));
    std::filesystem::remove_all(dir);
    return;
  }

  const auto start = Clock::now();
  const std::string how = helper.end(std::chrono::milliseconds(300));
  const double elapsed = ms_since(start);
  MESSAGE("ended in " << elapsed << " ms: '" << how << "'");
  CHECK(how.empty());  // not seen to end
  CHECK(helper.pid() == 0);
  CHECK(elapsed >= 1250);  // 300 ms for its end of stdin, then up to kill_bound after SIGKILL
  CHECK(elapsed < 5000);   // unbounded: until the tracer lets go, 8 s

  // Let go: its exit is then this process's to reap (as init's once retryx
  // has ended), and the helper's end did not reap it.
  ::close(release[1]);
  CHECK(::waitpid(tracer, nullptr, 0) == tracer);
  int status = 0;
  CHECK(::waitpid(pid, &status, 0) == pid);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  std::filesystem::remove_all(dir);
}

}  // TEST_SUITE
