#include "store/name_lookup.hpp"

#include <arpa/inet.h>
#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <netdb.h>
#include <pthread.h>
#include <thread>

namespace retryx::store {

namespace {

struct Lookup {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  LookupResult result;
};

LookupResult resolve_now(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // no AI_ADDRCONFIG: it drops every address on a host with loopback only
  addrinfo* found = nullptr;
  LookupResult result;
  const int status = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (status != 0) {
    result.error = ::gai_strerror(status);
    return result;
  }
  for (const addrinfo* info = found; info != nullptr; info = info->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* address = nullptr;
    if (info->ai_family == AF_INET)
      address = &reinterpret_cast<const sockaddr_in*>(static_cast<const void*>(info->ai_addr))->sin_addr;
    else if (info->ai_family == AF_INET6)
      address = &reinterpret_cast<const sockaddr_in6*>(static_cast<const void*>(info->ai_addr))->sin6_addr;
    if (address != nullptr && ::inet_ntop(info->ai_family, address, text, sizeof text) != nullptr)
      result.addresses.emplace_back(text);
  }
  ::freeaddrinfo(found);
  if (result.addresses.empty()) result.error = "no address";
  return result;
}

}  // namespace

LookupResult look_up(const std::string& host, std::chrono::steady_clock::time_point deadline) {
  in6_addr v6{};
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return LookupResult{{host}, "", false};
  auto lookup = std::make_shared<Lookup>();
  // The thread starts with every signal blocked: retryx's signals are
  // handled by the process layer's event loop, and a thread left behind
  // in getaddrinfo must not be the one the kernel picks to deliver them.
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  try {
    std::thread([lookup, host] {
      LookupResult result = resolve_now(host);
      std::lock_guard guard(lookup->mutex);
      lookup->result = std::move(result);
      lookup->done = true;
      lookup->done_cv.notify_one();
    }).detach();
  } catch (const std::exception& error) {
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return LookupResult{{}, std::string("no thread for the lookup: ") + error.what(), false};
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  std::unique_lock guard(lookup->mutex);
  if (!lookup->done_cv.wait_until(guard, deadline, [&] { return lookup->done; }))
    return LookupResult{{}, "", true};  // abandoned: the thread keeps `lookup` alive
  return std::move(lookup->result);
}

}  // namespace retryx::store
