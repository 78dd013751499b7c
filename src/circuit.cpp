#include "circuit.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.hpp"
#include "file_io.hpp"
#include "timestamp.hpp"

namespace retryx {

namespace {

std::string_view phase_name(CircuitState::Phase phase) {
  switch (phase) {
    case CircuitState::Phase::closed: return "closed";
    case CircuitState::Phase::open: return "open";
    case CircuitState::Phase::half_open: return "half_open";
  }
  return "closed";
}

// A flat JSON object of strings and integers: all the state file holds.
// Anything else (nesting, floats, escapes) is not ours: nullopt.
std::optional<std::map<std::string, std::string>> parse_flat_object(std::string_view text) {
  std::map<std::string, std::string> fields;
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r')) ++i;
  };
  auto read_string = [&]() -> std::optional<std::string> {
    if (i >= text.size() || text[i] != '"') return std::nullopt;
    const std::size_t end = text.find('"', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    std::string value(text.substr(i + 1, end - i - 1));
    if (value.find('\\') != std::string::npos) return std::nullopt;
    i = end + 1;
    return value;
  };
  skip_space();
  if (i >= text.size() || text[i++] != '{') return std::nullopt;
  skip_space();
  if (i < text.size() && text[i] == '}') return fields;
  while (true) {
    skip_space();
    auto key = read_string();
    skip_space();
    if (!key || i >= text.size() || text[i++] != ':') return std::nullopt;
    skip_space();
    std::string value;
    if (i < text.size() && text[i] == '"') {
      auto s = read_string();
      if (!s) return std::nullopt;
      value = *s;
    } else {
      const std::size_t start = i;
      if (i < text.size() && text[i] == '-') ++i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
      if (i == start) return std::nullopt;
      value = std::string(text.substr(start, i - start));
    }
    fields[*key] = value;
    skip_space();
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    if (i < text.size() && text[i] == '}') {
      ++i;
      break;
    }
    return std::nullopt;
  }
  skip_space();
  if (i != text.size()) return std::nullopt;
  return fields;
}

template <class T>
std::optional<T> number(const std::map<std::string, std::string>& fields, const std::string& key) {
  auto it = fields.find(key);
  if (it == fields.end()) return std::nullopt;
  T value{};
  const char* end = it->second.data() + it->second.size();
  auto [ptr, ec] = std::from_chars(it->second.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// The state file's times: 0 (never) up to the last millisecond of the year
// 9999. Anything else is not a time this retryx wrote, and so far from any
// clock that sums with it could overflow.
constexpr std::int64_t latest_time_ms = 253'402'300'799'999;

bool plausible_time(std::int64_t ms) { return ms >= 0 && ms <= latest_time_ms; }

// How long ago `then` was at `now`: 0 when it is not in the past, the
// largest value when the difference does not fit.
std::int64_t since(std::int64_t then, std::int64_t now) {
  std::int64_t elapsed = 0;
  if (then >= now) return 0;
  if (__builtin_sub_overflow(now, then, &elapsed)) return std::numeric_limits<std::int64_t>::max();
  return elapsed;
}

// Clamped to what a Duration (nanoseconds) holds: a corrupt time far off
// must not overflow the conversion.
std::string ago(std::int64_t ms) {
  constexpr std::int64_t most = std::numeric_limits<std::int64_t>::max() / 1'000'000 - 1;  // room to round
  return format_duration(std::chrono::milliseconds(std::clamp<std::int64_t>(ms, 0, most)));
}

std::string join_problems(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "; " + b;
}

// A time in the future (the clock was set back, or the file came from a
// host whose clock is ahead) counts as now, so that the circuit stays open
// at most one cooldown from the first run that sees it. Returns what was
// wrong, for the log, or an empty string.
std::string bring_back_to_now(std::int64_t& time_ms, const char* what, const CircuitSettings& settings,
                              std::int64_t now_ms) {
  if (time_ms <= now_ms) return "";
  const std::string problem =
      fmt::format("{}: {} is dated {} in the future (the clock was set back, or the file comes from another "
                  "host); counted from now",
                  settings.path, what, ago(since(now_ms, time_ms)));
  time_ms = now_ms;
  return problem;
}

// --- The file side ----------------------------------------------------------

// Holds flock on PATH.lock for one read-modify-write.
class Lock {
 public:
  explicit Lock(const std::string& path) {
    const std::string lock_path = path + ".lock";
    fd_.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd_ && errno == ENOENT) {
      // The directory went missing: make it, so the state can be repaired.
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
      error_ = ec ? fmt::format("cannot create the directory of {}: {}", path, ec.message())
                  : fmt::format("the directory of {} was missing; created it (treated as closed)", path);
      fd_.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    }
    int locked = fd_ ? 0 : -1;
    while (fd_ && (locked = ::flock(fd_.get(), LOCK_EX)) != 0 && errno == EINTR) {
    }
    if (locked != 0)  // the run goes on, unprotected from concurrent runs (spec §7)
      error_ = join_problems(
          error_, fmt::format("cannot lock {}: {}; going on without the lock", lock_path, std::strerror(errno)));
  }
  const std::string& error() const { return error_; }

 private:
  UniqueFd fd_;  // closing it releases the lock
  std::string error_;
};

// The state in the file, or a closed state when it cannot be used, with a
// message added to problem; a missing file is the first run's normal case
// and gives a closed state silently.
CircuitState read_state(const std::string& path, std::string& problem) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno != ENOENT)
      problem = join_problems(problem, fmt::format("cannot read {}: {} (treated as closed)", path, std::strerror(errno)));
    return {};
  }
  std::string text;  // a state is a line: more than 64 KiB is not one
  if (!read_all(fd.get(), text, 65536)) {
    problem = join_problems(problem, fmt::format("cannot read {}: {} (treated as closed)", path, std::strerror(errno)));
    return {};
  }
  if (auto state = parse_circuit(text)) return *state;
  problem = join_problems(problem, fmt::format("{} is {} (treated as closed)", path,
                                               text.empty() ? "empty" : "not a circuit state this retryx wrote"));
  return {};
}

