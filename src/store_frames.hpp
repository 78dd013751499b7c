#pragma once
// Frames between retryx and its `retryx-store` helper (the store's link):
// a frame is a list of byte strings, written as
//   <count>\n  then for each field  <length>\n<bytes>
// with count and length in decimal (no sign, no leading zero). The same
// code encodes and decodes on both sides of the socket.
//
// The decoder is incremental: given the bytes received so far it says
// that a frame is incomplete (read more), malformed (the peer is broken:
// stop talking to it), or complete (the frame and how many bytes it took).
// It is bounded so that a broken peer cannot make it allocate without
// limit: at most frame_max_fields fields and frame_max_bytes bytes per
// frame, headers included; anything beyond is malformed, found as soon as
// the header that says so is read.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace retryx {

using Frame = std::vector<std::string>;

inline constexpr std::size_t frame_max_fields = 4096;
inline constexpr std::size_t frame_max_bytes = std::size_t{1} << 20;  // 1 MiB, headers included

// The frame's bytes, or nullopt when it is beyond the bounds (the peer
// would refuse it).
std::optional<std::string> encode_frame(const Frame& frame);

struct FrameDecode {
  enum class Status { incomplete, malformed, complete };
  Status status = Status::incomplete;
  Frame frame;                // complete
  std::size_t consumed = 0;   // complete: the frame's bytes at the start of the input
  std::string error;          // malformed: what is wrong, for a message
};

// Reads one frame from the start of bytes.
FrameDecode decode_frame(std::string_view bytes);

}  // namespace retryx
