#include "outcome.hpp"

#include <fmt/format.h>

#include "signal_names.hpp"

namespace retryx {

namespace {
template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;  // clang before 17 needs the guide
}  // namespace

int shell_status(const Termination& how) {
  return std::visit(Overloaded{[](const Exited& e) { return e.code; },
                               [](const Signaled& s) { return 128 + s.signal; },
                               [](const SpawnFailed& f) { return f.status; }},
                    how);
}

std::string describe(const Termination& how) {
  return std::visit(
      Overloaded{[](const Exited& e) { return fmt::format("exit code {}", e.code); },
                 [](const Signaled& s) { return fmt::format("killed by {}", signal_name(s.signal)); },
                 [](const SpawnFailed& f) { return f.error; }},
      how);
}

std::string_view name(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::success: return "success";
    case AttemptOutcome::retry: return "retry";
    case AttemptOutcome::fatal: return "fatal";
    case AttemptOutcome::exhausted: return "exhausted";
    case AttemptOutcome::deadline: return "deadline";
    case AttemptOutcome::interrupted: return "interrupted";
    case AttemptOutcome::budget: return "budget";
  }
  return "?";
}

std::string_view name(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::success: return "success";
    case RunOutcome::exhausted: return "exhausted";
    case RunOutcome::fatal: return "fatal";
    case RunOutcome::deadline: return "deadline";
    case RunOutcome::interrupted: return "interrupted";
    case RunOutcome::circuit_open: return "circuit_open";
    case RunOutcome::budget: return "budget";
  }
  return "?";
}

}  // namespace retryx
