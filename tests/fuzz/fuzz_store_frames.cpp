// libFuzzer target: decode_frame on any bytes says incomplete, malformed
// (with a reason) or complete; a complete frame is within the bounds, and
// encoding it gives back exactly the bytes it took (one spelling per
// frame), none of whose prefixes is a frame; decoding never reads past
// the input (ASan).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "store_frames.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using retryx::FrameDecode;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = retryx::decode_frame(bytes);
  if (decoded.status == FrameDecode::Status::malformed) {
    if (decoded.error.empty() || !decoded.frame.empty()) std::abort();
    return 0;
  }
  if (decoded.status == FrameDecode::Status::incomplete) {
    if (!decoded.frame.empty()) std::abort();
    return 0;
  }
  if (decoded.consumed > size || decoded.consumed > retryx::frame_max_bytes) std::abort();
  if (decoded.frame.size() > retryx::frame_max_fields) std::abort();
  const auto again = retryx::encode_frame(decoded.frame);
  if (!again || *again != bytes.substr(0, decoded.consumed)) std::abort();
  if (decoded.consumed > 0 &&
      retryx::decode_frame(bytes.substr(0, decoded.consumed - 1)).status != FrameDecode::Status::incomplete)
    std::abort();
  return 0;
}
