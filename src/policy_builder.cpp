#include "policy_builder.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fmt/format.h>

#include "cli.hpp"
#include "presets.hpp"
#include "regex.hpp"
#include "run_identity.hpp"
#include "signal_names.hpp"
#include "store/redis_url.hpp"

namespace retryx {

namespace {

[[noreturn]] void bad_value(const Value& v, const std::string& why) {
  throw UsageError(fmt::format("{}: invalid value '{}': {}", v.source, v.text, why));
}

// A flag is set by its option, or by RETRYX_<NAME>=1.
bool flag(const Values& values, const std::string& name) {
  const auto v = values.get(name);
  if (!v) return false;
  if (v->source.starts_with("RETRYX_") && v->text != "1") bad_value(*v, "use 1 or 0");
  return true;
}

std::uint64_t parse_unsigned(const Value& v) {
  std::uint64_t n = 0;
  const char* end = v.text.data() + v.text.size();
  auto [ptr, ec] = std::from_chars(v.text.data(), end, n);
  if (v.text.empty() || ec == std::errc::invalid_argument || ptr != end) bad_value(v, "not a whole number");
  if (ec == std::errc::result_out_of_range) bad_value(v, "out of range");
  return n;
}

// A plain decimal: digits with an optional fraction; no sign, exponent,
// "inf" or "nan".
double parse_decimal(const Value& v, std::string_view text) {
  const bool shape_ok = !text.empty() && text.find_first_not_of("0123456789.") == std::string_view::npos &&
                        std::count(text.begin(), text.end(), '.') <= 1 &&
                        text.find_first_of("0123456789") != std::string_view::npos;
  if (!shape_ok) bad_value(v, "not a number");
  const double x = std::strtod(std::string(text).c_str(), nullptr);
  if (!std::isfinite(x)) bad_value(v, "out of range");
  return x;
}

Duration duration_of(const Value& v) {
  try {
    return parse_duration(v.text);
  } catch (const ValueError& e) {
    bad_value(v, e.what());
  }
}

template <class Parse>
auto parsed_list(const Value& v, Parse parse) {
  try {
    return parse(v.text);
  } catch (const ValueError& e) {
    bad_value(v, e.what());
  }
}


Jitter jitter_of(const Value& v) {
  if (v.text == "none") return {Jitter::Kind::none, 0};
  if (v.text == "full") return {Jitter::Kind::full, 0};
  if (v.text == "equal") return {Jitter::Kind::equal, 0};
  std::string_view text = v.text;
  const bool percent = text.ends_with('%');
  if (percent) text.remove_suffix(1);
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string_view::npos)
    bad_value(v, "use none, full, equal, or a proportion P or P% (0 < P <= 1)");
  double p = parse_decimal(v, text) / (percent ? 100 : 1);
  if (!(p > 0 && p <= 1)) bad_value(v, "a proportion must be above 0 and at most 1 (100%)");
  return {Jitter::Kind::proportional, p};
}

std::vector<Duration> delays_of(const Value& v) {
  std::vector<Duration> delays;
  if (v.text.empty()) bad_value(v, "no delays (expected a list such as 1s,5s,30s)");
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = v.text.find(',', start);
    const std::string item = v.text.substr(start, comma - start);
    if (item.empty())
      bad_value(v, fmt::format("delay {} is empty (expected a list such as 1s,5s,30s)", delays.size() + 1));
    try {
      delays.push_back(parse_duration(item));
    } catch (const ValueError& e) {
      bad_value(v, fmt::format("'{}': {}", item, e.what()));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return delays;
}

// As timeout(1) -s: a name (TERM, SIGTERM, SIG15) or a number; 0 sends
// nothing at the timeout, only the KILL after --kill-after.
int signal_of(const Value& v) {
  if (auto signal = parse_signal(v.text)) return *signal;
  int n = 0;
  const char* end = v.text.data() + v.text.size();
  auto [ptr, ec] = std::from_chars(v.text.data(), end, n);
  if (!v.text.empty() && ec == std::errc() && ptr == end && n >= 0 && n < NSIG) return n;
  bad_value(v, "not a signal (e.g. TERM, SIGKILL, SIG9, 9, or 0 for none)");
}


// A regular expression, compiled once here so that a bad one is a usage error.
std::string pattern_of(const Value& v) {
  try {
    Regex check(v.text);
  } catch (const ValueError& e) {
    bad_value(v, e.what());
  }
  return v.text;
}

std::string path_of(const Value& v) {
  if (v.text.empty()) bad_value(v, "empty path");
  return v.text;
}

// The scheme of a LOCATION that looks like a URL (SCHEME:/..., SCHEME
// being a letter, then letters, digits, '+', '.' or '-'), with its ':';
// empty for anything else.
std::string_view url_scheme(std::string_view text) {
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || !letter(text[0]) || text.substr(colon + 1, 1) != "/") return {};
  for (const char c : text.substr(1, colon - 1))
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '.' && c != '-') return {};
  return text.substr(0, colon + 1);
}

