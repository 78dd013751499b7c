#include <cerrno>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "circuit.hpp"
#include "temp_files.hpp"
#include "timestamp.hpp"

using namespace retryx;
using retryx::testing::file_text;
using retryx::testing::temp_dir;
using Phase = CircuitState::Phase;

namespace {
CircuitSettings settings(std::uint64_t threshold = 3) {
  return {"/unused", threshold, std::chrono::minutes(5)};
}
constexpr std::int64_t minute = 60'000;
constexpr std::int64_t now = 1'700'000'000'000;  // November 2023
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

// While set, flock fails with this errno (ENOLCK: an NFS mount without a
// lock manager), for the tests of the file side.
int flock_errno = 0;

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

// Interposes the C library's flock for this test program (circuit.cpp is
// linked into it): the real one, but for flock_errno.
extern "C" int flock(int fd, int operation) noexcept {
  if (flock_errno != 0) {
    errno = flock_errno;
    return -1;
  }
  return static_cast<int>(::syscall(SYS_flock, fd, operation));
}

TEST_CASE("the state file round-trips") {
  CircuitState s{Phase::half_open, 7, 1'700'000'000'123, 1'700'000'100'000};
  auto back = parse_circuit(format_circuit(s));
  REQUIRE(back.has_value());
  CHECK(back->phase == Phase::half_open);
  CHECK(back->consecutive_failures == 7);
  CHECK(back->last_failure_ms == 1'700'000'000'123);
  CHECK(back->trial_started_ms == 1'700'000'100'000);
  CHECK(parse_circuit(" { \"schema\" : 1, \"state\":\"open\",\"consecutive_failures\":3,"
                      "\"last_failure_ms\":5,\"trial_started_ms\":0, \"extra\":\"ignored\" }\n")
            .has_value());
}

TEST_CASE("anything else is not a state") {
  const std::string good = format_circuit(CircuitState{});
  for (const std::string& bad :
       {std::string(""), std::string("garbage"), good.substr(0, good.size() / 2), std::string("{}"),
        std::string("[1,2]"), std::string("{\"schema\":2,\"state\":\"closed\",\"consecutive_failures\":0,"
                                          "\"last_failure_ms\":0,\"trial_started_ms\":0}"),
        std::string("{\"schema\":1,\"state\":\"ajar\",\"consecutive_failures\":0,\"last_failure_ms\":0,"
                    "\"trial_started_ms\":0}"),
        std::string("{\"schema\":1,\"state\":\"open\",\"consecutive_failures\":-1,\"last_failure_ms\":0,"
                    "\"trial_started_ms\":0}"),
        good + "trailing", std::string("\x00\xff", 2)}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_circuit(bad).has_value());
  }
}

TEST_CASE("threshold consecutive failed runs open the circuit - a success resets the count") {
  CircuitState s;
  const auto cfg = settings(3);
  record_run(s, cfg, RunOutcome::exhausted, false, 1000);
  record_run(s, cfg, RunOutcome::fatal, false, 2000);
  CHECK(s.phase == Phase::closed);
  record_run(s, cfg, RunOutcome::success, false, 3000);
  CHECK(s.consecutive_failures == 0);
  for (std::int64_t t : {4000, 5000}) record_run(s, cfg, RunOutcome::exhausted, false, t);
  CHECK(s.phase == Phase::closed);
  record_run(s, cfg, RunOutcome::deadline, false, 6000);
  CHECK(s.phase == Phase::open);
  CHECK(s.consecutive_failures == 3);
  CHECK(s.last_failure_ms == 6000);
}

TEST_CASE("open refuses within the cooldown then lets one trial through") {
  CircuitState s{Phase::open, 3, 0, 0};
  const auto cfg = settings();
  CircuitAdmission refused = admit(s, cfg, 5 * minute - 1);
  CHECK_FALSE(refused.allowed);
  CHECK(contains(refused.message, "next run allowed in 1ms"));
  CHECK(refused.problem.empty());
  CHECK(refused.message.find("circuit open: 3 consecutive failed runs") != std::string::npos);
  CircuitAdmission trial = admit(s, cfg, 5 * minute);
  CHECK(trial.allowed);
  CHECK(trial.trial);
  CHECK(s.phase == Phase::half_open);
  // While the trial runs, others are refused.
  CHECK_FALSE(admit(s, cfg, 5 * minute + 10).allowed);
  // A trial that never reported back for a cooldown: another may try.
  CHECK(admit(s, cfg, 10 * minute + 1).trial);
}

