// The frames between retryx and its retryx-store helper (store_frames.hpp).
#include <doctest/doctest.h>

#include "store_frames.hpp"

using namespace retryx;
using Status = FrameDecode::Status;

namespace {

std::string encoded(const Frame& frame) {
  auto bytes = encode_frame(frame);
  REQUIRE(bytes.has_value());
  return *bytes;
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("store frames: encoded as a count then each field's length and bytes") {
  CHECK(encoded({}) == "0\n");
  CHECK(encoded({""}) == "1\n0\n");
  CHECK(encoded({"script", "250", "return 1"}) == "3\n6\nscript3\n2508\nreturn 1");
  const std::string binary("a\0b\nc\r\n", 7);
  CHECK(encoded({binary}) == std::string("1\n7\n") + binary);
}

TEST_CASE("store frames: decoded back whole and with what follows left alone") {
  const Frame frame{"ok", "", std::string("\n\0\n", 3), "12", std::string(70000, 'x')};
  const std::string bytes = encoded(frame);
  const auto whole = decode_frame(bytes + "2\n");
  REQUIRE(whole.status == Status::complete);
  CHECK(whole.frame == frame);
  CHECK(whole.consumed == bytes.size());
  const auto empty = decode_frame("0\n1\n");
  REQUIRE(empty.status == Status::complete);
  CHECK(empty.frame.empty());
  CHECK(empty.consumed == 2);
}

TEST_CASE("store frames: every prefix of a frame is incomplete and never malformed") {
  const std::string bytes = encoded({"connect", "unix:///tmp/redis.sock", "1", "pass\nword", "", "", ""});
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    INFO(size);
    const auto part = decode_frame(std::string_view(bytes).substr(0, size));
    CHECK(part.status == Status::incomplete);
    CHECK(part.frame.empty());
  }
  CHECK(decode_frame(bytes).status == Status::complete);
}

TEST_CASE("store frames: malformed headers are refused with a reason") {
  for (const char* bad : {"\n", "x\n", "-1\n", "01\n", "1\n\n", "1\n00\n", "1\n+3\nabc", "2 \n", "1\n3x"}) {
    INFO(bad);
    const auto decoded = decode_frame(bad);
    CHECK(decoded.status == Status::malformed);
    CHECK_FALSE(decoded.error.empty());
  }
}

TEST_CASE("store frames: the bounds on fields and bytes are enforced before the bytes arrive") {
  // At the bounds.
  const Frame most(frame_max_fields, "");
  const auto many = decode_frame(encoded(most));
  REQUIRE(many.status == Status::complete);
  CHECK(many.frame.size() == frame_max_fields);
  const std::string largest_field(frame_max_bytes - 16, 'x');  // with "1\n" and "1048560\n": 6 bytes to spare
  const auto large = encode_frame({largest_field});
  REQUIRE(large.has_value());
  CHECK(decode_frame(*large).status == Status::complete);
  // Past them: refused by the encoder, and malformed from the header on
  // (no field bytes needed to tell).
  CHECK_FALSE(encode_frame(Frame(frame_max_fields + 1, "")).has_value());
  CHECK_FALSE(encode_frame({std::string(frame_max_bytes, 'x')}).has_value());
  CHECK_FALSE(encode_frame({std::string(frame_max_bytes / 2, 'x'), std::string(frame_max_bytes / 2, 'y')}).has_value());
  CHECK(decode_frame(std::to_string(frame_max_fields + 1) + "\n").status == Status::malformed);
  CHECK(decode_frame("99999").status == Status::malformed);  // digits alone already say too many
  CHECK(decode_frame("1\n1048577\n").status == Status::malformed);
  CHECK(decode_frame("1\n99999999").status == Status::malformed);
  CHECK(decode_frame("2\n600000\n").status == Status::incomplete);
  CHECK(decode_frame("2\n600000\n" + std::string(600000, 'a') + "600000\n").status == Status::malformed);
}

}  // TEST_SUITE