// Written beside the file, then renamed over it. Always under a Lock, which
// has made the directory if it went missing.
std::string write_state(const std::string& path, const CircuitState& state) {
  const std::string error = replace_file(path, format_circuit(state), 0644);
  return error.empty() ? "" : fmt::format("cannot write {}: {}", path, error);
}

}  // namespace

std::string format_circuit(const CircuitState& s) {
  return fmt::format(
      "{{\"schema\":1,\"state\":\"{}\",\"consecutive_failures\":{},\"last_failure_ms\":{},\"trial_started_ms\":{}}}\n",
      phase_name(s.phase), s.consecutive_failures, s.last_failure_ms, s.trial_started_ms);
}

std::optional<CircuitState> parse_circuit(const std::string& text) {
  const auto fields = parse_flat_object(text);
  if (!fields || number<int>(*fields, "schema") != 1) return std::nullopt;
  CircuitState state;
  const auto phase = fields->find("state");
  if (phase == fields->end()) return std::nullopt;
  if (phase->second == "closed") state.phase = CircuitState::Phase::closed;
  else if (phase->second == "open") state.phase = CircuitState::Phase::open;
  else if (phase->second == "half_open") state.phase = CircuitState::Phase::half_open;
  else return std::nullopt;
  const auto failures = number<std::uint64_t>(*fields, "consecutive_failures");
  const auto last = number<std::int64_t>(*fields, "last_failure_ms");
  const auto trial = number<std::int64_t>(*fields, "trial_started_ms");
  if (!failures || !last || !trial || !plausible_time(*last) || !plausible_time(*trial)) return std::nullopt;
  state.consecutive_failures = *failures;
  state.last_failure_ms = *last;
  state.trial_started_ms = *trial;
  return state;
}