TEST_CASE("the trial's outcome closes or reopens") {
  const auto cfg = settings(5);
  CircuitState s{Phase::half_open, 5, 0, 1000};
  record_run(s, cfg, RunOutcome::success, true, 2000);
  CHECK(s.phase == Phase::closed);
  CHECK(s.consecutive_failures == 0);

  CircuitState f{Phase::half_open, 5, 0, 1000};
  record_run(f, cfg, RunOutcome::exhausted, true, 2000);
  CHECK(f.phase == Phase::open);
  CHECK(f.last_failure_ms == 2000);
  CHECK(f.consecutive_failures == 6);

  CircuitState i{Phase::half_open, 5, 500, 1000};
  record_run(i, cfg, RunOutcome::interrupted, true, 2000);
  CHECK(i.phase == Phase::open);
  CHECK(i.last_failure_ms == 500);  // the next run may try at once after the cooldown
}

TEST_CASE("closed admits - interrupted runs count for nothing") {
  CircuitState s;
  CHECK(admit(s, settings(), 0).allowed);
  CHECK_FALSE(admit(s, settings(), 0).trial);
  record_run(s, settings(), RunOutcome::interrupted, false, 10);
  CHECK(s.consecutive_failures == 0);
}

TEST_CASE("times no clock gives are not a state: before 1970, after 9999") {
  auto state = [](const std::string& last, const std::string& trial) {
    return parse_circuit("{\"schema\":1,\"state\":\"open\",\"consecutive_failures\":3,\"last_failure_ms\":" +
                         last + ",\"trial_started_ms\":" + trial + "}");
  };
  CHECK(state("253402300799999", "0").has_value());  // 9999-12-31T23:59:59.999Z
  CHECK(state("0", "253402300799999").has_value());
  for (const std::string bad : {"253402300800000", "9223372036854775807", "-1", "-9223372036854775808"}) {
    CAPTURE(bad);
    CHECK_FALSE(state(bad, "0").has_value());
    CHECK_FALSE(state("0", bad).has_value());
  }
}

TEST_CASE("admit: no overflow whatever the times") {
  const auto cfg = settings();
  // Long ago beyond any sum: the cooldown is over.
  CircuitState old{Phase::open, 3, int64_min, 0};
  CHECK(admit(old, cfg, now).trial);
  CircuitState old_trial{Phase::half_open, 3, 0, int64_min};
  CHECK(admit(old_trial, cfg, now).trial);
  // The furthest future: counted from now (below), not wrapped round to the past.
  CircuitState far{Phase::open, 3, int64_max, 0};
  const CircuitAdmission refused = admit(far, cfg, now);
  CHECK_FALSE(refused.allowed);
  CHECK(contains(refused.message, "next run allowed in 5m"));
  CircuitState far_trial{Phase::half_open, 3, 0, int64_max};
  CHECK_FALSE(admit(far_trial, cfg, now).allowed);
}

TEST_CASE("a time after now counts as now: open for one cooldown from the first run that sees it") {
  const auto cfg = settings();
  CircuitState s{Phase::open, 3, now + 60 * minute, 0};
  const CircuitAdmission first = admit(s, cfg, now);
  CHECK_FALSE(first.allowed);
  CHECK(s.last_failure_ms == now);  // kept: the next runs count from here
  CHECK(contains(first.problem, "the last failed run is dated 1h in the future"));
  CHECK(contains(first.message, "the last 0ms ago; next run allowed in 5m"));
  const CircuitAdmission second = admit(s, cfg, now + minute);
  CHECK_FALSE(second.allowed);
  CHECK(second.problem.empty());  // said once
  CHECK(admit(s, cfg, now + 5 * minute).trial);

  // A trial dated in the future holds the circuit one cooldown from now.
  CircuitState h{Phase::half_open, 3, 0, now + 60 * minute};
  const CircuitAdmission during = admit(h, cfg, now);
  CHECK_FALSE(during.allowed);
  CHECK(contains(during.problem, "the trial run is dated 1h in the future"));
  CHECK(h.trial_started_ms == now);
  CHECK(admit(h, cfg, now + 5 * minute).trial);

  // A closed circuit's last failure matters to no decision: nothing to say.
  CircuitState c{Phase::closed, 1, now + 60 * minute, 0};
  CHECK(admit(c, cfg, now).problem.empty());
}

TEST_CASE("the failure count saturates instead of wrapping to 0") {
  CircuitState s{Phase::closed, std::numeric_limits<std::uint64_t>::max(), 0, 0};
  record_run(s, settings(), RunOutcome::exhausted, false, now);
  CHECK(s.consecutive_failures == std::numeric_limits<std::uint64_t>::max());
  CHECK(s.phase == Phase::open);
}

