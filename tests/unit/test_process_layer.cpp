// The real process layer against real processes. Bounded by CTest's TIMEOUT.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include "process/output_capture.hpp"
#include "process_layer.hpp"

using namespace retryx;
using namespace std::chrono_literals;

namespace {

AttemptResult run(ProcessLayer& layer, const Command& command) {
  return layer.run(AttemptRequest{command, {}, std::nullopt, false, {}});
}

std::string temp_dir() {
  char pattern[] = "/tmp/retryx-unit.XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  return pattern;
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

long voluntary_switches() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_nvcsw;
}

}  // namespace

TEST_CASE("exit codes come back as exit codes") {
  ProcessLayer layer{ProcessPolicy{}, OutputPatterns{}};
  for (int code : {0, 1, 3, 42, 126, 127, 128, 255}) {
    CAPTURE(code);
    AttemptResult r = run(layer, {"sh", "-c", "exit " + std::to_string(code)});
    REQUIRE(std::holds_alternative<Exited>(r.how));
    CHECK(std::get<Exited>(r.how).code == code);
    CHECK(r.pid > 0);
  }
}

TEST_CASE("a death by signal is told apart from an exit code") {
  ProcessLayer layer{ProcessPolicy{}, OutputPatterns{}};
  AttemptResult killed = run(layer, {"sh", "-c", "kill -9 $$"});
  REQUIRE(std::holds_alternative<Signaled>(killed.how));
  CHECK(std::get<Signaled>(killed.how).signal == SIGKILL);
  AttemptResult exited9 = run(layer, {"sh", "-c", "exit 9"});
  REQUIRE(std::holds_alternative<Exited>(exited9.how));
  CHECK(std::get<Exited>(exited9.how).code == 9);
}

TEST_CASE("not found is 127 not executable is 126 and no zombie is left") {
  ProcessLayer layer{ProcessPolicy{}, OutputPatterns{}};
  const std::string dir = temp_dir();
  write_file(dir + "/plain", "echo no\n", 0644);

  AttemptResult missing = run(layer, {"retryx-no-such-command-anywhere"});
  REQUIRE(std::holds_alternative<SpawnFailed>(missing.how));
  CHECK(std::get<SpawnFailed>(missing.how).status == 127);

  AttemptResult missing_path = run(layer, {dir + "/absent"});
  REQUIRE(std::holds_alternative<SpawnFailed>(missing_path.how));
  CHECK(std::get<SpawnFailed>(missing_path.how).status == 127);

  AttemptResult not_exec = run(layer, {dir + "/plain"});
  REQUIRE(std::holds_alternative<SpawnFailed>(not_exec.how));
  CHECK(std::get<SpawnFailed>(not_exec.how).status == 126);

  AttemptResult directory = run(layer, {dir});
  REQUIRE(std::holds_alternative<SpawnFailed>(directory.how));
  CHECK(std::get<SpawnFailed>(directory.how).status == 126);

  // A failed exec must not leave a child behind for us to reap.
  errno = 0;
  CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a found-but-not-executable entry on PATH gives 126 as execvp") {
  ProcessLayer layer{ProcessPolicy{}, OutputPatterns{}};
  const std::string dir = temp_dir();
  write_file(dir + "/retryx-test-cmd", "#!/bin/sh\nexit 0\n", 0644);
  const std::string old_path = std::getenv("PATH");
  ::setenv("PATH", (dir + ":" + old_path).c_str(), 1);
  AttemptResult r = run(layer, {"retryx-test-cmd"});
  ::setenv("PATH", old_path.c_str(), 1);
  REQUIRE(std::holds_alternative<SpawnFailed>(r.how));
  CHECK(std::get<SpawnFailed>(r.how).status == 126);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a script without #! runs under /bin/sh with its arguments") {
  ProcessLayer layer{ProcessPolicy{}, OutputPatterns{}};
  const std::string dir = temp_dir();
  write_file(dir + "/noshebang", "[ \"$1\" = hello ] && exit 7\nexit 1\n", 0755);
  AttemptResult r = run(layer, {dir + "/noshebang", "hello"});
  REQUIRE(std::holds_alternative<Exited>(r.how));
  CHECK(std::get<Exited>(r.how).code == 7);
  std::filesystem::remove_all(dir);
}

