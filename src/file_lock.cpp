#include "file_lock.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fmt/format.h>
#include <mutex>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <utility>

namespace retryx {

namespace {

// Identifies the watched file's current version: a holder replaces or
// writes it, so its inode or time changes whenever a run has taken its turn.
std::pair<ino_t, std::int64_t> version_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {0, 0};
  return {st.st_ino, static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

}  // namespace

// The wait is the kernel's (a waiter is woken the moment the lock is
// free), in a thread of its own so that it can be given up; a fixed
// 250 ms would fail open in a storm of 200 runs on two busy cores, where
// the queue moves but slowly.
std::string lock_exclusive(const std::shared_ptr<UniqueFd>& fd, const std::string& path,
                           std::chrono::milliseconds stalled, std::chrono::milliseconds bound) {
  if (::flock(fd->get(), LOCK_EX | LOCK_NB) == 0) return "";
  if (errno != EWOULDBLOCK && errno != EINTR) return std::strerror(errno);
  struct Wait {
    std::mutex mutex;
    std::condition_variable done;
    bool finished = false, abandoned = false;
    int error = 0;
  };
  auto wait = std::make_shared<Wait>();
  std::thread([fd, wait] {
    int result;
    while ((result = ::flock(fd->get(), LOCK_EX)) != 0 && errno == EINTR) {
    }
    const int error = result == 0 ? 0 : errno;
    std::lock_guard guard(wait->mutex);
    if (wait->abandoned) {
      if (result == 0) ::flock(fd->get(), LOCK_UN);
      return;
    }
    wait->finished = true;
    wait->error = error;
    wait->done.notify_one();
  }).detach();
  // Looked at every `stalled` (or at the bound, if sooner): a change of the
  // watched file since the last look means the queue moves.
  using Clock = std::chrono::steady_clock;
  const auto give_up_at = Clock::now() + bound;
  auto version = version_of(path);
  std::unique_lock guard(wait->mutex);
  for (;;) {
    const auto look_at = std::min(Clock::now() + stalled, give_up_at);
    if (wait->done.wait_until(guard, look_at, [&] { return wait->finished; })) break;
    const auto now_version = version_of(path);
    const bool stuck = now_version == version && look_at < give_up_at;
    if (stuck || Clock::now() >= give_up_at) {
      wait->abandoned = true;
      return stuck ? fmt::format("held by another run for {}ms without a change of {}", stalled.count(), path)
                   : fmt::format("not free within {}ms", bound.count());
    }
    version = now_version;
  }
  return wait->error == 0 ? "" : std::strerror(wait->error);
}

}  // namespace retryx