TEST_CASE("a lock that fails is reported - the run goes on - and the state file's problem too") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/state.json";
  write(path, "garbage");
  flock_errno = ENOLCK;
  FileCircuit circuit({path, 1, std::chrono::minutes(5)});
  const CircuitAdmission admission = circuit.before_run();
  CHECK(admission.allowed);
  CHECK(contains(admission.problem, "cannot lock " + path + ".lock: No locks available; going on without the lock"));
  CHECK(contains(admission.problem, path + " is not a circuit state this retryx wrote (treated as closed)"));
  // After the run: the same lock failure was reported already; the state is written.
  CHECK(circuit.after_run(RunOutcome::exhausted).problem.empty());
  CHECK(contains(file_text(path), "\"state\":\"open\""));
  flock_errno = 0;

  // A lock that fails only after the run is reported then.
  FileCircuit later({path, 1, std::chrono::minutes(0)});
  CHECK(later.before_run().problem.empty());
  flock_errno = ENOLCK;
  CHECK(contains(later.after_run(RunOutcome::success).problem, "cannot lock"));
  flock_errno = 0;
  CHECK(contains(file_text(path), "\"state\":\"closed\""));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a lock file that cannot be opened and an unreadable state: both reported") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/state.json";
  std::filesystem::create_directory(path + ".lock");  // open(O_RDWR) fails: EISDIR
  write(path, "{}");
  const CircuitAdmission admission = FileCircuit({path, 3, std::chrono::minutes(5)}).before_run();
  CHECK(admission.allowed);
  CHECK(contains(admission.problem, "cannot lock " + path + ".lock: Is a directory"));
  CHECK(contains(admission.problem, "not a circuit state this retryx wrote (treated as closed)"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a state file dated in the future is rewritten from now") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/state.json";
  CircuitState future{Phase::open, 3, unix_now_ms() + 3'600'000, 0};
  write(path, format_circuit(future));
  FileCircuit first({path, 3, std::chrono::minutes(5)});
  const CircuitAdmission refused = first.before_run();
  CHECK_FALSE(refused.allowed);
  CHECK(contains(refused.problem, "in the future"));
  const auto kept = parse_circuit(file_text(path));
  REQUIRE(kept.has_value());
  CHECK(kept->last_failure_ms <= unix_now_ms());
  FileCircuit second({path, 3, std::chrono::minutes(5)});
  CHECK(second.before_run().problem.empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("the circuit says when a run's end opened or closed it") {
  const CircuitSettings settings{"unused", 3, std::chrono::minutes(5)};
  CircuitState closed_two{Phase::closed, 2, 1000, 0};
  CircuitState opened{Phase::open, 3, 2000, 0};
  CircuitChange change = describe_change(closed_two, opened, RunOutcome::exhausted, settings);
  CHECK(change.transition == "opened");
  CHECK(change.message == "circuit opened: 3 consecutive failed runs; runs are refused for 5m");

  CircuitState trial{Phase::half_open, 3, 2000, 3000};
  change = describe_change(trial, CircuitState{Phase::open, 4, 4000, 0}, RunOutcome::fatal, settings);
  CHECK(change.transition == "opened");
  CHECK(change.message == "circuit opened again: the trial run failed; runs are refused for 5m");

  change = describe_change(trial, CircuitState{}, RunOutcome::success, settings);
  CHECK(change.transition == "closed");
  CHECK(change.message == "circuit closed: the trial run succeeded");
  change = describe_change(opened, CircuitState{}, RunOutcome::success, settings);
  CHECK(change.transition == "closed");
  CHECK(change.message == "circuit closed: a run succeeded");

  // No change of phase: nothing to say.
  CHECK(describe_change(CircuitState{}, closed_two, RunOutcome::exhausted, settings).transition.empty());
  CHECK(describe_change(closed_two, CircuitState{}, RunOutcome::success, settings).transition.empty());
  CHECK(describe_change(opened, opened, RunOutcome::circuit_open, settings).transition.empty());
  // An interrupted trial puts the circuit back to open without a failure: not "opened".
  CHECK(describe_change(trial, CircuitState{Phase::open, 3, 2000, 0}, RunOutcome::interrupted, settings)
            .transition.empty());

  // Through the file: the third failed run opens it, a trial's success closes it.
  const std::string dir = temp_dir();
  const CircuitSettings file{dir + "/state.json", 3, std::chrono::milliseconds(1)};
  for (int run = 1; run <= 3; ++run) {
    FileCircuit circuit(file);
    REQUIRE(circuit.before_run().allowed);
    CHECK(circuit.after_run(RunOutcome::exhausted).transition == (run == 3 ? "opened" : ""));
  }
  // Wait out the 1 ms cooldown on the clock the circuit reads.
  const std::int64_t opened_at = unix_now_ms();
  while (unix_now_ms() < opened_at + 2) {
  }
  FileCircuit trial_run(file);
  REQUIRE(trial_run.before_run().trial);
  CHECK(trial_run.after_run(RunOutcome::success).transition == "closed");
  std::filesystem::remove_all(dir);
}
