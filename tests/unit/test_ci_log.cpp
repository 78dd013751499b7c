#include <chrono>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <functional>
#include <regex>
#include <string>
#include <unistd.h>

#include "ci_log.hpp"
#include "temp_files.hpp"

using namespace retryx;
using namespace std::chrono_literals;

namespace {

// The bytes a log writes for some events, through a file.
std::string written(const std::function<void(int fd)>& events) {
  const std::string dir = testing::temp_dir();
  const std::string path = dir + "/log";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  events(fd);
  ::close(fd);
  std::string text = testing::file_text(path);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
  return text;
}

AttemptRecord record(std::uint64_t attempt, AttemptOutcome outcome, Termination how,
                     std::optional<Duration> delay = std::nullopt) {
  AttemptRecord r{attempt, 3, {how, 1500ms}, outcome, {}, {}, {}, {}, {}};
  r.delay = delay;
  return r;
}

RunSummary summary(RunOutcome outcome, std::uint64_t attempts, int status, std::string reason = "") {
  return {outcome, attempts, 3, std::nullopt, std::move(reason), 4s, status, std::nullopt};
}

// A failing command (exit 1) retried once, then one that succeeds.
template <class Log>
void flaky_run(Log& log) {
  log.attempt_starting(1, 3);
  log.attempt_started(1, 3, 101);
  log.attempt_ended(record(1, AttemptOutcome::retry, Exited{1}, 2s));
  log.attempt_starting(2, 3);
  log.attempt_started(2, 3, 102);
  log.attempt_ended(record(2, AttemptOutcome::success, Exited{0}));
  log.run_ended(summary(RunOutcome::success, 2, 0));
}

// The command line a user may give: '%', ':', ',' and a newline.
const std::string nasty = "./de%ploy:prod,eu\n::error::forged";

}  // namespace

TEST_CASE("GitHub's escaping: escapeData and escapeProperty of @actions/core") {
  CHECK(escape_workflow_data("50% done: a,b\r\nnext") == "50%25 done: a,b%0D%0Anext");
  CHECK(escape_workflow_property("50% done: a,b\r\nnext") == "50%25 done%3A a%2Cb%0D%0Anext");
  // '%' is escaped first: an escape already in the text stays readable.
  CHECK(escape_workflow_data("%0A") == "%250A");
  CHECK(escape_workflow_data("") == "");
  CHECK(escape_workflow_data("plain text") == "plain text");
}

TEST_CASE("workflow commands: the command line with '%', ':', ',' and a newline stays one command") {
  CHECK(workflow_command("group", "", "retryx: attempt 1/3") == "::group::retryx: attempt 1/3\n");
  CHECK(workflow_command("endgroup", "", "") == "::endgroup::\n");
  CHECK(workflow_command("error", "retryx", "command not found: " + nasty) ==
        "::error title=retryx::command not found: ./de%25ploy:prod,eu%0A::error::forged\n");
  CHECK(workflow_command("warning", nasty, "m") == "::warning title=./de%25ploy%3Aprod%2Ceu%0A%3A%3Aerror%3A%3Aforged::m\n");
}

TEST_CASE("GitLab section names: only letters, digits, '_', '.' and '-'") {
  CHECK(gitlab_section_name("retryx-0b6c1f9e-3d5a-4c62-9a1e-5f0e2c7d8b4a-attempt-2") ==
        "retryx-0b6c1f9e-3d5a-4c62-9a1e-5f0e2c7d8b4a-attempt-2");
  CHECK(gitlab_section_name("a b:c[collapsed=true]\r\x1b[0K\n.x_y-z") == "a_b_c_collapsed_true____0K_.x_y-z");
  CHECK(gitlab_section_name("") == "_");
}

