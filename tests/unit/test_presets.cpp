#include <doctest/doctest.h>
#include <set>
#include <string>

#include "classify.hpp"
#include "cli.hpp"
#include "option_table.hpp"
#include "output_watch.hpp"
#include "policy_builder.hpp"
#include "presets.hpp"

using namespace retryx;

namespace {

Values with_preset(const std::string& name, std::map<std::string, Value> explicit_values = {}) {
  Values values;
  values.command_line = std::move(explicit_values);
  values.command_line["preset"] = Value{name, "--preset"};
  return values;
}

Policy policy_of(const std::string& name) { return build_policy(with_preset(name)); }

// An attempt that ended as `how` after printing `output` (lines joined by
// '\n'), matched as the process layer would.
AttemptResult attempt(Termination how, const std::string& output, const Policy& policy, bool timed_out = false) {
  OutputWatch watch(policy.classify.output);
  LineSplitter splitter;
  splitter.feed(output, watch);
  splitter.finish(watch);
  AttemptResult result{how};
  result.timed_out = timed_out;
  result.output = watch.matches();
  return result;
}

Verdict verdict(const std::string& preset, Termination how, const std::string& output = "", bool timed_out = false) {
  const Policy p = policy_of(preset);
  return classify(attempt(how, output, p, timed_out), p.classify).verdict;
}

constexpr auto retryable = Verdict::retryable;
constexpr auto fatal = Verdict::fatal;
constexpr auto success = Verdict::success;

}  // namespace

TEST_CASE("every preset: known options, values that parse, a source for every code") {
  const std::set<std::string_view> allowed = {"retry-on",        "stop-on",        "until-output",     "retry-if-output",
                                              "stop-if-output",  "fail-if-output", "delay-from-output"};
  CHECK(presets().size() == 7);
  for (const Preset& preset : presets()) {
    CAPTURE(preset.name);
    CHECK(find_preset(preset.name) == &preset);
    CHECK(!preset.summary.empty());
    for (const PresetOption& option : preset.options) {
      CAPTURE(option.option);
      CHECK(allowed.count(option.option) == 1);
      // The option exists (a preset must never set one the parser ignores).
      const OptionSpec* spec = find_by_first_long_name(option.option);
      REQUIRE(spec != nullptr);
      CHECK(spec->metavar != nullptr);
    }
    const Policy p = policy_of(std::string(preset.name));  // every value parses
    CHECK(p.preset == std::string(preset.name));
    CHECK(p.preset_replaced.empty());

    // Every code and condition of --retry-on and --stop-on is named by a source.
    Conditions documented;
    for (const PresetSource& source : preset.sources) {
      try {
        const Conditions c = parse_conditions(source.item);
        documented.codes.codes |= c.codes.codes;
        documented.signals |= c.signals;
        documented.timeout = documented.timeout || c.timeout;
      } catch (const ValueError&) {  // a message, not a code
      }
      CHECK(!source.meaning.empty());
      CHECK(!source.source.empty());
    }
    Conditions used = p.classify.stop_on;
    if (p.classify.retry_on) {
      used.codes.codes |= p.classify.retry_on->codes.codes;
      used.timeout = used.timeout || p.classify.retry_on->timeout;
      CHECK((p.classify.retry_on->codes.codes & p.classify.stop_on.codes.codes).none());
    }
    CHECK((used.codes.codes & ~documented.codes.codes).none());
    CHECK((!used.timeout || documented.timeout));
    // 126 and 127 (the command could not be run) stay fatal.
    CHECK(p.classify.stop_on.codes.contains(126));
    CHECK(p.classify.stop_on.codes.contains(127));
  }
  CHECK(find_preset("nope") == nullptr);
  CHECK(preset_names() == "curl, wget, git, ssh, rsync, apt, sysexits");
}

TEST_CASE("an unknown preset is a usage error that lists the presets") {
  CHECK_THROWS_WITH_AS(build_policy(with_preset("curly")),
                       "--preset: invalid value 'curly': no such preset (the presets: curl, wget, git, ssh, rsync, apt, "
                       "sysexits)",
                       UsageError);
}