bool same_nocase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return (x | 0x20) == (y | 0x20); });
}

// --circuit and --retry-budget: a file, or a Redis URL (redis://,
// rediss://, unix://; spec §11), read here so that a bad one stops the
// run before anything runs. The message names the option, never the
// value: a URL may hold a password. A LOCATION that looks like another
// URL (a mistyped scheme: redis:/, http://) is no file either: taken as
// a path, it would be created, and shown in the log, password and all.
StoreLocation location_of(const Value& v) {
  const std::string_view scheme = url_scheme(v.text);
  if (!scheme.empty() && !store::is_redis_url(v.text)) {
    const std::string_view name = scheme.substr(0, scheme.size() - 1);
    const bool ours = same_nocase(name, "redis") || same_nocase(name, "rediss") || same_nocase(name, "unix");
    const std::string what = ours ? fmt::format("'{}' followed by one '/' is not a Redis URL (write {}://...)", scheme, name)
                                  : fmt::format("'{}' is not a Redis URL scheme (redis://, rediss://, unix://)", scheme);
    throw UsageError(fmt::format("{}: {}; a LOCATION that looks like a URL is not taken as a file path (for a file "
                                 "so named, write ./ before it)",
                                 v.source, what));
  }
  if (!store::is_redis_url(v.text)) return {path_of(v), v.text, false, false};
  auto parsed = store::parse_redis_url(v.text, std::nullopt);
  if (const auto* why = std::get_if<std::string>(&parsed))
    throw UsageError(fmt::format("{}: invalid Redis URL: {}", v.source, *why));
  const auto& location = std::get<store::RedisLocation>(parsed);
  return {v.text, store::describe_location(location), true, location.transport == store::RedisLocation::Transport::tls};
}

// A Redis LOCATION needs --name: the job's keys are retryx:{NAME}:...
void check_redis_name(const Values& values, const Policy& p) {
  for (const auto& [option, location] : {std::pair{"circuit", p.circuit.location}, std::pair{"retry-budget", p.budget.location}})
    if (location && location->redis && !p.name)
      throw UsageError(fmt::format("{}: a Redis LOCATION needs --name (the job's keys are retryx:{{NAME}}:...)",
                                   values.get(option)->source));
}

// --redis-cacert, --redis-cert, --redis-key: TLS for a rediss:// LOCATION.
// Given on the command line without one, they would be silently unused (a
// plain redis:// URL sends its password in clear): a usage error. From
// RETRYX_REDIS_* (set for a whole machine, say) they are ignored there.
RedisTlsPolicy redis_tls_of(const Values& values, const Policy& p) {
  const bool tls = (p.circuit.location && p.circuit.location->tls) || (p.budget.location && p.budget.location->tls);
  RedisTlsPolicy files;
  for (const auto& [option, file] :
       {std::pair{"redis-cacert", &files.cacert}, std::pair{"redis-cert", &files.cert}, std::pair{"redis-key", &files.key}}) {
    const auto v = values.get(option);
    if (!v) continue;
    if (!tls && values.command_line.count(option))
      throw UsageError(fmt::format("{}: only for a rediss:// LOCATION (--circuit or --retry-budget)", v->source));
    if (tls) *file = path_of(*v);
  }
  if (!files.key.empty() && files.cert.empty())
    throw UsageError(fmt::format("{}: needs --redis-cert (the client certificate of the key)", values.get("redis-key")->source));
  return files;
}