TEST_CASE("argv[0] is the name as given not the resolved path") {
  ProcessLayer layer{ProcessPolicy{}, OutputPatterns{}};
  AttemptResult r = run(layer, {"sh", "-c", "[ \"$0\" = sh ]"});
  REQUIRE(std::holds_alternative<Exited>(r.how));
  CHECK(std::get<Exited>(r.how).code == 0);
}

TEST_CASE("an inherited descriptor reaches the command - close-on-exec ones do not") {
  const int kept = ::open("/dev/null", O_RDONLY);
  const int own = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(kept > 2);
  ProcessLayer layer{ProcessPolicy{}, OutputPatterns{}};  // reads the inherited descriptors now
  AttemptResult r = run(layer, {"sh", "-c", "[ -e /proc/self/fd/" + std::to_string(kept) + " ] && ! [ -e /proc/self/fd/" +
                                           std::to_string(own) + " ]"});
  ::close(kept);
  ::close(own);
  REQUIRE(std::holds_alternative<Exited>(r.how));
  CHECK(std::get<Exited>(r.how).code == 0);
}

TEST_CASE("an inherited SIGCHLD set to ignore does not corrupt exit statuses") {
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGCHLD, &ignore, &old);
  {
    ProcessLayer layer{ProcessPolicy{}, OutputPatterns{}};
    AttemptResult r = run(layer, {"sh", "-c", "exit 3"});
    REQUIRE(std::holds_alternative<Exited>(r.how));
    CHECK(std::get<Exited>(r.how).code == 3);
    // The child gets the disposition back (SIGCHLD is 17: bit 16 of SigIgn).
    AttemptResult child = run(layer, {"grep", "-q", "^SigIgn:.*[13579bdf]....$", "/proc/self/status"});
    REQUIRE(std::holds_alternative<Exited>(child.how));
    CHECK(std::get<Exited>(child.how).code == 0);
  }
  ::sigaction(SIGCHLD, &old, nullptr);
}

TEST_CASE("on_started gets the pid before the command ends") {
  ProcessLayer layer{ProcessPolicy{}, OutputPatterns{}};
  int seen = 0;
  const Command command{"true"};
  AttemptResult r = layer.run(AttemptRequest{command, {}, std::nullopt, false, [&](int pid) { seen = pid; }});
  CHECK(seen > 0);
  CHECK(seen == r.pid);
}

// Label "resource" (CTest, through the test suite): it measures retryx's own
// wake-ups, which the sanitizer build (scripts/test) does not hold to.
TEST_CASE("waiting does not poll: a 1 s child or sleep costs a handful of wake-ups" *
          doctest::test_suite("resource")) {
  ProcessLayer layer{ProcessPolicy{}, OutputPatterns{}};
  // A polling loop at 10 ms would switch about 100 times a second; waiting
  // on the pidfd or the timer switches a few times. Generous bound.
  long before = voluntary_switches();
  AttemptResult r = run(layer, {"sleep", "1"});
  long child_wait = voluntary_switches() - before;
  CHECK(std::holds_alternative<Exited>(r.how));
  CHECK(r.duration >= 1s);
  CHECK(child_wait < 30);

  before = voluntary_switches();
  const Duration start = layer.now();
  CHECK_FALSE(layer.sleep(1s).has_value());
  CHECK(layer.now() - start >= 1s);
  CHECK(voluntary_switches() - before < 30);
}

// --idle-timeout: the time of the last byte, not of the start, decides.
// Bounds are generous: a machine five times slower passes them.
TEST_CASE("--idle-timeout stops a silent attempt as a timeout does and says so") {
  ProcessPolicy policy;
  policy.idle_timeout = 200ms;
  ProcessLayer layer{policy, OutputPatterns{}};
  AttemptResult r = run(layer, {"sleep", "30"});
  CHECK(r.timed_out);
  CHECK(r.idle_limit == 200ms);
  REQUIRE(std::holds_alternative<Signaled>(r.how));
  CHECK(std::get<Signaled>(r.how).signal == SIGTERM);
  CHECK(r.duration >= 200ms);
  CHECK(r.duration < 10s);
}

