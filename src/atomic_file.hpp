#pragma once
// Replacing a file atomically: written to a temporary file beside it
// (same directory, so the rename is atomic), flushed to disk, renamed over
// it. Readers see the old file or the new one, never a part.
#include <string>
#include <string_view>
#include <sys/types.h>

namespace retryx {

// Returns an empty string on success, else what went wrong (errno's text).
// The temporary file is removed on failure.
std::string replace_file(const std::string& path, std::string_view text, mode_t mode);

// The mode a new file would get here (0666 less the umask), or the one the
// file at path has now, so that replacing it keeps it.
mode_t mode_for(const std::string& path);

}  // namespace retryx