TEST_CASE("github: each attempt in a group, a warning for the retry, no error on success") {
  const std::string text = written([](int fd) {
    GithubLog log(LogWriter(fd), Verbosity::normal, false, std::nullopt);
    flaky_run(log);
  });
  CHECK(text ==
        "::group::retryx: attempt 1/3\n"
        "\nretryx: attempt 1/3 failed after 1.5s: exit code 1; retrying in 2s\n"
        "::endgroup::\n"
        "::warning title=retryx::attempt 1/3 failed after 1.5s: exit code 1; retrying in 2s\n"
        "::group::retryx: attempt 2/3\n"
        "\n::endgroup::\n"
        "retryx: succeeded on attempt 2/3 after 4s\n");
}

TEST_CASE("github: giving up is one error after the last line, --name in titles, verbose lines in the group") {
  const std::string text = written([](int fd) {
    GithubLog log(LogWriter(fd), Verbosity::verbose, false, std::string("nightly.db-backup"));
    log.attempt_starting(3, 3);
    log.attempt_started(3, 3, 103);
    log.attempt_ended(record(3, AttemptOutcome::exhausted, Exited{4}));
    log.run_ended(summary(RunOutcome::exhausted, 3, 4, "attempt limit 3 reached"));
  });
  CHECK(text ==
        "::group::retryx[nightly.db-backup]: attempt 3/3\n"
        "retryx[nightly.db-backup]: attempt 3/3 started (pid 103)\n"
        "\nretryx[nightly.db-backup]: attempt 3/3 failed after 1.5s: exit code 4; no attempts left\n"
        "::endgroup::\n"
        "retryx[nightly.db-backup]: giving up after 3 attempts in 4s: attempt limit 3 reached; exit status 4\n"
        "::error title=retryx[nightly.db-backup]::giving up after 3 attempts in 4s: attempt limit 3 reached; "
        "exit status 4\n");
}

TEST_CASE("github: a command that cannot start, named with '%', ':', ',' and a newline, is escaped") {
  const std::string text = written([](int fd) {
    GithubLog log(LogWriter(fd), Verbosity::normal, false, std::nullopt);
    log.attempt_starting(1, 3);
    log.attempt_ended(record(1, AttemptOutcome::retry, SpawnFailed{127, "command not found: " + nasty}, 1s));
  });
  const std::string warning = "::warning title=retryx::attempt 1/3 failed after 1.5s: command not found: "
                              "./de%25ploy:prod,eu%0A::error::forged; retrying in 1s\n";
  CHECK(text.ends_with("::endgroup::\n" + warning));
  // The text line is one line too: the forged command never starts one.
  CHECK(text.find("\n::error") == std::string::npos);
  CHECK(text.find("eu\\x0a::error::forged; retrying in 1s\n::endgroup::") != std::string::npos);
}

TEST_CASE("github: refused, interrupted and fatal runs end in one error, no group without an attempt") {
  for (const auto& [outcome, reason] : {std::pair{RunOutcome::circuit_open, "circuit open"},
                                        std::pair{RunOutcome::interrupted, "retryx received SIGTERM"},
                                        std::pair{RunOutcome::fatal, "exit code 2 is not retried"},
                                        std::pair{RunOutcome::deadline, "--max-time 1s reached"}}) {
    const RunSummary s = summary(outcome, 0, 75, reason);
    const std::string text = written([&](int fd) {
      GithubLog log(LogWriter(fd), Verbosity::normal, false, std::nullopt);
      log.run_ended(s);
    });
    CAPTURE(reason);
    CHECK(text == "retryx: " + run_end_message(s) + "\n::error title=retryx::" + run_end_message(s) + "\n");
  }
}

TEST_CASE("github and gitlab: a group left open by retryx's own failure is closed") {
  CHECK(written([](int fd) {
          GithubLog log(LogWriter(fd), Verbosity::normal, false, std::nullopt);
          log.attempt_starting(1, std::nullopt);
        }) == "::group::retryx: attempt 1\n::endgroup::\n");
  CHECK(written([](int fd) {
          GitlabLog log(LogWriter(fd), Verbosity::normal, false, std::nullopt, "id",
                        [] { return std::chrono::system_clock::time_point(7s); });
          log.attempt_starting(1, std::nullopt);
        }) ==
        "\x1b[0Ksection_start:7:retryx-id-attempt-1[collapsed=true]\r\x1b[0Kretryx: attempt 1\n"
        "\x1b[0Ksection_end:7:retryx-id-attempt-1\r\x1b[0K\n");
}

