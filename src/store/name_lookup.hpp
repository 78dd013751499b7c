#pragma once
// Resolving a host name within a deadline (the store's 250 ms cover DNS).
// getaddrinfo cannot be interrupted, and Asio's resolver runs it on a
// thread that the io_context joins when it is destroyed, so a hung DNS
// server would hold the process. Here the lookup runs on a detached thread
// of its own, and the caller waits for it only until the deadline: a
// lookup still running then is abandoned (its thread frees what it finds
// whenever getaddrinfo returns, or dies with the process).
#include <chrono>
#include <string>
#include <vector>

namespace retryx::store {

struct LookupResult {
  std::vector<std::string> addresses;  // numeric (inet_ntop), in getaddrinfo's order
  std::string error;                   // when there are none
  bool timed_out = false;              // the deadline passed first
};

// An address literal (IPv4 or IPv6) is returned as it is, with no thread.
LookupResult look_up(const std::string& host, std::chrono::steady_clock::time_point deadline);

}  // namespace retryx::store