CircuitAdmission admit(CircuitState& state, const CircuitSettings& settings, std::int64_t now_ms) {
  const std::int64_t cooldown = std::chrono::duration_cast<std::chrono::milliseconds>(settings.cooldown).count();
  switch (state.phase) {
    case CircuitState::Phase::closed: return {};
    case CircuitState::Phase::open: {
      std::string problem = bring_back_to_now(state.last_failure_ms, "the last failed run", settings, now_ms);
      const std::int64_t waited = since(state.last_failure_ms, now_ms);
      if (waited < cooldown) {
        return {false, false,
                fmt::format("circuit open: {} consecutive failed run{}, the last {} ago; next run allowed in {}",
                            state.consecutive_failures, state.consecutive_failures == 1 ? "" : "s", ago(waited),
                            ago(cooldown - waited)),
                std::move(problem), {}};
      }
      break;
    }
    case CircuitState::Phase::half_open: {
      std::string problem = bring_back_to_now(state.trial_started_ms, "the trial run", settings, now_ms);
      const std::int64_t waited = since(state.trial_started_ms, now_ms);
      if (waited < cooldown) {
        return {false, false, fmt::format("circuit half-open: a trial run started {} ago is under way", ago(waited)),
                std::move(problem), {}};
      }
      break;
    }
  }
  // After the cooldown (or a trial that never reported back): one trial run.
  state.phase = CircuitState::Phase::half_open;
  state.trial_started_ms = now_ms;
  return {true, true, "circuit half-open: this run is the trial", {}, {}};
}

void record_run(CircuitState& state, const CircuitSettings& settings, RunOutcome outcome, bool trial,
                std::int64_t now_ms) {
  switch (outcome) {
    case RunOutcome::success:
      state = CircuitState{};
      return;
    case RunOutcome::interrupted:
      // Neither success nor failure; an interrupted trial lets the next run try.
      if (trial) {
        state.phase = CircuitState::Phase::open;
        state.trial_started_ms = 0;
      }
      return;
    case RunOutcome::circuit_open: return;
    case RunOutcome::exhausted:
    case RunOutcome::budget:
    case RunOutcome::fatal:
    case RunOutcome::deadline: break;
  }
  if (state.consecutive_failures < std::numeric_limits<std::uint64_t>::max()) ++state.consecutive_failures;
  state.last_failure_ms = now_ms;
  if (trial || state.consecutive_failures >= settings.threshold) {
    state.phase = CircuitState::Phase::open;
    state.trial_started_ms = 0;
  }
}

CircuitAdmission FileCircuit::before_run() {
  const Lock lock(settings_.path);
  std::string problem = lock.error();
  CircuitState state = read_state(settings_.path, problem);
  const CircuitState before = state;
  CircuitAdmission admission = admit(state, settings_, unix_now_ms());
  trial_ = admission.trial;
  problem = join_problems(problem, admission.problem);
  // The trial, or a time brought back to now, is kept for the next runs.
  if (state != before) problem = join_problems(problem, write_state(settings_.path, state));
  admission.problem = problem;
  lock_error_ = lock.error();
  return admission;
}

CircuitChange describe_change(const CircuitState& before, const CircuitState& after, RunOutcome outcome,
                              const CircuitSettings& settings) {
  using Phase = CircuitState::Phase;
  CircuitChange change;
  const bool failed = outcome == RunOutcome::exhausted || outcome == RunOutcome::fatal ||
                      outcome == RunOutcome::deadline || outcome == RunOutcome::budget;
  if (failed && after.phase == Phase::open && before.phase != Phase::open) {
    change.transition = "opened";
    change.message = before.phase == Phase::half_open
                         ? fmt::format("circuit opened again: the trial run failed; runs are refused for {}",
                                       format_duration(settings.cooldown))
                         : fmt::format("circuit opened: {} consecutive failed runs; runs are refused for {}",
                                       after.consecutive_failures, format_duration(settings.cooldown));
  } else if (after.phase == Phase::closed && before.phase != Phase::closed) {
    change.transition = "closed";
    change.message = before.phase == Phase::half_open ? "circuit closed: the trial run succeeded"
                                                      : "circuit closed: a run succeeded";
  }
  return change;
}

CircuitChange FileCircuit::after_run(RunOutcome outcome) {
  const Lock lock(settings_.path);
  // The state file's problems were reported before the run; a lock that
  // fails only now is news.
  std::string problem = lock.error() == lock_error_ ? "" : lock.error();
  std::string ignored;
  CircuitState state = read_state(settings_.path, ignored);
  const CircuitState before = state;
  record_run(state, settings_, outcome, trial_, unix_now_ms());
  CircuitChange change = describe_change(before, state, outcome, settings_);
  change.problem = join_problems(problem, write_state(settings_.path, state));
  return change;
}

}  // namespace retryx