TEST_CASE("an option given explicitly replaces the preset's value for that option alone") {
  const Policy p = build_policy(with_preset("curl", {{"retry-on", Value{"7", "--retry-on"}}}));
  CHECK(format_conditions(*p.classify.retry_on) == "7");
  CHECK(format_conditions(p.classify.stop_on) == "1-4,48,126-127");
  CHECK(p.classify.output.stop_if.has_value());
  CHECK(p.preset_replaced == std::vector<std::string>{"retry-on"});

  Values env = with_preset("sysexits");
  env.environment["stop-on"] = Value{"none", "RETRYX_STOP_ON"};
  const Policy q = build_policy(env);
  CHECK(q.classify.stop_on.empty());
  CHECK(format_conditions(*q.classify.retry_on) == "69,75,timeout");
  CHECK(q.preset_replaced == std::vector<std::string>{"stop-on"});

  Values from_env;
  from_env.environment["preset"] = Value{"ssh", "RETRYX_PRESET"};
  CHECK(build_policy(from_env).preset == "ssh");
  from_env.command_line["preset"] = Value{"git", "--preset"};
  CHECK(build_policy(from_env).preset == "git");  // the command line wins
  CHECK(build_policy({}).preset == std::nullopt);
}

TEST_CASE("curl: transient codes, HTTP 408, 429 and 5xx, not other 4xx") {
  const std::string e404 = "curl: (22) The requested URL returned error: 404";
  CHECK(verdict("curl", Exited{22}, "curl: (22) The requested URL returned error: 503") == retryable);
  CHECK(verdict("curl", Exited{22}, "curl: (22) The requested URL returned error: 500") == retryable);
  CHECK(verdict("curl", Exited{22}, "curl: (22) The requested URL returned error: 408") == retryable);
  CHECK(verdict("curl", Exited{22}, "curl: (22) The requested URL returned error: 429") == retryable);
  CHECK(verdict("curl", Exited{22}, e404) == fatal);
  CHECK(verdict("curl", Exited{22}, "curl: (22) The requested URL returned error: 400 Bad Request") == fatal);
  CHECK(verdict("curl", Exited{22}, "curl: (22) The requested URL returned error: 409") == fatal);
  CHECK(verdict("curl", Exited{22}, "") == retryable);  // -fs without -S: no status printed
  for (int code : {5, 6, 7, 16, 18, 28, 35, 52, 55, 56, 92, 95}) CHECK(verdict("curl", Exited{code}) == retryable);
  for (int code : {1, 2, 3, 4, 23, 48, 60, 126, 127}) CHECK(verdict("curl", Exited{code}) == fatal);
  CHECK(verdict("curl", Signaled{15}, "", true) == retryable);  // retryx's timeout
  CHECK(verdict("curl", Exited{0}, e404) == success);
}

