#include "process/output_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

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
    queue_.push_back({fd, std::string(data), nullptr});
    queued_ += data.size();
  }
  ready_.notify_one();
}

void OutputWriter::push_file(int fd, std::shared_ptr<const UniqueFd> source, std::uint64_t offset,
                             std::size_t length) {
  {
    std::lock_guard lock(mutex_);
    if (error_[fd]) return;
    queue_.push_back({fd, {}, std::move(source), offset, length});
    queued_ += length;
  }
  ready_.notify_one();
}

// A range of a file: mapped (256 KiB at a time: memory stays flat)
// and written from the mapping, one copy into the target; where it cannot
// be mapped, read and written.
bool OutputWriter::write_piece(const Piece& piece) {
  if (!piece.source) return write_all(piece.fd, piece.data);
  static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  constexpr std::uint64_t window = 256 << 10;
  std::uint64_t offset = piece.offset;
  std::uint64_t left = piece.length;
  while (left > 0) {
    const std::uint64_t start = offset / page * page;
    const std::size_t skip = static_cast<std::size_t>(offset - start);
    const std::size_t n = static_cast<std::size_t>(std::min(left, window));
    void* map = ::mmap(nullptr, skip + n, PROT_READ, MAP_SHARED | MAP_POPULATE, piece.source->get(),
                       static_cast<off_t>(start));
    if (map == MAP_FAILED) return copy_range(piece.fd, piece.source->get(), offset, left);
    const bool ok = write_all(piece.fd, std::string_view(static_cast<const char*>(map) + skip, n));
    const int error = errno;
    ::munmap(map, skip + n);
    errno = error;
    if (!ok) return false;
    // Written out: its pages go now, not to the disk later.
    ::fallocate(piece.source->get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(start),
                static_cast<off_t>(skip + n));
    offset += n;
    left -= n;
  }
  return true;
}

bool OutputWriter::copy_range(int fd, int source, std::uint64_t offset, std::uint64_t left) {
  std::string buffer(static_cast<std::size_t>(std::min<std::uint64_t>(left, 256 << 10)), '\0');
  while (left > 0) {
    const ssize_t got = ::pread(source, buffer.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size())),
                                static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got == 0) errno = EIO;  // the file is shorter than it should be
      return false;
    }
    if (!write_all(fd, std::string_view(buffer.data(), static_cast<std::size_t>(got)))) return false;
    offset += static_cast<std::uint64_t>(got);
    left -= static_cast<std::uint64_t>(got);
  }
  return true;
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
    const Piece piece = std::move(queue_.front());
    queue_.pop_front();
    const bool skip = error_[piece.fd] != 0;
    lock.unlock();
    const bool ok = skip || write_piece(piece);
    const int error = ok ? 0 : errno;
    lock.lock();
    const bool had_room = queued_ < bound;
    queued_ -= piece.size();
    if (!ok) error_[piece.fd] = error;
    // The loop waits for room, for the queue to empty, or to hear of a
    // failed write: waking it after every write would cost a wake-up of
    // the event loop per read.
    const bool room_again = !had_room && queued_ < bound;
    if (wake_ && (room_again || queued_ == 0 || !ok)) wake_();
  }
}

}  // namespace retryx::process
