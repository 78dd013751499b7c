#include <csignal>
#include <doctest/doctest.h>

#include "signal_names.hpp"

using namespace retryx;

TEST_CASE("parse_signal takes names with and without SIG any case and SIG<n>") {
  CHECK(parse_signal("SIGKILL") == SIGKILL);
  CHECK(parse_signal("KILL") == SIGKILL);
  CHECK(parse_signal("kill") == SIGKILL);
  CHECK(parse_signal("SIG9") == 9);
  CHECK(parse_signal("TERM") == SIGTERM);
  CHECK(parse_signal("SIGRTMIN") == SIGRTMIN);
  CHECK(parse_signal("RTMIN+2") == SIGRTMIN + 2);
  CHECK(parse_signal("RTMAX-1") == SIGRTMAX - 1);
}

TEST_CASE("parse_signal refuses bare numbers and unknown names") {
  for (const char* bad : {"9", "", "SIG", "SIG0", "SIG999", "NOPE", "SIGNOPE", "RTMIN+99", "RTMAX+1"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_signal(bad).has_value());
  }
}

TEST_CASE("signal_name prints the SIG form") {
  CHECK(signal_name(SIGKILL) == "SIGKILL");
  CHECK(signal_name(SIGABRT) == "SIGABRT");
  // Real-time signals as the conditions name them, and read back.
  CHECK(signal_name(SIGRTMIN) == "SIGRTMIN");
  CHECK(signal_name(SIGRTMIN + 1) == "SIGRTMIN+1");
  CHECK(signal_name(SIGRTMAX) == "SIGRTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN));
  for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) CHECK(parse_signal(signal_name(signal)) == signal);
}
