#include "process/output_writer.hpp"

#include <cerrno>

#include "file_io.hpp"

namespace retryx::process {

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
    if (error_[fd]) return;
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

std::optional<int> OutputWriter::error(int fd) const {
  std::lock_guard lock(mutex_);
  if (error_[fd] == 0) return std::nullopt;
  return error_[fd];
}

void OutputWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    ready_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopped and nothing left
    auto [fd, data] = std::move(queue_.front());
    queue_.pop_front();
    const bool skip = error_[fd] != 0;
    lock.unlock();
    const bool ok = skip || write_all(fd, data);
    const int error = ok ? 0 : errno;
    lock.lock();
    const bool had_room = queued_ < bound;
    queued_ -= data.size();
    if (!ok) error_[fd] = error;
    // The loop waits for room, for the queue to empty, or to hear of a
    // failed write: waking it after every write would cost a wake-up of
    // the event loop per read.
    const bool room_again = !had_room && queued_ < bound;
    if (wake_ && (room_again || queued_ == 0 || !ok)) wake_();
  }
}

}  // namespace retryx::process