// A proportion from 0 to 1 (0.2) or 0% to 100% (20%), exactly, in
// millionths: floor(min + ratio x runs) must not depend on how 0.29 rounds.
std::uint64_t millionths_of(const Value& v) {
  std::string_view text = v.text;
  const bool percent = text.ends_with('%');
  if (percent) text.remove_suffix(1);
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string fraction(dot == std::string_view::npos ? "" : text.substr(dot + 1));
  const bool digits_only = (std::string(whole) + fraction).find_first_not_of("0123456789") == std::string::npos;
  if (text.empty() || !digits_only || (whole.empty() && fraction.empty()) || whole.size() > 3)
    bad_value(v, "use a proportion from 0 to 1 (0.2) or a percentage (20%)");
  const std::size_t places = percent ? 4 : 6;  // a millionth either way
  if (fraction.size() > places && fraction.find_first_not_of('0', places) != std::string::npos)
    bad_value(v, "finer than a millionth");
  fraction.resize(places, '0');
  std::uint64_t n = 0;
  for (const char c : std::string(whole) + fraction) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  if (n > 1000000u) bad_value(v, "the ratio is at most 1 (100%)");
  return n;
}

// One of a few words; the error lists them.
template <class T>
T choice_of(const Value& v, std::initializer_list<std::pair<std::string_view, T>> choices) {
  std::vector<std::string_view> words;
  for (const auto& [word, value] : choices) {
    if (word == v.text) return value;
    words.push_back(word);
  }
  bad_value(v, fmt::format("use {}", fmt::join(words, ", ")));
}

std::string hook_of(const Value& v) {
  if (v.text.empty()) bad_value(v, "empty command");
  return v.text;
}

// --preset NAME: the preset's values go beneath those given explicitly
// (command line or RETRYX_*), option by option, and are then read like them.
void apply_preset(Values& values, Policy& p) {
  const auto v = values.get("preset");
  if (!v) return;
  const Preset* preset = find_preset(v->text);
  if (!preset) bad_value(*v, fmt::format("no such preset (the presets: {})", preset_names()));
  p.preset = std::string(preset->name);
  for (const PresetOption& option : preset->options) {
    const std::string name(option.option);
    if (values.get(name))
      p.preset_replaced.push_back(name);
    else
      values.preset[name] = Value{std::string(option.value), fmt::format("--preset {}", preset->name)};
  }
}

}  // namespace

