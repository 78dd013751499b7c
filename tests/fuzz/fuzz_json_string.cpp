// libFuzzer target: append_json_string gives a valid JSON string literal in
// valid UTF-8 (no raw control character, only JSON's escapes) that decodes
// back to the input bytes: \uDCXX stands for the raw byte XX (0x80-0xFF),
// any other \uXXXX for that code point in UTF-8.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "json_writer.hpp"

namespace {

[[noreturn]] void bad() { std::abort(); }

// Length of the valid UTF-8 sequence at s[i], or 0 (strict: no overlongs,
// no surrogates, nothing over U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const std::size_t left = s.size() - i;
  const unsigned c = b(0);
  if (c < 0x80) return 1;
  const auto cont = [&](std::size_t k) { return k < left && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;
    if (c == 0xED && b(1) >= 0xA0) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

void put_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

unsigned hex4(std::string_view s, std::size_t i) {
  if (i + 4 > s.size()) bad();
  unsigned v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const char c = s[i + k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
    else bad();
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string out = "prefix:";
  retryx::append_json_string(out, input);
  if (out.compare(0, 7, "prefix:") != 0) bad();  // appends, never replaces
  const std::string_view lit = std::string_view(out).substr(7);
  if (lit.size() < 2 || lit.front() != '"' || lit.back() != '"') bad();
  std::string decoded;
  for (std::size_t i = 1; i + 1 < lit.size();) {
    const unsigned char c = static_cast<unsigned char>(lit[i]);
    if (c < 0x20 || c == '"') bad();
    if (c == '\\') {
      if (i + 2 >= lit.size()) bad();
      const char e = lit[i + 1];
      i += 2;
      switch (e) {
        case '"': decoded += '"'; break;
        case '\\': decoded += '\\'; break;
        case '/': decoded += '/'; break;
        case 'b': decoded += '\b'; break;
        case 'f': decoded += '\f'; break;
        case 'n': decoded += '\n'; break;
        case 'r': decoded += '\r'; break;
        case 't': decoded += '\t'; break;
        case 'u': {
          const unsigned cp = hex4(lit, i);
          i += 4;
          if (cp >= 0xDC80 && cp <= 0xDCFF) decoded += static_cast<char>(cp & 0xFF);
          else if (cp >= 0xD800 && cp <= 0xDFFF) bad();  // the writer pairs no surrogates
          else put_utf8(decoded, cp);
          break;
        }
        default: bad();
      }
      continue;
    }
    const std::size_t n = utf8_length(lit.substr(0, lit.size() - 1), i);
    if (n == 0) bad();  // raw bytes must be valid UTF-8
    decoded.append(lit.substr(i, n));
    i += n;
  }
  if (decoded != input) bad();
  return 0;
}