TEST_CASE("gitlab: each attempt in a collapsed section named with the run id, its line after it") {
  auto at = std::chrono::system_clock::time_point(1764733000s);
  const std::string text = written([&](int fd) {
    GitlabLog log(LogWriter(fd), Verbosity::normal, false, std::nullopt, "0b6c1f9e-3d5a-4c62-9a1e-5f0e2c7d8b4a",
                  [&] { return at += 1s; });
    flaky_run(log);
  });
  const std::string id = "retryx-0b6c1f9e-3d5a-4c62-9a1e-5f0e2c7d8b4a-attempt-";
  CHECK(text ==
        "\x1b[0Ksection_start:1764733001:" + id + "1[collapsed=true]\r\x1b[0Kretryx: attempt 1/3\n"
        "\n\x1b[0Ksection_end:1764733002:" + id + "1\r\x1b[0K\n"
        "retryx: attempt 1/3 failed after 1.5s: exit code 1; retrying in 2s\n"
        "\x1b[0Ksection_start:1764733003:" + id + "2[collapsed=true]\r\x1b[0Kretryx: attempt 2/3\n"
        "\n\x1b[0Ksection_end:1764733004:" + id + "2\r\x1b[0K\n"
        "retryx: succeeded on attempt 2/3 after 4s\n");
}

TEST_CASE("gitlab: --name in the header, a section still open ends before the run's line, no annotation") {
  const std::string text = written([](int fd) {
    GitlabLog log(LogWriter(fd), Verbosity::normal, false, std::string("deploy"), "id",
                  [] { return std::chrono::system_clock::time_point(7s); });
    log.attempt_starting(1, std::nullopt);
    log.run_ended(summary(RunOutcome::interrupted, 1, 143, "retryx received SIGTERM"));
  });
  CHECK(text ==
        "\x1b[0Ksection_start:7:retryx-id-attempt-1[collapsed=true]\r\x1b[0Kretryx[deploy]: attempt 1\n"
        "\x1b[0Ksection_end:7:retryx-id-attempt-1\r\x1b[0K\n"
        "retryx[deploy]: interrupted after 1 attempt in 4s: retryx received SIGTERM; exiting by the same signal\n");
}

TEST_CASE("github and gitlab in a --log-file: text lines timestamped, markers as they are, no empty line") {
  const std::string github = written([](int fd) {
    GithubLog log(LogWriter(fd, "retryx.log", true), Verbosity::normal, false, std::nullopt);
    log.attempt_starting(1, 3);
    log.attempt_started(1, 3, 101);
    log.attempt_ended(record(1, AttemptOutcome::retry, Exited{1}, 1s));
  });
  const std::string gitlab = written([](int fd) {
    GitlabLog log(LogWriter(fd, "retryx.log", true), Verbosity::normal, false, std::nullopt, "id",
                  [] { return std::chrono::system_clock::time_point(7s); });
    log.attempt_starting(1, 3);
    log.attempt_started(1, 3, 101);
    log.attempt_ended(record(1, AttemptOutcome::retry, Exited{1}, 1s));
  });
  // "2026-12-03T03:45:12.345Z retryx: ..."
  const std::regex time("\\n[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z ");
  const std::string failed = "retryx: attempt 1/3 failed after 1.5s: exit code 1; retrying in 1s\n";
  CHECK(std::regex_replace(github, time, "\nTIME ") ==
        "::group::retryx: attempt 1/3\nTIME " + failed +
            "::endgroup::\n::warning title=retryx::attempt 1/3 failed after 1.5s: exit code 1; retrying in 1s\n");
  CHECK(std::regex_replace(gitlab, time, "\nTIME ") ==
        "\x1b[0Ksection_start:7:retryx-id-attempt-1[collapsed=true]\r\x1b[0Kretryx: attempt 1/3\n"
        "\x1b[0Ksection_end:7:retryx-id-attempt-1\r\x1b[0K\nTIME " + failed);
}

