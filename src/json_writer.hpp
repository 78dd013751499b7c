#pragma once
// A small JSON writer for the attempt log and the report: one object at a
// time, fields in the order written, no parsing. Strings are escaped so
// that every line is valid JSON in UTF-8: control characters as \uXXXX,
// and each byte that is not part of valid UTF-8 as \uDCXX (the low
// surrogate PEP 383 "surrogateescape" uses), so no byte is dropped or
// passed raw and Python's json + surrogateescape gives the bytes back.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace retryx {

// Appends text to out as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text);

class JsonObject {
 public:
  JsonObject& field(std::string_view name, std::string_view value);
  JsonObject& field(std::string_view name, const char* value) { return field(name, std::string_view(value)); }
  JsonObject& field(std::string_view name, long long value);
  JsonObject& field(std::string_view name, std::uint64_t value);
  JsonObject& field(std::string_view name, int value) { return field(name, static_cast<long long>(value)); }
  JsonObject& field(std::string_view name, bool value);
  JsonObject& null_field(std::string_view name);
  JsonObject& string_array(std::string_view name, const std::vector<std::string>& values);
  // value must already be valid JSON (an object or array built here).
  JsonObject& raw_field(std::string_view name, std::string_view json);

  template <class T>
  JsonObject& optional_field(std::string_view name, const std::optional<T>& value) {
    return value ? field(name, *value) : null_field(name);
  }

  // Appends the other object's fields after this one's.
  JsonObject& merge(const JsonObject& other);

  // The object's text, "{...}", without a newline.
  std::string str() const { return text_ + "}"; }

 private:
  JsonObject& key(std::string_view name);
  std::string text_ = "{";
};

}  // namespace retryx
