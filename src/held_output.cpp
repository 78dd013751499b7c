#include "held_output.hpp"

#include "file_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <unistd.h>

namespace retryx {

namespace {

constexpr std::size_t header_size = 5;  // stream (1 byte), length (4 bytes, host order)
constexpr std::size_t max_record = std::size_t{1} << 30;
// Once spilling, a piece at least this large goes to the file as it is
// (the loop's reads of 256 KiB), not copied into memory first.
constexpr std::size_t direct_size = 64 << 10;

std::uint32_t record_length(const char* header) {
  std::uint32_t length = 0;
  std::memcpy(&length, header + 1, sizeof length);
  return length;
}

void put_header(std::string& out, int stream, std::size_t length) {
  const auto n = static_cast<std::uint32_t>(length);
  out += static_cast<char>(stream);
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
}

// Reads exactly size bytes at offset (EINTR and short reads retried).
bool read_at(int fd, char* out, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

// The records held in memory, to sink in order.
bool release_records(std::string_view records, const std::function<bool(int, std::string_view)>& sink) {
  while (records.size() >= header_size) {
    const int stream = records[0];
    const std::size_t length = record_length(records.data());
    if (!sink(stream, records.substr(header_size, length))) return false;
    records.remove_prefix(std::min(records.size(), header_size + length));
  }
  return true;
}

}  // namespace

HeldOutput::~HeldOutput() {
  if (file_ >= 0) ::close(file_);
}

void HeldOutput::append(int stream, std::string_view data, bool keep) {
  while (!data.empty()) {
    const std::string_view piece = data.substr(0, max_record);
    add_record(stream, piece, keep);
    data.remove_prefix(piece.size());
  }
}

void HeldOutput::add_record(int stream, std::string_view data, bool keep) {
  auto extends = [&] {  // the last record in memory is this stream's, with room
    return last_record_ != std::string::npos && memory_[last_record_] == static_cast<char>(stream) &&
           record_length(memory_.data() + last_record_) + data.size() <= max_record;
  };
  const bool direct = file_ >= 0 && data.size() >= direct_size;
  if (!spill_error_ && (direct || memory_.size() + (extends() ? 0 : header_size) + data.size() > memory_bound) &&
      spill()) {
    // memory_ is in the file now. A large piece goes there directly;
    // anything smaller is gathered in memory first.
    if (data.size() < direct_size) {
      add_record(stream, data, keep);
      return;
    }
    std::string header;
    put_header(header, stream, data.size());
    const std::uint64_t before = file_size_;
    if (to_file(header) && to_file(data)) return;
    truncate_to(before);  // no header without its bytes
  }
  const bool extend = extends();
  const std::size_t need = (extend ? 0 : header_size) + data.size();
  if (spill_error_ && fallback_ && !keep && memory_.size() + need > memory_bound + *fallback_) {
    dropped_ += data.size();
    return;
  }
  if (extend) {
    const auto length = static_cast<std::uint32_t>(record_length(memory_.data() + last_record_) + data.size());
    std::memcpy(memory_.data() + last_record_ + 1, &length, sizeof length);
  } else {
    last_record_ = memory_.size();
    put_header(memory_, stream, data.size());
  }
  memory_.append(data);
}

// Moves what memory holds to the end of the temporary file, making it
// first. False (spill_error_ set) when it cannot: memory keeps it.
bool HeldOutput::spill() {
  if (file_ < 0) {
    file_ = make_temp_file("retryx-held");
    if (file_ < 0) {
      spill_error_ = errno;
      return false;
    }
    memory_.reserve(memory_bound);  // kept as the file's write buffer from now on
  }
  if (!memory_.empty() && !to_file(memory_)) return false;
  memory_.clear();
  last_record_ = std::string::npos;
  return true;
}

bool HeldOutput::to_file(std::string_view data) {
  if (write_all(file_, data)) {
    file_size_ += data.size();
    return true;
  }
  // A partial write is undone: the file keeps whole records only.
  spill_error_ = errno;
  truncate_to(file_size_);
  return false;
}

void HeldOutput::truncate_to(std::uint64_t size) {
  file_size_ = size;
  if (::ftruncate(file_, static_cast<off_t>(size)) != 0) {
  }
  ::lseek(file_, static_cast<off_t>(size), SEEK_SET);
}

bool HeldOutput::release_file(const std::function<bool(int, std::string_view)>& sink, const RangeSink& ranges) {
  constexpr std::size_t chunk = 256 << 10;
  const auto buffer = std::make_unique_for_overwrite<char[]>(ranges ? 0 : chunk);
  std::uint64_t offset = 0;
  while (offset < file_size_) {
    char header[header_size];
    if (!read_at(file_, header, header_size, offset)) return false;
    offset += header_size;
    const int stream = header[0];
    if (ranges) {
      if (!ranges(stream, file_, offset, record_length(header))) return false;
      offset += record_length(header);
      continue;
    }
    for (std::size_t left = record_length(header); left > 0;) {
      const std::size_t n = std::min(left, chunk);
      if (!read_at(file_, buffer.get(), n, offset) || !sink(stream, std::string_view(buffer.get(), n))) return false;
      offset += n;
      left -= n;
    }
  }
  return true;
}

bool HeldOutput::release(const std::function<bool(int stream, std::string_view)>& sink) {
  return release(sink, nullptr);
}

bool HeldOutput::release(const std::function<bool(int stream, std::string_view)>& sink, const RangeSink& ranges) {
  bool ok = true;
  if (file_ >= 0) {
    ok = release_file(sink, ranges);
    ::close(file_);
    file_ = -1;
  }
  ok = ok && release_records(memory_, sink);
  memory_.clear();
  last_record_ = std::string::npos;
  file_size_ = 0;
  return ok;
}

}  // namespace retryx
