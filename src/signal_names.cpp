#include "signal_names.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <fmt/format.h>

namespace retryx {

namespace {

struct Named {
  std::string_view name;  // without the "SIG" prefix
  int number;
};

// Linux's standard signals; SIGIOT and SIGPOLL are aliases kept for input.
constexpr Named table[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL},   {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},     {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD},   {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},       {"PWR", SIGPWR},       {"SYS", SIGSYS},   {"IOT", SIGIOT},
    {"POLL", SIGPOLL},
};

std::optional<int> parse_number(std::string_view digits) {
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  int value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool valid_signal(int n) { return n >= 1 && n < NSIG; }

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::string_view name = upper;
  if (name.starts_with("SIG")) {
    name.remove_prefix(3);
    if (auto n = parse_number(name)) return valid_signal(*n) ? n : std::nullopt;
  }
  for (const Named& entry : table)
    if (entry.name == name) return entry.number;

  // Real-time signals: RTMIN, RTMIN+n, RTMAX, RTMAX-n.
  for (auto [prefix, base, sign] : {std::tuple{std::string_view("RTMIN"), SIGRTMIN, +1},
                                    std::tuple{std::string_view("RTMAX"), SIGRTMAX, -1}}) {
    if (!name.starts_with(prefix)) continue;
    std::string_view rest = name.substr(prefix.size());
    if (rest.empty()) return base;
    if (rest.front() != (sign > 0 ? '+' : '-')) return std::nullopt;
    auto offset = parse_number(rest.substr(1));
    if (!offset) return std::nullopt;
    int n = base + sign * *offset;
    if (n < SIGRTMIN || n > SIGRTMAX) return std::nullopt;
    return n;
  }
  return std::nullopt;
}

std::string signal_name(int signal) {
  for (const Named& entry : table)
    if (entry.number == signal) return fmt::format("SIG{}", entry.name);
  // As the conditions read them (RTMIN+n), not a number that varies by libc.
  if (signal == SIGRTMIN) return "SIGRTMIN";
  if (signal > SIGRTMIN && signal <= SIGRTMAX) return fmt::format("SIGRTMIN+{}", signal - SIGRTMIN);
  return fmt::format("SIG{}", signal);
}

}  // namespace retryx
