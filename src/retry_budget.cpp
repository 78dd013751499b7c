#include "retry_budget.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include "atomic_file.hpp"
#include "file_io.hpp"
#include "file_lock.hpp"
#include "run_identity.hpp"
#include "timestamp.hpp"

namespace retryx {

namespace {

constexpr std::string_view header = "retryx retry budget 1";
constexpr std::int64_t latest_ms = 253402300799999;  // 9999-12-31T23:59:59.999Z

void forget_outside(std::vector<std::int64_t>& times, std::int64_t now_ms, std::int64_t window_ms) {
  std::erase_if(times, [&](std::int64_t t) { return t <= now_ms - window_ms || t > now_ms + window_ms; });
}

void forget_outside(BudgetLedger& ledger, const BudgetSettings& settings, std::int64_t now_ms) {
  forget_outside(ledger.runs, now_ms, settings.window_ms);
  forget_outside(ledger.retries, now_ms, settings.window_ms);
}

}  // namespace

std::uint64_t retries_allowed(std::uint64_t ratio_ppm, std::uint64_t min, std::uint64_t runs) {
  // floor(ratio_ppm x runs / 10^6) without overflow: ratio_ppm <= 10^6,
  // so neither part exceeds runs.
  constexpr std::uint64_t million = 1000000;
  const std::uint64_t scaled = runs / million * ratio_ppm + runs % million * ratio_ppm / million;
  return scaled > UINT64_MAX - min ? UINT64_MAX : scaled + min;
}

void record_run_start(BudgetLedger& ledger, const BudgetSettings& settings, std::int64_t now_ms) {
  forget_outside(ledger, settings, now_ms);
  ledger.runs.push_back(now_ms);
}

BudgetVerdict spend_retry(BudgetLedger& ledger, const BudgetSettings& settings, std::int64_t now_ms) {
  forget_outside(ledger, settings, now_ms);
  BudgetVerdict verdict;
  verdict.retries = ledger.retries.size();
  verdict.runs = ledger.runs.size();
  verdict.allowed = retries_allowed(settings.ratio_ppm, settings.min, verdict.runs);
  verdict.granted = verdict.retries < verdict.allowed;
  if (verdict.granted) ledger.retries.push_back(now_ms);
  return verdict;
}

std::string format_budget(const BudgetBook& book) {
  std::string text(header);
  text += '\n';
  for (const auto& [job, ledger] : book) {
    for (const std::int64_t t : ledger.runs) text += fmt::format("{} run {}\n", job, t);
    for (const std::int64_t t : ledger.retries) text += fmt::format("{} retry {}\n", job, t);
  }
  return text;
}

std::optional<BudgetBook> parse_budget(std::string_view text) {
  if (!text.starts_with(header) || text.size() == header.size() || text[header.size()] != '\n') return std::nullopt;
  text.remove_prefix(header.size() + 1);
  BudgetBook book;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    if (end == std::string_view::npos) return std::nullopt;  // cut short
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    const std::size_t first = line.find(' ');
    const std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    const std::string job(line.substr(0, first));
    const std::string_view kind = line.substr(first + 1, second - first - 1);
    const std::string_view number = line.substr(second + 1);
    if (job != "*" && !name_problem(job).empty()) return std::nullopt;
    std::int64_t t = 0;
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), t);
    if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() || t < 0 || t > latest_ms)
      return std::nullopt;
    if (kind == "run") book[job].runs.push_back(t);
    else if (kind == "retry") book[job].retries.push_back(t);
    else return std::nullopt;
  }
  return book;
}

std::string budget_job(const std::optional<std::string>& name) { return name.value_or("*"); }

BudgetAnswer FileBudget::run_started() { return step(false); }
BudgetAnswer FileBudget::retry() { return step(true); }

BudgetAnswer FileBudget::step(bool is_retry) {
  BudgetAnswer answer;
  if (given_up_) return answer;
  const std::string& path = settings_.location;
  auto give_up = [&](std::string problem) {
    given_up_ = true;
    answer = BudgetAnswer{};
    answer.problem = std::move(problem) + "; going on without the retry budget";
    return answer;
  };

  // The lock, waited for a bounded time (a holder that hangs, stopped say,
  // must not hang this run); see lock_exclusive.
  const std::string lock_path = path + ".lock";
  const std::shared_ptr<UniqueFd> lock = std::make_shared<UniqueFd>(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!*lock) return give_up(fmt::format("cannot open {}: {}", lock_path, std::strerror(errno)));
  if (const std::string error = lock_exclusive(lock, path); !error.empty())
    return give_up(fmt::format("cannot lock {}: {}", lock_path, error));

  // Read, decide, write; the lock is released when `lock` closes.
  std::string text;
  if (const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)); fd) {
    if (!read_all(fd.get(), text)) return give_up(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  } else if (errno != ENOENT) {
    return give_up(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  std::optional<BudgetBook> book = text.empty() ? BudgetBook{} : parse_budget(text);
  if (!book) {
    // Not ours, or damaged: said once, and replaced by a new ledger.
    answer.problem = fmt::format("{} is not a retry budget of retryx; starting a new one", path);
    book.emplace();
  }
  BudgetLedger& ledger = (*book)[budget_job(settings_.name)];
  const std::int64_t now = unix_now_ms();
  if (is_retry) answer.verdict = spend_retry(ledger, settings_, now);
  else record_run_start(ledger, settings_, now);
  if (const std::string error = replace_file(path, format_budget(*book), mode_for(path), false); !error.empty())
    return give_up(fmt::format("cannot write {}: {}", path, error));
  return answer;
}

}  // namespace retryx
