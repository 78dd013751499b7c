#include "output_watch.hpp"

#include <cstring>

namespace retryx {

OutputWatch::OutputWatch(const OutputPatterns& patterns) {
  if (patterns.until) until_.emplace(*patterns.until);
  if (patterns.retry_if) retry_if_.emplace(*patterns.retry_if);
  if (patterns.stop_if) stop_if_.emplace(*patterns.stop_if);
  if (patterns.fail_if) fail_if_.emplace(*patterns.fail_if);
  if (patterns.delay_from) delay_from_.emplace(*patterns.delay_from);
}

void OutputWatch::lines(std::string_view text) {
  if (until_ && !matches_.until) matches_.until = until_->search_lines(text);
  if (retry_if_ && !matches_.retry_if) matches_.retry_if = retry_if_->search_lines(text);
  if (stop_if_ && !matches_.stop_if) matches_.stop_if = stop_if_->search_lines(text);
  if (fail_if_ && !matches_.fail_if) matches_.fail_if = fail_if_->search_lines(text);
  // --delay-from-output: the LAST matching line counts, so it is always
  // tried; only its value is kept, cut to a bounded size.
  if (delay_from_)
    if (const auto value = delay_from_->last_capture(text))
      matches_.delay_text.emplace(value->substr(0, OutputMatches::max_delay_text));
}

bool OutputWatch::done() const {
  return (!until_ || matches_.until) && (!retry_if_ || matches_.retry_if) && (!stop_if_ || matches_.stop_if) &&
         (!fail_if_ || matches_.fail_if) && !delay_from_;
}

void LineSplitter::feed(std::string_view chunk, OutputWatch& watch) {
  while (!chunk.empty()) {
    if (watch.done()) {
      partial_.clear();
      return;
    }
    const void* newline = std::memchr(chunk.data(), '\n', chunk.size());
    if (!newline) {
      // No end of line yet: keep the start, but never more than max_line.
      while (!chunk.empty()) {
        const std::size_t take = std::min(chunk.size(), OutputWatch::max_line - partial_.size());
        partial_.append(chunk.substr(0, take));
        chunk.remove_prefix(take);
        if (partial_.size() == OutputWatch::max_line) {
          watch.lines(partial_);
          partial_.clear();
        }
      }
      return;
    }
    const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(newline) - chunk.data());
    if (partial_.empty()) {
      // The common case: whole lines inside the chunk, up to its last
      // newline, matched in place, as many at a time as max_line allows.
      const std::size_t cut = chunk.rfind('\n', OutputWatch::max_line);
      if (cut >= end && cut != std::string_view::npos) {
        watch.lines(chunk.substr(0, cut));
        chunk.remove_prefix(cut + 1);
        continue;
      }
      // A line longer than max_line: in pieces.
      std::string_view line = chunk.substr(0, end);
      while (line.size() > OutputWatch::max_line) {
        watch.lines(line.substr(0, OutputWatch::max_line));
        line.remove_prefix(OutputWatch::max_line);
      }
      watch.lines(line);
    } else {
      feed(chunk.substr(0, end), watch);  // joins partial_, cutting pieces as needed
      // Empty now only if the line's last piece was just matched.
      if (!partial_.empty()) watch.lines(partial_);
      partial_.clear();
    }
    chunk.remove_prefix(end + 1);
  }
}

void LineSplitter::finish(OutputWatch& watch) {
  if (!partial_.empty() && !watch.done()) watch.lines(partial_);
  partial_.clear();
}

}  // namespace retryx
