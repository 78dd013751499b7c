#include <doctest/doctest.h>
#include <string>
#include <vector>

#include "cli.hpp"
#include "policy_builder.hpp"

using namespace retryx;
using namespace std::chrono_literals;

namespace {

std::string usage_error(const Values& values) {
  try {
    build_policy(values);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("no values: the defaults") {
  const Policy p = build_policy({});
  CHECK(p.max_attempts == 5u);
  CHECK(p.process.signal == 15);
  CHECK(p.process.kill_after == 10s);
  CHECK_FALSE(p.process.timeout.has_value());
  CHECK(format_conditions(p.classify.stop_on) == "126-127");
}

TEST_CASE("the command line wins over the environment") {
  Values values;
  values.environment["attempts"] = {"2", "RETRYX_ATTEMPTS"};
  CHECK(build_policy(values).max_attempts == 2u);
  values.command_line["attempts"] = {"3", "-a"};
  CHECK(build_policy(values).max_attempts == 3u);
}

TEST_CASE("errors name the value's source as the user wrote it") {
  Values values;
  values.command_line["timeout"] = {"soon", "-t"};
  CHECK(usage_error(values).starts_with("-t: invalid value 'soon': "));
  values.command_line.clear();
  values.environment["timeout"] = {"soon", "RETRYX_TIMEOUT"};
  CHECK(usage_error(values).starts_with("RETRYX_TIMEOUT: invalid value 'soon': "));
}

TEST_CASE("flags: set by the option, or by 1 in the environment") {
  Values values;
  values.command_line["preserve-status"] = {"", "--preserve-status"};
  CHECK(build_policy(values).process.preserve_status);
  values.command_line.clear();
  values.environment["preserve-status"] = {"1", "RETRYX_PRESERVE_STATUS"};
  CHECK(build_policy(values).process.preserve_status);
  values.environment["preserve-status"] = {"yes", "RETRYX_PRESERVE_STATUS"};
  CHECK(usage_error(values).find("use 1 or 0") != std::string::npos);
}

TEST_CASE("--idle-timeout: a duration, 0 means none, the duration rules") {
  Values values;
  CHECK_FALSE(build_policy(values).process.idle_timeout.has_value());
  values.command_line["idle-timeout"] = {"1m30s", "--idle-timeout"};
  CHECK(build_policy(values).process.idle_timeout == 90s);
  values.command_line["idle-timeout"] = {"0", "--idle-timeout"};
  CHECK_FALSE(build_policy(values).process.idle_timeout.has_value());
  // A positive duration never rounds to none.
  values.command_line["idle-timeout"] = {"0.0000000001", "--idle-timeout"};
  CHECK(build_policy(values).process.idle_timeout == Duration(1));
  values.command_line["idle-timeout"] = {"-1s", "--idle-timeout"};
  CHECK(usage_error(values) == "--idle-timeout: invalid value '-1s': a duration cannot be negative");
  values.command_line["idle-timeout"] = {"101d", "--idle-timeout"};
  CHECK(usage_error(values).starts_with("--idle-timeout: invalid value '101d': "));
  values.command_line.clear();
  values.environment["idle-timeout"] = {"soon", "RETRYX_IDLE_TIMEOUT"};
  CHECK(usage_error(values).starts_with("RETRYX_IDLE_TIMEOUT: invalid value 'soon': "));
  // It stands beside --timeout: neither replaces the other.
  values.environment.clear();
  values.command_line["idle-timeout"] = {"10s", "--idle-timeout"};
  values.command_line["timeout"] = {"1m", "-t"};
  const Policy p = build_policy(values);
  CHECK(p.process.idle_timeout == 10s);
  CHECK(p.process.timeout == 60s);
}

TEST_CASE("--fail-if-output: a PCRE2 pattern, a bad one names PCRE2's message and the offset") {
  Values values;
  values.command_line["fail-if-output"] = {"^W: (Failed to fetch|Some index files failed)", "--fail-if-output"};
  const Policy p = build_policy(values);
  CHECK(p.classify.output.fail_if == "^W: (Failed to fetch|Some index files failed)");
  CHECK(p.classify.output.any());
  values.command_line["fail-if-output"] = {"(unclosed", "--fail-if-output"};
  CHECK(usage_error(values) ==
        "--fail-if-output: invalid value '(unclosed': bad regular expression at offset 9: missing closing parenthesis");
  values.command_line.clear();
  values.environment["fail-if-output"] = {"a{2,1}", "RETRYX_FAIL_IF_OUTPUT"};
  CHECK(usage_error(values).starts_with("RETRYX_FAIL_IF_OUTPUT: invalid value 'a{2,1}': bad regular expression at offset"));
}

TEST_CASE("--delay-from-output: a PCRE2 pattern (captures output), a bad one names PCRE2's message") {
  Values values;
  values.command_line["delay-from-output"] = {"(?i)^Retry-After: *(.*?)\\r?$", "--delay-from-output"};
  const Policy p = build_policy(values);
  CHECK(p.classify.output.delay_from == "(?i)^Retry-After: *(.*?)\\r?$");
  CHECK(p.classify.output.any());  // output is captured, stderr too
  values.command_line["delay-from-output"] = {"(unclosed", "--delay-from-output"};
  CHECK(usage_error(values) ==
        "--delay-from-output: invalid value '(unclosed': bad regular expression at offset 9: missing closing parenthesis");
  values.command_line.clear();
  values.environment["delay-from-output"] = {"a{2,1}", "RETRYX_DELAY_FROM_OUTPUT"};
  CHECK(usage_error(values).starts_with("RETRYX_DELAY_FROM_OUTPUT: invalid value 'a{2,1}': bad regular expression"));
}

TEST_CASE("--delays: an empty list or item is said in one message") {
  Values values;
  values.command_line["delays"] = {"", "--delays"};
  CHECK(usage_error(values) == "--delays: invalid value '': no delays (expected a list such as 1s,5s,30s)");
  values.command_line["delays"] = {"1s,,2s", "--delays"};
  CHECK(usage_error(values) == "--delays: invalid value '1s,,2s': delay 2 is empty (expected a list such as 1s,5s,30s)");
  values.command_line["delays"] = {"1s,", "--delays"};
  CHECK(usage_error(values) == "--delays: invalid value '1s,': delay 2 is empty (expected a list such as 1s,5s,30s)");
  values.command_line["delays"] = {"1s,5min", "--delays"};
  CHECK(usage_error(values) ==
        "--delays: invalid value '1s,5min': '5min': unknown unit 'min' (did you mean '5m'? units: ms, s, m, h, d)");
  values.command_line["delays"] = {"1s,5s", "--delays"};
  CHECK(build_policy(values).backoff.delays == std::vector<Duration>{1s, 5s});
}

TEST_CASE("duration options name an unknown unit and the unit meant") {
  Values values;
  values.command_line["delay"] = {"5min", "--delay"};
  CHECK(usage_error(values) == "--delay: invalid value '5min': unknown unit 'min' (did you mean '5m'? units: ms, s, m, h, d)");
  values.command_line["delay"] = {"5 min", "--delay"};
  CHECK(usage_error(values) == "--delay: invalid value '5 min': unknown unit 'min' (did you mean '5m'? units: ms, s, m, h, d)");
  values.command_line.clear();
  values.environment["max-time"] = {"1hour", "RETRYX_MAX_TIME"};
  CHECK(usage_error(values) == "RETRYX_MAX_TIME: invalid value '1hour': unknown unit 'hour' (did you mean '1h'? units: ms, s, m, h, d)");
}

TEST_CASE("--log-format: text, json and the CI formats github and gitlab, from either source") {
  CHECK(build_policy({}).log.format == LogFormat::text);
  Values values;
  values.environment["log-format"] = {"gitlab", "RETRYX_LOG_FORMAT"};
  CHECK(build_policy(values).log.format == LogFormat::gitlab);
  values.command_line["log-format"] = {"github", "--log-format"};
  CHECK(build_policy(values).log.format == LogFormat::github);
  values.command_line["log-format"] = {"GitHub", "--log-format"};
  CHECK(usage_error(values) == "--log-format: invalid value 'GitHub': use text, json, github, gitlab");
}

TEST_CASE("a Redis LOCATION: accepted with --name - shown without its password") {
  Values values;
  values.command_line["name"] = {"nightly", "--name"};
  values.command_line["circuit"] = {"redis://ops:s3cret@10.0.0.5:6380/2", "--circuit"};
  values.command_line["retry-budget"] = {"unix:///run/redis/redis.sock", "--retry-budget"};
  const Policy p = build_policy(values);
  REQUIRE(p.circuit.location.has_value());
  CHECK(p.circuit.location->text == "redis://ops:s3cret@10.0.0.5:6380/2");
  CHECK(p.circuit.location->shown == "redis://ops:***@10.0.0.5:6380/2");
  CHECK(p.circuit.location->redis);
  CHECK_FALSE(p.circuit.location->tls);
  REQUIRE(p.budget.location.has_value());
  CHECK(p.budget.location->redis);
  CHECK(p.budget.location->shown == "unix:///run/redis/redis.sock");
  CHECK(describe_policy(p).find("s3cret") == std::string::npos);
  // The scheme in any case, as a URL's is; a file otherwise.
  values.command_line["circuit"] = {"REDISS://127.0.0.1", "--circuit"};
  CHECK(build_policy(values).circuit.location->tls);
  values.command_line["circuit"] = {"redis-state/circuit.json", "--circuit"};
  CHECK_FALSE(build_policy(values).circuit.location->redis);
  CHECK(build_policy(values).circuit.location->shown == "redis-state/circuit.json");
}

TEST_CASE("a Redis LOCATION: a bad URL is a usage error without the password - and --name is needed") {
  for (const std::string option : {"circuit", "retry-budget"}) {
    INFO(option);
    Values values;
    values.command_line["name"] = {"nightly", "--name"};
    values.command_line[option] = {"redis://ops:s3cret@host:99999", "--" + option};
    const std::string bad = usage_error(values);
    CHECK(bad.starts_with("--" + option + ": invalid Redis URL: "));
    CHECK(bad.find("s3cret") == std::string::npos);
    const std::string variable = option == "circuit" ? "RETRYX_CIRCUIT" : "RETRYX_RETRY_BUDGET";
    Values unnamed_values;
    unnamed_values.environment[option] = {"rediss://ops:s3cret@host", variable};
    const std::string unnamed = usage_error(unnamed_values);
    CHECK(unnamed == variable + ": a Redis LOCATION needs --name (the job's keys are retryx:{NAME}:...)");
    CHECK(unnamed.find("s3cret") == std::string::npos);
  }
}

TEST_CASE("a LOCATION that looks like a URL but not a Redis one: a usage error naming the scheme alone - not a file") {
  const std::string tail =
      "; a LOCATION that looks like a URL is not taken as a file path (for a file so named, write ./ before it)";
  for (const std::string option : {"circuit", "retry-budget"}) {
    INFO(option);
    const auto error_for = [&](const std::string& location) {
      Values values;
      values.command_line["name"] = {"j", "--name"};
      values.command_line[option] = {location, "--" + option};
      const std::string error = usage_error(values);
      CHECK(error.find("hunter2") == std::string::npos);
      return error;
    };
    // A Redis scheme with one '/': the review's case.
    CHECK(error_for("redis:/:hunter2@db.example") ==
          "--" + option + ": 'redis:' followed by one '/' is not a Redis URL (write redis://...)" + tail);
    CHECK(error_for("REDISS:/:hunter2@db.example:6380") ==
          "--" + option + ": 'REDISS:' followed by one '/' is not a Redis URL (write REDISS://...)" + tail);
    CHECK(error_for("unix:/run/hunter2.sock") ==
          "--" + option + ": 'unix:' followed by one '/' is not a Redis URL (write unix://...)" + tail);
    CHECK(error_for("redis:/") == "--" + option + ": 'redis:' followed by one '/' is not a Redis URL (write redis://...)" + tail);
    // Another scheme.
    CHECK(error_for("http://:hunter2@db.example") ==
          "--" + option + ": 'http:' is not a Redis URL scheme (redis://, rediss://, unix://)" + tail);
    CHECK(error_for("redis+tls://u:hunter2@db.example").starts_with("--" + option + ": 'redis+tls:' is not a Redis URL scheme"));
    CHECK(error_for("x-1.a:/hunter2").starts_with("--" + option + ": 'x-1.a:' is not a Redis URL scheme"));
    // From the environment: named by its variable.
    Values environment;
    environment.environment[option] = {"redis:/:hunter2@db.example",
                                       option == "circuit" ? "RETRYX_CIRCUIT" : "RETRYX_RETRY_BUDGET"};
    CHECK(usage_error(environment).starts_with(environment.environment[option].source + ": 'redis:' followed by one '/'"));
  }
  // Files, however their names look otherwise.
  for (const std::string file : {"./redis:/:x@db", "state/redis:/x", "redis:x", "redis", "1http://x", "-:/x", "_a:/x",
                                 "a b:/x", "/var/lib/retryx/circuit.json", ":/x", "C:\\x"}) {
    INFO(file);
    Values values;
    values.command_line["circuit"] = {file, "--circuit"};
    const Policy p = build_policy(values);
    REQUIRE(p.circuit.location.has_value());
    CHECK_FALSE(p.circuit.location->redis);
    CHECK(p.circuit.location->text == file);
  }
}

TEST_CASE("Redis TLS files (--redis-cacert and the client certificate): only for a rediss LOCATION") {
  Values values;
  values.command_line["redis-cacert"] = {"/etc/ca.pem", "--redis-cacert"};
  CHECK(usage_error(values) == "--redis-cacert: only for a rediss:// LOCATION (--circuit or --retry-budget)");
  values.command_line["name"] = {"job", "--name"};
  values.command_line["circuit"] = {"redis://127.0.0.1", "--circuit"};
  CHECK(usage_error(values) == "--redis-cacert: only for a rediss:// LOCATION (--circuit or --retry-budget)");
  values.command_line["retry-budget"] = {"rediss://127.0.0.1", "--retry-budget"};
  values.command_line["redis-cert"] = {"/etc/me.pem", "--redis-cert"};
  values.command_line["redis-key"] = {"/etc/me.key", "--redis-key"};
  Policy p = build_policy(values);
  CHECK(p.redis_tls.cacert == "/etc/ca.pem");
  CHECK(p.redis_tls.cert == "/etc/me.pem");
  CHECK(p.redis_tls.key == "/etc/me.key");
  values.command_line.erase("redis-cert");
  CHECK(usage_error(values) == "--redis-key: needs --redis-cert (the client certificate of the key)");
  values.command_line["redis-key"] = {"", "--redis-key"};
  CHECK(usage_error(values).starts_with("--redis-key: invalid value '': empty path"));
  // From the environment, where no LOCATION is rediss://, they are ignored.
  Values environment;
  environment.environment["redis-cacert"] = {"/etc/ca.pem", "RETRYX_REDIS_CACERT"};
  environment.environment["redis-key"] = {"/etc/me.key", "RETRYX_REDIS_KEY"};
  p = build_policy(environment);
  CHECK(p.redis_tls.cacert.empty());
  CHECK(p.redis_tls.key.empty());
}