Policy build_policy(const Values& given) {
  Policy p;
  Values values = given;
  apply_preset(values, p);
  if (auto v = values.get("attempts")) {
    p.max_attempts = parse_unsigned(*v);
    if (*p.max_attempts < 1) bad_value(*v, "at least 1 attempt is needed");
  }
  if (auto v = values.get("retries")) {
    const std::uint64_t retries = parse_unsigned(*v);
    if (retries == UINT64_MAX) bad_value(*v, "out of range");
    p.max_attempts = retries + 1;
  }
  if (flag(values, "forever")) p.max_attempts.reset();

  BackoffPolicy& b = p.backoff;
  if (auto v = values.get("backoff"))
    b.kind = choice_of<BackoffKind>(*v, {{"exponential", BackoffKind::exponential}, {"linear", BackoffKind::linear},
                            {"fixed", BackoffKind::fixed}, {"constant", BackoffKind::fixed},
                            {"fibonacci", BackoffKind::fibonacci}, {"decorrelated", BackoffKind::decorrelated}});
  if (auto v = values.get("delay")) b.delay = duration_of(*v);
  if (auto v = values.get("max-delay")) b.max_delay = duration_of(*v);
  if (auto v = values.get("multiplier")) {
    b.multiplier = parse_decimal(*v, v->text);
    if (b.multiplier < 1) bad_value(*v, "the multiplier must be at least 1");
  }
  if (auto v = values.get("delays")) {
    b.delays = delays_of(*v);
    b.jitter = {Jitter::Kind::none, 0};  // explicit delays are taken as they are...
  }
  if (auto v = values.get("jitter")) b.jitter = jitter_of(*v);  // ...unless jitter is asked for
  if (auto v = values.get("seed")) p.seed = parse_unsigned(*v);
  if (auto v = values.get("reset-after")) {
    Duration d = duration_of(*v);
    if (d > Duration::zero()) p.reset_after = d;  // 0 means none
  }
  if (auto v = values.get("splay")) p.splay = duration_of(*v);

  ClassifyPolicy& c = p.classify;
  c.success.codes.set(0);
  c.stop_on.codes.codes.set(126).set(127);
  if (auto v = values.get("success")) c.success = parsed_list(*v, parse_codes);
  if (auto v = values.get("retry-on")) {
    if (v->text == "none") bad_value(*v, "'none' is only for --stop-on (to never retry, use --attempts 1)");
    c.retry_on = parsed_list(*v, parse_conditions);
  }
  if (auto v = values.get("stop-on"))
    c.stop_on = v->text == "none" ? Conditions{} : parsed_list(*v, parse_conditions);

  if (auto v = values.get("max-time")) {
    const Duration d = duration_of(*v);
    if (d > Duration::zero()) p.max_time = d;  // 0 means none, as timeout(1)
  }
  ProcessPolicy& process = p.process;
  if (auto v = values.get("timeout")) {
    const Duration d = duration_of(*v);
    if (d > Duration::zero()) process.timeout = d;
  }
  if (auto v = values.get("idle-timeout")) {
    const Duration d = duration_of(*v);
    if (d > Duration::zero()) process.idle_timeout = d;  // 0 means none
  }
  if (auto v = values.get("signal")) process.signal = signal_of(*v);
  if (auto v = values.get("kill-after")) process.kill_after = duration_of(*v);
  process.preserve_status = flag(values, "preserve-status");
  process.foreground = flag(values, "foreground");
  if (auto v = values.get("stdin"))
    process.stdin_mode =
        choice_of<StdinMode>(*v, {{"inherit", StdinMode::inherit}, {"replay", StdinMode::replay}, {"null", StdinMode::null}});
  if (flag(values, "replay-stdin")) process.stdin_mode = StdinMode::replay;

  ClassifyPolicy& classify = p.classify;
  if (auto v = values.get("until-output")) classify.output.until = pattern_of(*v);
  if (auto v = values.get("retry-if-output")) classify.output.retry_if = pattern_of(*v);
  if (auto v = values.get("stop-if-output")) classify.output.stop_if = pattern_of(*v);
  if (auto v = values.get("fail-if-output")) classify.output.fail_if = pattern_of(*v);
  if (auto v = values.get("delay-from-output")) classify.output.delay_from = pattern_of(*v);
  process.hold_stdout = flag(values, "hold-stdout");
  process.output_on_failure = flag(values, "output-on-failure");

  if (auto v = values.get("name")) {
    if (const std::string problem = name_problem(v->text); !problem.empty()) bad_value(*v, problem);
    p.name = v->text;
  }
  LogPolicy& log = p.log;
  if (auto v = values.get("log-format"))
    log.format = choice_of<LogFormat>(*v, {{"text", LogFormat::text}, {"json", LogFormat::json},
                                           {"github", LogFormat::github}, {"gitlab", LogFormat::gitlab}});
  if (auto v = values.get("log-file")) log.file = path_of(*v);
  if (auto v = values.get("color"))
    log.color = choice_of<ColorMode>(*v, {{"auto", ColorMode::automatic}, {"always", ColorMode::always}, {"never", ColorMode::never}});
  if (auto v = values.get("report")) log.report = path_of(*v);
  if (auto v = values.get("metrics-file")) log.metrics_file = path_of(*v);

  if (auto v = values.get("circuit")) p.circuit.location = location_of(*v);
  if (auto v = values.get("circuit-threshold")) {
    p.circuit.threshold = parse_unsigned(*v);
    if (p.circuit.threshold < 1) bad_value(*v, "at least 1 failed run is needed to open the circuit");
  }
  if (auto v = values.get("circuit-cooldown")) p.circuit.cooldown = duration_of(*v);

  if (auto v = values.get("retry-budget")) p.budget.location = location_of(*v);
  if (auto v = values.get("budget-ratio")) p.budget.ratio_ppm = millionths_of(*v);
  if (auto v = values.get("budget-min")) p.budget.min = parse_unsigned(*v);
  if (auto v = values.get("budget-window")) {
    p.budget.window = duration_of(*v);
    if (p.budget.window < std::chrono::milliseconds(1)) bad_value(*v, "a window of at least 1ms is needed");
  }

  check_redis_name(values, p);
  p.redis_tls = redis_tls_of(values, p);

  if (auto v = values.get("on-retry")) p.hooks.on_retry = hook_of(*v);
  if (auto v = values.get("on-giveup")) p.hooks.on_giveup = hook_of(*v);

  if (flag(values, "quiet")) p.verbosity = Verbosity::quiet;
  if (flag(values, "verbose")) p.verbosity = Verbosity::verbose;
  return p;
}


}  // namespace retryx
