#pragma once
// The policy: everything the command line and RETRYX_* decided, resolved and
// validated. cli builds it; the attempt loop, backoff, classifier, log and
// --dry-run read it. Plain data, no behaviour.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conditions.hpp"
#include "duration.hpp"

namespace retryx {

enum class BackoffKind { exponential, linear, fixed, fibonacci, decorrelated };

struct Jitter {
  enum class Kind { none, full, equal, proportional };
  Kind kind = Kind::equal;
  double proportion = 0;  // for proportional: the delay varies by ±proportion (0 < P <= 1)
};

struct BackoffPolicy {
  BackoffKind kind = BackoffKind::exponential;
  Duration delay = std::chrono::seconds(1);       // d, the base delay
  Duration max_delay = std::chrono::seconds(60);  // cap on any one delay
  double multiplier = 2;                          // X, for exponential
  std::vector<Duration> delays;                   // --delays: replaces kind when not empty
  Jitter jitter;                                  // not applied to decorrelated
};

// Regular expressions (PCRE2) matched against each line an attempt prints.
struct OutputPatterns {
  std::optional<std::string> until;     // --until-output: success needs a matching line
  std::optional<std::string> retry_if;  // --retry-if-output: a failure is retried only with one
  std::optional<std::string> stop_if;   // --stop-if-output: a failure with one is never retried
  std::optional<std::string> fail_if;   // --fail-if-output: a success code with one is a failure
  // --delay-from-output: the last matching line of a failed attempt says
  // how long to wait (its first capture group, or the whole match).
  std::optional<std::string> delay_from;
  bool any() const { return until || retry_if || stop_if || fail_if || delay_from; }
};

struct ClassifyPolicy {
  CodeSet success;                      // --success
  std::optional<Conditions> retry_on;   // --retry-on; nullopt: every failure
  Conditions stop_on;                   // --stop-on; wins over retry_on
  OutputPatterns output;
};

enum class Verbosity { quiet, normal, verbose };
// github, gitlab: the text log with CI markers (ci_log.hpp).
enum class LogFormat { text, json, github, gitlab };
enum class ColorMode { automatic, always, never };

// Where the attempt log and the report go (spec §6).
struct LogPolicy {
  LogFormat format = LogFormat::text;
  std::optional<std::string> file;    // --log-file: appended to instead of stderr
  ColorMode color = ColorMode::automatic;
  std::optional<std::string> report;  // --report PATH
  std::optional<std::string> metrics_file;  // --metrics-file PATH (spec §10)
};

enum class StdinMode { inherit, replay, null };

// How each attempt's process is supervised (spec §4).
struct ProcessPolicy {
  std::optional<Duration> timeout;                    // limit on each attempt (and hook)
  std::optional<Duration> idle_timeout;               // stop an attempt silent this long (as on timeout)
  int signal = 15;                                    // sent at the timeout (SIGTERM)
  Duration kill_after = std::chrono::seconds(10);     // then SIGKILL after this grace
  bool preserve_status = false;                       // timed out: the command's status, not 124
  bool foreground = false;                            // no process group of the attempt's own
  bool hold_stdout = false;                           // stdout only from the attempt that succeeds
  bool output_on_failure = false;                     // everything held, written out only if the run fails
  StdinMode stdin_mode = StdinMode::inherit;
};

struct HookPolicy {
  std::optional<std::string> on_retry;   // /bin/sh -c, after a failed attempt that will be retried
  std::optional<std::string> on_giveup;  // /bin/sh -c, once when retryx gives up
};

// A --circuit or --retry-budget LOCATION (spec §11): a file, or a Redis
// URL (redis://, rediss://, unix://), checked when the policy is built.
struct StoreLocation {
  std::string text;    // as given: the file's path, or the URL (which may hold a password: never shown)
  std::string shown;   // for the log, the JSON log and --dry-run: the path, or the URL with *** for its password
  bool redis = false;  // a Redis URL
  bool tls = false;    // a rediss:// URL
  bool operator==(const StoreLocation&) const = default;
};

// --redis-cacert, --redis-cert, --redis-key: TLS for a rediss:// LOCATION.
struct RedisTlsPolicy {
  std::string cacert, cert, key;  // empty: not given (the system's CAs; no client certificate)
};

// --circuit: a breaker shared by the runs of one job (spec §7, §11).
struct CircuitPolicy {
  std::optional<StoreLocation> location;
  std::uint64_t threshold = 3;
  Duration cooldown = std::chrono::minutes(5);
};

// --retry-budget: retries of all the runs sharing LOCATION stay within a
// budget (spec §11).
struct BudgetPolicy {
  std::optional<StoreLocation> location;
  std::uint64_t ratio_ppm = 200000;     // --budget-ratio in millionths (20%)
  std::uint64_t min = 10;               // --budget-min
  Duration window = std::chrono::minutes(1);
};

struct Policy {
  std::optional<std::string> name;           // --name: the job's name (letters, digits, . _ -)
  std::optional<std::uint64_t> max_attempts = 5;  // nullopt: --forever
  BackoffPolicy backoff;
  std::optional<std::uint64_t> seed;      // nullopt: seeded from the OS
  std::optional<Duration> reset_after;    // an attempt at least this long restarts the backoff
  Duration splay{0};                      // random sleep in [0, splay] before attempt 1
  std::optional<Duration> max_time;       // bound on the whole run, sleeps included
  ClassifyPolicy classify;
  ProcessPolicy process;
  HookPolicy hooks;
  LogPolicy log;
  CircuitPolicy circuit;
  BudgetPolicy budget;
  RedisTlsPolicy redis_tls;
  Verbosity verbosity = Verbosity::normal;
  std::optional<std::string> preset;        // --preset NAME (its values are in classify)
  std::vector<std::string> preset_replaced;  // its options given explicitly: "retry-on", ...
};

using Command = std::vector<std::string>;

}  // namespace retryx

namespace retryx {

std::string_view name(BackoffKind kind);  // "exponential", ...
std::string describe(const Jitter& jitter);  // "equal", "±20%"
// One line: attempts, backoff and its parameters, jitter, classification.
std::string describe_policy(const Policy& policy);

}  // namespace retryx
