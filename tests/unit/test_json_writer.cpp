#include <doctest/doctest.h>

#include "json_writer.hpp"

using namespace retryx;

namespace {
std::string quoted(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}
}  // namespace

TEST_CASE("strings: quotes - backslashes - control characters") {
  CHECK(quoted("plain") == "\"plain\"");
  CHECK(quoted("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(quoted("line\nnext\ttab\rcr") == "\"line\\nnext\\ttab\\rcr\"");
  CHECK(quoted(std::string("nul\0byte", 8)) == "\"nul\\u0000byte\"");
  CHECK(quoted("\x01\x1f\x7f") == "\"\\u0001\\u001f\\u007f\"");
  CHECK(quoted("\b\f") == "\"\\b\\f\"");
}

TEST_CASE("valid UTF-8 passes through") {
  CHECK(quoted("h\xc3\xa9llo") == "\"h\xc3\xa9llo\"");              // é
  CHECK(quoted("\xe2\x82\xac") == "\"\xe2\x82\xac\"");              // €
  CHECK(quoted("\xf0\x9f\x98\x80") == "\"\xf0\x9f\x98\x80\"");      // 😀
}

TEST_CASE("invalid bytes are escaped as \\udcXX - never dropped or raw") {
  CHECK(quoted("\xff") == "\"\\udcff\"");
  CHECK(quoted("a\x80z") == "\"a\\udc80z\"");
  CHECK(quoted("\xc3") == "\"\\udcc3\"");                       // truncated sequence
  CHECK(quoted("\xc0\xaf") == "\"\\udcc0\\udcaf\"");            // overlong '/'
  CHECK(quoted("\xed\xa0\x80") == "\"\\udced\\udca0\\udc80\""); // an encoded surrogate
  CHECK(quoted("\xf4\x90\x80\x80") == "\"\\udcf4\\udc90\\udc80\\udc80\"");  // past U+10FFFF
  CHECK(quoted("\xe2\x82") == "\"\\udce2\\udc82\"");
}

TEST_CASE("objects keep field order and types") {
  JsonObject inner;
  inner.field("x", 1);
  JsonObject o;
  o.field("s", "v").field("n", -3).field("u", std::uint64_t{18446744073709551615u}).field("b", true);
  o.null_field("z").string_array("a", {"p", "q\""}).raw_field("o", inner.str());
  o.optional_field("none", std::optional<int>{}).optional_field("some", std::optional<int>{4});
  CHECK(o.str() ==
        "{\"s\":\"v\",\"n\":-3,\"u\":18446744073709551615,\"b\":true,\"z\":null,\"a\":[\"p\",\"q\\\"\"],"
        "\"o\":{\"x\":1},\"none\":null,\"some\":4}");
  CHECK(JsonObject().str() == "{}");
  JsonObject merged;
  merged.field("a", 1).merge(inner).merge(JsonObject());
  CHECK(merged.str() == "{\"a\":1,\"x\":1}");
  CHECK(JsonObject().merge(inner).str() == "{\"x\":1}");
}
