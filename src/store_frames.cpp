#include "store_frames.hpp"

#include <fmt/format.h>

namespace retryx {

namespace {

// A decimal header "<digits>\n" at pos, at most `limit`. Leading zeros
// are refused (one spelling per number), and so is a number over the
// limit, as soon as its digits say so (before its newline arrives).
struct Header {
  FrameDecode::Status status = FrameDecode::Status::incomplete;
  std::size_t value = 0;
  std::size_t end = 0;  // just after the newline
  std::string error;
};

Header read_header(std::string_view bytes, std::size_t pos, std::size_t limit, const char* what) {
  Header header;
  const auto malformed = [&](std::string error) {
    header.status = FrameDecode::Status::malformed;
    header.error = std::move(error);
    return header;
  };
  std::size_t digits = 0;
  for (std::size_t i = pos; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n') {
      if (digits == 0) return malformed(fmt::format("an empty {}", what));
      header.status = FrameDecode::Status::complete;
      header.end = i + 1;
      return header;
    }
    if (c < '0' || c > '9') return malformed(fmt::format("a {} that is not a number", what));
    if (digits == 1 && header.value == 0) return malformed(fmt::format("a {} with a leading zero", what));
    header.value = header.value * 10 + static_cast<std::size_t>(c - '0');
    ++digits;
    if (header.value > limit) return malformed(fmt::format("a {} over {}", what, limit));
  }
  return header;  // incomplete
}

}  // namespace

std::optional<std::string> encode_frame(const Frame& frame) {
  if (frame.size() > frame_max_fields) return std::nullopt;
  std::string bytes = fmt::format("{}\n", frame.size());
  for (const std::string& field : frame) {
    if (field.size() > frame_max_bytes) return std::nullopt;
    bytes += fmt::format("{}\n", field.size());
    bytes += field;
    if (bytes.size() > frame_max_bytes) return std::nullopt;
  }
  return bytes;
}

FrameDecode decode_frame(std::string_view bytes) {
  FrameDecode result;
  const auto stop = [&](Header& header) {
    result.status = header.status;
    result.error = std::move(header.error);
    result.frame.clear();
    return result;
  };
  Header count = read_header(bytes, 0, frame_max_fields, "field count");
  if (count.status != FrameDecode::Status::complete) return stop(count);
  std::size_t pos = count.end;
  for (std::size_t i = 0; i < count.value; ++i) {
    // A field's length may not take the frame past its bound.
    const std::size_t room = frame_max_bytes > pos ? frame_max_bytes - pos : 0;
    Header length = read_header(bytes, pos, room, "field length");
    if (length.status != FrameDecode::Status::complete) return stop(length);
    if (length.end + length.value > frame_max_bytes) {
      length.status = FrameDecode::Status::malformed;
      length.error = fmt::format("a frame over {} bytes", frame_max_bytes);
      return stop(length);
    }
    if (bytes.size() - length.end < length.value) {
      Header incomplete;
      return stop(incomplete);
    }
    result.frame.emplace_back(bytes.substr(length.end, length.value));
    pos = length.end + length.value;
  }
  result.status = FrameDecode::Status::complete;
  result.consumed = pos;
  return result;
}

}  // namespace retryx