TEST_CASE("--idle-timeout: an attempt that keeps writing runs past the idle limit") {
  ProcessPolicy policy;
  policy.idle_timeout = 1s;
  ProcessLayer layer{policy, OutputPatterns{}};
  // 25 bytes 0.1 s apart on stderr, 2.5 s in all: ten times the gap is the limit.
  AttemptResult r = run(layer, {"sh", "-c", "i=0; while [ $i -lt 25 ]; do printf ' ' >&2; sleep 0.1; i=$((i+1)); done"});
  CHECK_FALSE(r.timed_out);
  CHECK_FALSE(r.idle_limit.has_value());
  REQUIRE(std::holds_alternative<Exited>(r.how));
  CHECK(std::get<Exited>(r.how).code == 0);
  CHECK(r.duration >= 2s);
}

TEST_CASE("--idle-timeout and --timeout: whichever comes first stops the attempt") {
  ProcessPolicy policy;
  policy.idle_timeout = 20s;
  policy.timeout = 200ms;
  ProcessLayer layer{policy, OutputPatterns{}};
  AttemptResult by_timeout = layer.run(AttemptRequest{Command{"sleep", "30"}, {}, policy.timeout, false, {}});
  CHECK(by_timeout.timed_out);
  CHECK_FALSE(by_timeout.idle_limit.has_value());
  CHECK(by_timeout.duration < 10s);

  policy.idle_timeout = 200ms;
  policy.timeout = 20s;
  ProcessLayer idle_first{policy, OutputPatterns{}};
  AttemptResult by_idle = idle_first.run(AttemptRequest{Command{"sleep", "30"}, {}, policy.timeout, false, {}});
  CHECK(by_idle.timed_out);
  CHECK(by_idle.idle_limit == 200ms);
  CHECK(by_idle.duration < 10s);
}

TEST_CASE("--idle-timeout does not bound hooks, whose output is not read") {
  ProcessPolicy policy;
  policy.idle_timeout = 100ms;
  ProcessLayer layer{policy, OutputPatterns{}};
  const Command command{"sleep", "0.5"};
  AttemptResult r = layer.run(AttemptRequest{command, {}, std::nullopt, true, {}});
  CHECK_FALSE(r.timed_out);
  REQUIRE(std::holds_alternative<Exited>(r.how));
  CHECK(std::get<Exited>(r.how).code == 0);
}

