#pragma once
// Replacing a file atomically: written to a temporary file beside it
// (same directory, so the rename is atomic), flushed to disk, renamed over
// it. Readers see the old file or the new one, never a part.
#include <string>
#include <string_view>
#include <sys/types.h>

namespace retryx {

// Returns an empty string on success, else what went wrong (errno's text).
// The temporary file is removed on failure. synced: flushed to disk before
// the rename (a state that must survive a crash); without, a step under a
// lock that many runs queue for costs no disk flush (the retry budget's
// ledger, which only matters for one window).
std::string replace_file(const std::string& path, std::string_view text, mode_t mode, bool synced = true);

// The mode a new file would get here (0666 less the umask), or the one the
// file at path has now, so that replacing it keeps it.
mode_t mode_for(const std::string& path);

}  // namespace retryx