TEST_CASE("curl and wget: Retry-After is the delay's text, CRLF or not, in any case") {
  for (const std::string name : {"curl", "wget"}) {
    CAPTURE(name);
    const Policy p = policy_of(name);
    CHECK(attempt(Exited{22}, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n\r\n", p, false).output.delay_text ==
          "3");
    CHECK(attempt(Exited{22}, "retry-after: Thu, 03 Dec 2026 00:37:32 GMT\r\n", p, false).output.delay_text ==
          "Thu, 03 Dec 2026 00:37:32 GMT");
    CHECK(attempt(Exited{8}, "  HTTP/1.1 503 Service Unavailable\n  Retry-After: 120\n", p, false).output.delay_text ==
          "120");
    CHECK_FALSE(attempt(Exited{22}, "X-Retry-After-Hint: 3\r\n", p, false).output.delay_text.has_value());
  }
}

TEST_CASE("wget: network failures and server errors other than 4xx") {
  CHECK(verdict("wget", Exited{4}, "failed: Connection refused.") == retryable);
  CHECK(verdict("wget", Exited{8}, "2026-12-03 00:37:54 ERROR 503: Service Unavailable.") == retryable);
  CHECK(verdict("wget", Exited{8}, "2026-12-03 00:37:54 ERROR 404: Not Found.") == fatal);
  CHECK(verdict("wget", Exited{8}, "2026-12-03 00:37:54 ERROR 429: Too Many Requests.") == fatal);
  for (int code : {1, 2, 3, 5, 6, 7}) CHECK(verdict("wget", Exited{code}) == fatal);
  CHECK(verdict("wget", Signaled{15}, "", true) == retryable);
}

TEST_CASE("git: exit 128 with the network's or the remote's words") {
  for (const char* line : {"fatal: unable to access 'https://h/r/': Could not resolve host: h",
                           "127.0.0.1[0: 127.0.0.1]: errno=Connection refused",
                           "fatal: unable to access 'http://h/r.git/': Failed to connect to h port 80 after 0 ms: "
                           "Couldn't connect to server",
                           "fatal: unable to access 'http://h/r.git/': The requested URL returned error: 503",
                           "fatal: The remote end hung up upon initial contact",
                           "fatal: the remote end hung up unexpectedly", "fatal: early EOF",
                           "error: RPC failed; curl 92 HTTP/2 stream 5 was not closed cleanly",
                           "ssh: connect to host h port 22: Connection timed out",
                           "fatal: unable to look up h (port 9418) (Name or service not known)",
                           "fatal: unable to access 'http://h/': Empty reply from server"}) {
    CAPTURE(line);
    CHECK(verdict("git", Exited{128}, line) == retryable);
    CHECK(verdict("git", Exited{1}, line) == fatal);
  }
  CHECK(verdict("git", Exited{128}, "fatal: repository 'http://h/r.git/' not found") == fatal);
  CHECK(verdict("git", Exited{128}, "fatal: unable to access 'http://h/': The requested URL returned error: 403") ==
        fatal);
  CHECK(verdict("git", Exited{128}, "git@h: Permission denied (publickey).\nfatal: Could not read from remote "
                                    "repository.") == fatal);
  CHECK(verdict("git", Exited{129}, "error: unknown option `nope'") == fatal);
}

TEST_CASE("ssh: 255 unless the login was refused, the remote command's status is fatal") {
  CHECK(verdict("ssh", Exited{255}, "ssh: connect to host h port 22: Connection refused") == retryable);
  CHECK(verdict("ssh", Exited{255}, "Connection timed out during banner exchange") == retryable);
  CHECK(verdict("ssh", Exited{255}, "root@127.0.0.1: Permission denied (publickey).") == fatal);
  CHECK(verdict("ssh", Exited{255}, "Permission denied (publickey,password).") == fatal);
  CHECK(verdict("ssh", Exited{255}, "Host key verification failed.") == fatal);
  CHECK(verdict("ssh", Exited{255}, "cat: /x: Permission denied") == retryable);  // not ssh's words
  for (int code : {1, 2, 3, 127}) CHECK(verdict("ssh", Exited{code}) == fatal);
  CHECK(verdict("ssh", Signaled{15}, "", true) == retryable);
}

TEST_CASE("rsync: socket, protocol stream, timeouts, and its ssh transport") {
  for (int code : {10, 12, 30, 35, 255}) CHECK(verdict("rsync", Exited{code}) == retryable);
  for (int code : {1, 2, 3, 4, 5, 11, 23, 24}) CHECK(verdict("rsync", Exited{code}) == fatal);
  CHECK(verdict("rsync", Exited{12}, "git@h: Permission denied (publickey).") == fatal);
}

TEST_CASE("apt: lock, fetch, resolution, hash sum, a fetch warning of an exit-0 update") {
  CHECK(verdict("apt", Exited{100}, "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 7") ==
        retryable);
  CHECK(verdict("apt", Exited{100}, "E: Failed to fetch http://h/p.deb  Hash Sum mismatch") == retryable);
  CHECK(verdict("apt", Exited{100}, "E: Unable to locate package nope") == fatal);
  // Not root: the lock cannot even be opened, and no retry mends that.
  CHECK(verdict("apt", Exited{100},
                "E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)\n"
                "E: Unable to lock directory /var/lib/apt/lists/") == fatal);
  CHECK(verdict("apt", Exited{100},
                "E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\n"
                "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?") == fatal);
  CHECK(verdict("apt", Exited{100}, "") == fatal);
  CHECK(verdict("apt", Exited{0},
                "W: Failed to fetch http://h/./InRelease  503  Service Unavailable\n"
                "W: Some index files failed to download. They have been ignored, or old ones used instead.") ==
        retryable);
  CHECK(verdict("apt", Exited{0}, "W: GPG error: http://h ./ InRelease: NO_PUBKEY 0123") == success);
  CHECK(verdict("apt", Exited{0}, "Reading package lists...") == success);
}

TEST_CASE("sysexits: EX_TEMPFAIL and EX_UNAVAILABLE retried, the other codes fatal") {
  CHECK(verdict("sysexits", Exited{75}) == retryable);
  CHECK(verdict("sysexits", Exited{69}) == retryable);
  for (int code = 64; code <= 78; ++code)
    if (code != 69 && code != 75) CHECK(verdict("sysexits", Exited{code}) == fatal);
  CHECK(verdict("sysexits", Exited{1}) == fatal);
  CHECK(verdict("sysexits", Signaled{15}, "", true) == retryable);
}
