#include "run_identity.hpp"

#include <array>
#include <cstdint>
#include <fmt/format.h>
#include <random>
#include <sys/random.h>
#include <unistd.h>

namespace retryx {

std::string new_run_id() {
  std::array<std::uint8_t, 16> bytes{};
  // getrandom never blocks once the pool is initialised (always, after boot);
  // where it fails (an old seccomp filter), random_device is good enough for
  // an id that only has to differ from the other runs'.
  if (::getrandom(bytes.data(), bytes.size(), GRND_NONBLOCK) != static_cast<ssize_t>(bytes.size())) {
    std::random_device device;
    for (auto& b : bytes) b = static_cast<std::uint8_t>(device());
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string id;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += fmt::format("{:02x}", bytes[i]);
  }
  return id;
}

RunIdentity new_run_identity(std::optional<std::string> name) {
  return RunIdentity{new_run_id(), std::move(name), static_cast<int>(::getpid()), std::chrono::system_clock::now()};
}

std::string name_problem(std::string_view name) {
  if (name.empty()) return "a name needs 1 to 64 characters";
  if (name.size() > 64) return fmt::format("{} characters, at most 64 are allowed", name.size());
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return "only letters, digits, '.', '_' and '-' are allowed";
  }
  return "";
}

std::string job_label(const std::optional<std::string>& name, const std::vector<std::string>& command) {
  if (name) return *name;
  if (command.empty()) return "";
  const std::string& program = command.front();
  const auto slash = program.find_last_of('/');
  return slash == std::string::npos ? program : program.substr(slash + 1);
}

}  // namespace retryx
