#include "held_output.hpp"

#include "file_io.hpp"

#include <cerrno>
#include <unistd.h>
#include <vector>

namespace retryx {

HeldOutput::~HeldOutput() {
  if (file_ >= 0) ::close(file_);
}

void HeldOutput::append(std::string_view data) {
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
  return ok;
}

}  // namespace retryx
