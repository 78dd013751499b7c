#include <doctest/doctest.h>
#include <string>

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

TEST_CASE("--delay-from-output: a PCRE2 pattern (captures output); a bad one names PCRE2's message") {
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