namespace {

// retryx's stdout and stderr into two files for one scope: what the
// process layer wrote there, read back.
class CapturedStdio {
 public:
  // one_file: stdout's file is stderr too (`>file 2>&1`).
  explicit CapturedStdio(bool one_file = false) : dir_(temp_dir()) {
    ::fflush(nullptr);
    for (int fd : {1, 2}) {
      saved_[fd] = ::dup(fd);
      if (one_file && fd == 2) {
        ::dup2(1, 2);
        continue;
      }
      const int file = ::open(path(fd).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(file, fd);
      ::close(file);
    }
  }
  ~CapturedStdio() { restore(); }
  void restore() {
    for (int fd : {1, 2})
      if (saved_[fd] >= 0) {
        ::dup2(saved_[fd], fd);
        ::close(std::exchange(saved_[fd], -1));
      }
  }
  std::string text(int fd) const {
    std::ifstream in(path(fd));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string path(int fd) const { return dir_ + (fd == 1 ? "/stdout" : "/stderr"); }
  std::string dir_;
  int saved_[3] = {-1, -1, -1};
};

}  // namespace

TEST_CASE("--output-on-failure: attempts' and hooks' output is held, then written out stream by stream in order") {
  ProcessPolicy policy;
  policy.output_on_failure = true;
  HeldOutput held(HeldOutput::fallback_bound);
  ProcessLayer layer{policy, OutputPatterns{}, &held};
  CapturedStdio stdio;
  const AttemptResult attempt = run(layer, {"sh", "-c", "echo out1; echo err1 >&2; exit 3"});
  held.append(2, "retryx: a log line\n");
  const Command hook{"sh", "-c", "echo hook-out; echo hook-err >&2"};
  layer.run(AttemptRequest{hook, {}, std::nullopt, true, {}});
  run(layer, {"sh", "-c", "printf 'out2 no newline'"});
  const std::string before_out = stdio.text(1), before_err = stdio.text(2);
  const OutputRelease released = layer.write_out_held();
  stdio.restore();
  CHECK_FALSE(attempt.stdout_error);
  CHECK(before_out.empty());
  CHECK(before_err.empty());
  CHECK_FALSE(released.stdout_error);
  CHECK_FALSE(released.interrupted_by);
  CHECK(stdio.text(1) == "out1\nhook-out\nout2 no newline");
  CHECK(stdio.text(2) == "err1\nretryx: a log line\nhook-err\n");
  CHECK(held.empty());
}

TEST_CASE("--output-on-failure: a write error on stdout is said, stderr's parts still go out") {
  ProcessPolicy policy;
  policy.output_on_failure = true;
  HeldOutput held(HeldOutput::fallback_bound);
  ProcessLayer layer{policy, OutputPatterns{}, &held};
  CapturedStdio stdio;
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(full >= 0);
  run(layer, {"sh", "-c", "echo out; echo err >&2"});
  ::dup2(full, 1);
  ::close(full);
  const OutputRelease released = layer.write_out_held();
  stdio.restore();
  CHECK(released.stdout_error == ENOSPC);
  CHECK(stdio.text(2) == "err\n");
}

TEST_CASE("--output-on-failure: output spilled to the temporary file is written out whole, in order") {
  ProcessPolicy policy;
  policy.output_on_failure = true;
  HeldOutput held(HeldOutput::fallback_bound);
  ProcessLayer layer{policy, OutputPatterns{}, &held};
  CapturedStdio stdio;
  std::string expected_out, expected_err;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    run(layer, {"sh", "-c", "seq 1 400000; echo err >&2; exit 1"});
    held.append(2, "retryx: log line\n", true);
    for (int i = 1; i <= 400000; ++i) expected_out += std::to_string(i) + "\n";
    expected_err += "err\nretryx: log line\n";
  }
  layer.write_out_held();
  stdio.restore();
  CHECK(stdio.text(1).size() == expected_out.size());
  CHECK(stdio.text(1) == expected_out);
  CHECK(stdio.text(2) == expected_err);
}

TEST_CASE("same_open_file: a descriptor and its dup are one open file, two opens of a file are not") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/f";
  const int a = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  const int b = ::fcntl(a, F_DUPFD_CLOEXEC, 0);
  const int c = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE((a >= 0 && b >= 0 && c >= 0));
  CHECK(process::same_open_file(a, b));
  CHECK_FALSE(process::same_open_file(a, c));
  CHECK_FALSE(process::same_open_file(a, 1000));  // not open
  for (int fd : {a, b, c}) ::close(fd);
}

// The attempt writes 700 kB of 'a' and a newline, then "e2" to stderr: one
// file for retryx's stdout and stderr gets exactly that, in that order (two
// pipes read apart could put "e2" inside the line of a's).
TEST_CASE("one file for stdout and stderr: the attempt's output in the exact order it was written") {
  const Command command{"sh", "-c", "head -c 700000 /dev/zero | tr '\\0' a; echo; echo e2 >&2; exit 1"};
  const std::string expected = std::string(700000, 'a') + "\ne2\n";
  SUBCASE("--output-on-failure") {
    ProcessPolicy policy;
    policy.output_on_failure = true;
    HeldOutput held(HeldOutput::fallback_bound);
    ProcessLayer layer{policy, OutputPatterns{}, &held};
    CapturedStdio stdio(true);
    run(layer, command);
    held.append(2, "log 1\n", true);
    run(layer, command);
    layer.write_out_held();
    stdio.restore();
    CHECK(stdio.text(1) == expected + "log 1\n" + expected);
  }
  SUBCASE("an output condition, forwarded live: its lines are read from the one stream") {
    ProcessPolicy policy;
    OutputPatterns patterns;
    patterns.retry_if = "^e2$";
    patterns.until = "ae2";  // would match only a line of both streams spliced
    ProcessLayer layer{policy, patterns, nullptr};
    CapturedStdio stdio(true);
    const AttemptResult r = run(layer, command);
    stdio.restore();
    CHECK(stdio.text(1) == expected);
    CHECK(r.output.retry_if);
    CHECK_FALSE(r.output.until);
  }
}
