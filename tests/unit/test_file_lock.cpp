#include <atomic>
#include <chrono>
#include <climits>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

#include "file_lock.hpp"
#include "temp_files.hpp"

using namespace retryx;
using namespace std::chrono_literals;
using retryx::testing::temp_dir;

namespace {

std::shared_ptr<UniqueFd> open_lock(const std::string& path) {
  auto fd = std::make_shared<UniqueFd>(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  REQUIRE(*fd);
  return fd;
}

// A queue of other runs taking their turns: `watched` is replaced every
// `interval`, `times` times or until `stop`.
void replace_repeatedly(const std::string& watched, std::chrono::milliseconds interval, int times,
                        const std::atomic<bool>& stop) {
  for (int i = 0; i < times && !stop; ++i) {
    { std::ofstream(watched + ".new") << i; }
    std::filesystem::rename(watched + ".new", watched);
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace

TEST_CASE("a free lock is taken at once, and held until its descriptor closes") {
  const std::string dir = temp_dir();
  auto lock = open_lock(dir + "/f.lock");
  CHECK(lock_exclusive(lock, dir + "/f") == "");
  auto other = open_lock(dir + "/f.lock");
  CHECK(::flock(other->get(), LOCK_EX | LOCK_NB) != 0);  // held
  lock->reset();
  CHECK(::flock(other->get(), LOCK_EX | LOCK_NB) == 0);  // released
  std::filesystem::remove_all(dir);
}

TEST_CASE("a holder that changes nothing is given up on, the lock is released when it comes") {
  const std::string dir = temp_dir();
  auto holder = open_lock(dir + "/f.lock");
  REQUIRE(::flock(holder->get(), LOCK_EX) == 0);
  auto waiter = open_lock(dir + "/f.lock");
  CHECK(lock_exclusive(waiter, dir + "/f", 50ms, 10s) ==
        "held by another run for 50ms without a change of " + dir + "/f");
  // The abandoned wait must not keep the lock once the holder lets go: a
  // third party gets it (waited for, with a generous bound).
  waiter.reset();
  holder->reset();
  auto third = open_lock(dir + "/f.lock");
  CHECK(lock_exclusive(third, dir + "/f", 5s, 10s) == "");
  std::filesystem::remove_all(dir);
}

TEST_CASE("while the watched file keeps changing, the wait goes on, it ends when the lock is free") {
  const std::string dir = temp_dir();
  const std::string watched = dir + "/f";
  auto holder = open_lock(dir + "/f.lock");
  REQUIRE(::flock(holder->get(), LOCK_EX) == 0);
  std::atomic<bool> waiting_done{false};
  // A queue of other runs: the file is replaced every few ms for far longer
  // than `stalled`, then the lock is let go.
  std::thread queue([&] {
    replace_repeatedly(watched, 10ms, 40, waiting_done);
    holder->reset();
  });
  auto waiter = open_lock(dir + "/f.lock");
  const std::string result = lock_exclusive(waiter, watched, 100ms, 60s);
  waiting_done = true;
  queue.join();
  CHECK(result == "");
  std::filesystem::remove_all(dir);
}

TEST_CASE("however busy the queue, the wait ends at its bound") {
  const std::string dir = temp_dir();
  const std::string watched = dir + "/f";
  auto holder = open_lock(dir + "/f.lock");
  REQUIRE(::flock(holder->get(), LOCK_EX) == 0);
  std::atomic<bool> stop{false};
  std::thread queue([&] { replace_repeatedly(watched, 5ms, INT_MAX, stop); });
  auto waiter = open_lock(dir + "/f.lock");
  const std::string result = lock_exclusive(waiter, watched, 1s, 200ms);
  stop = true;
  queue.join();
  CHECK(result == "not free within 200ms");
  std::filesystem::remove_all(dir);
}