namespace {

// A run whose attempts' and hook's output does not end in a newline: the
// bytes written to the log's descriptor in between, as a shared stderr.
template <class Log>
void unterminated_run(Log& log, int fd) {
  const auto output = [fd](std::string_view text) {
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  };
  log.attempt_starting(1, 3);
  log.attempt_started(1, 3, 101);
  output("no-newline");
  log.attempt_ended(record(1, AttemptOutcome::retry, Exited{1}, 2s));
  output("hook");  // --on-retry
  log.hook("on-retry", AttemptResult{Exited{0}, 1s});
  log.attempt_starting(2, 3);
  log.attempt_started(2, 3, 102);
  output("line\nno-newline");
  log.attempt_ended(record(2, AttemptOutcome::success, Exited{0}));
  log.run_ended(summary(RunOutcome::success, 2, 0));
}

}  // namespace

TEST_CASE("github: output with no final newline, every marker and line still starts a line") {
  const std::string text = written([](int fd) {
    GithubLog log(LogWriter(fd), Verbosity::normal, false, std::nullopt);
    unterminated_run(log, fd);
  });
  CHECK(text ==
        "::group::retryx: attempt 1/3\n"
        "no-newline\nretryx: attempt 1/3 failed after 1.5s: exit code 1; retrying in 2s\n"
        "::endgroup::\n"
        "::warning title=retryx::attempt 1/3 failed after 1.5s: exit code 1; retrying in 2s\n"
        "hook\n::group::retryx: attempt 2/3\n"
        "line\nno-newline\n::endgroup::\n"
        "retryx: succeeded on attempt 2/3 after 4s\n");
}

TEST_CASE("gitlab: output with no final newline, every marker and line still starts a line") {
  const std::string text = written([](int fd) {
    GitlabLog log(LogWriter(fd), Verbosity::normal, false, std::nullopt, "id",
                  [] { return std::chrono::system_clock::time_point(7s); });
    unterminated_run(log, fd);
  });
  CHECK(text ==
        "\x1b[0Ksection_start:7:retryx-id-attempt-1[collapsed=true]\r\x1b[0Kretryx: attempt 1/3\n"
        "no-newline\n\x1b[0Ksection_end:7:retryx-id-attempt-1\r\x1b[0K\n"
        "retryx: attempt 1/3 failed after 1.5s: exit code 1; retrying in 2s\n"
        "hook\n\x1b[0Ksection_start:7:retryx-id-attempt-2[collapsed=true]\r\x1b[0Kretryx: attempt 2/3\n"
        "line\nno-newline\n\x1b[0Ksection_end:7:retryx-id-attempt-2\r\x1b[0K\n"
        "retryx: succeeded on attempt 2/3 after 4s\n");
}

TEST_CASE("github and gitlab: a group left open after its process started ends its line first") {
  CHECK(written([](int fd) {
          GithubLog log(LogWriter(fd), Verbosity::normal, false, std::nullopt);
          log.attempt_starting(1, std::nullopt);
          log.attempt_started(1, std::nullopt, 101);
          REQUIRE(::write(fd, "partial", 7) == 7);
        }) == "::group::retryx: attempt 1\npartial\n::endgroup::\n");
  CHECK(written([](int fd) {
          GitlabLog log(LogWriter(fd), Verbosity::normal, false, std::nullopt, "id",
                        [] { return std::chrono::system_clock::time_point(7s); });
          log.attempt_starting(1, std::nullopt);
          log.attempt_started(1, std::nullopt, 101);
          REQUIRE(::write(fd, "partial", 7) == 7);
          log.run_ended(summary(RunOutcome::interrupted, 1, 143, "retryx received SIGTERM"));
        }) ==
        "\x1b[0Ksection_start:7:retryx-id-attempt-1[collapsed=true]\r\x1b[0Kretryx: attempt 1\n"
        "partial\n\x1b[0Ksection_end:7:retryx-id-attempt-1\r\x1b[0K\n"
        "retryx: interrupted after 1 attempt in 4s: retryx received SIGTERM; exiting by the same signal\n");
}
