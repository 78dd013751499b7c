#include "held_output.hpp"

#include "file_io.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>
#include <vector>

namespace retryx {

HeldOutput::~HeldOutput() {
  if (file_ >= 0) ::close(file_);
}

void HeldOutput::append(std::string_view data) {
  size_ += data.size();
  if (!file_failed_ && file_ < 0 && memory_.size() + data.size() > memory_bound) {
    file_ = make_temp_file("retryx-stdout");
    if (file_ >= 0 && to_file(memory_)) {
      memory_.clear();
      memory_.shrink_to_fit();
    } else {
      if (file_ >= 0) ::close(file_);
      file_ = -1;
      file_failed_ = true;
    }
  }
  // Once something is kept in memory after the file, the rest follows it
  // there, so that the order is kept.
  if (file_ >= 0 && memory_.empty() && to_file(data)) return;
  memory_.append(data);
}

bool HeldOutput::to_file(std::string_view data) {
  if (write_all(file_, data)) {
    file_size_ += data.size();
    return true;
  }
  // A partial write is undone: the data goes to memory whole.
  if (::ftruncate(file_, static_cast<off_t>(file_size_)) != 0) {
  }
  ::lseek(file_, static_cast<off_t>(file_size_), SEEK_SET);
  return false;
}

bool HeldOutput::release(const std::function<bool(std::string_view)>& sink) {
  bool ok = true;
  if (file_ >= 0) {
    ::lseek(file_, 0, SEEK_SET);
    std::vector<char> buffer(1 << 16);
    ssize_t n = 0;
    while (ok && ((n = ::read(file_, buffer.data(), buffer.size())) > 0 || (n < 0 && errno == EINTR)))
      if (n > 0) ok = sink(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    ::close(file_);
    file_ = -1;
  }
  ok = ok && (memory_.empty() || sink(memory_));
  memory_.clear();
  file_failed_ = false;
  file_size_ = 0;
  size_ = 0;
  return ok;
}

bool HeldOutput::release(int fd) {
  return release([fd](std::string_view chunk) { return write_all(fd, chunk); });
}

OutputWriter::OutputWriter(std::function<void()> wake) : wake_(std::move(wake)), thread_([this] { run(); }) {}

OutputWriter::~OutputWriter() {
  std::unique_lock lock(mutex_);
  stop_ = true;
  const bool stuck = queued_ > 0;
  wake_ = nullptr;
  lock.unlock();
  ready_.notify_all();
  if (stuck) thread_.detach();
  else thread_.join();
}

void OutputWriter::push(int fd, std::string_view data) {
  {
    std::lock_guard lock(mutex_);
    if (broken_[fd]) return;
    queue_.emplace_back(fd, std::string(data));
    queued_ += data.size();
  }
  ready_.notify_one();
}

bool OutputWriter::has_room() const {
  std::lock_guard lock(mutex_);
  return queued_ < bound;
}

bool OutputWriter::idle() const {
  std::lock_guard lock(mutex_);
  return queued_ == 0;
}

bool OutputWriter::broken(int fd) const {
  std::lock_guard lock(mutex_);
  return broken_[fd];
}

void OutputWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    ready_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopped and nothing left
    auto [fd, data] = std::move(queue_.front());
    queue_.pop_front();
    const bool skip = broken_[fd];
    lock.unlock();
    const bool ok = skip || write_all(fd, data);
    lock.lock();
    const bool had_room = queued_ < bound;
    queued_ -= data.size();
    if (!ok) broken_[fd] = true;
    // The loop waits for room, for the queue to empty, or to hear of a
    // broken reader: waking it after every write would cost a wake-up of
    // the event loop per 64 KiB.
    const bool room_again = !had_room && queued_ < bound;
    if (wake_ && (room_again || queued_ == 0 || !ok)) wake_();
  }
}

}  // namespace retryx
