/* An LD_PRELOAD shim for the end-to-end scenarios: makes chosen system
 * calls of the process it is loaded into fail, so that retryx's error paths
 * can be reached (stdin_setup.sh, fd_exhaustion.sh). Built by the scenario
 * itself (cc -shared -fPIC), into $WORK. It only works with a dynamically
 * linked retryx (the test build); a scenario checks $E2E_SHIM_LOG for the
 * "loaded" line before it relies on it.
 *
 * Set in the environment of the process to affect (all read once, at load,
 * then removed from the environment together with LD_PRELOAD, so that the
 * commands retryx starts run without the shim):
 *   E2E_FAIL_OPEN        colon-separated paths whose open fails; an entry
 *                        ending in '/' is a prefix ("/proc/self/fd/")
 *   E2E_FAIL_OPEN_AFTER  let this many matching opens through first (0)
 *   E2E_FAIL_PIPE_AFTER  let this many pipe()/pipe2() calls through, then
 *                        fail every later one (unset: pipes never fail)
 *   E2E_FAIL_ERRNO       the errno of a refused call (default EMFILE)
 *   E2E_SHIM_LOG         a file that gets one line per event: "loaded EXE",
 *                        "refused open PATH", "open PATH" (a matching open let
 *                        through), "pipe N" (the N-th pipe call, let through)
 *                        and "refused pipe N"
 * Everything on the calls' path is a raw system call, with no allocation
 * and no lock: retryx may call open() between clone and exec, in a child
 * that shares its memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char fail_open[4096];
static long open_after;
static long pipe_after = -1;
static int fail_errno = EMFILE;
static char log_path[4096];
static long opens_seen;
static long pipes_seen;

static void copy_env(const char *name, char *to, size_t size) {
  const char *value = getenv(name);
  if (value && strlen(value) < size) strcpy(to, value);
}

static long env_number(const char *name, long fallback) {
  const char *value = getenv(name);
  return value && *value ? strtol(value, NULL, 10) : fallback;
}

static void log_line(const char *what, const char *detail, long number) {
  if (!log_path[0]) return;
  char line[4400];
  size_t n = 0;
  for (const char *p = what; *p && n < 64; ++p) line[n++] = *p;
  if (detail) {
    line[n++] = ' ';
    for (const char *p = detail; *p && n < 4300; ++p) line[n++] = *p;
  }
  if (number >= 0) {
    char digits[24];
    int d = 0;
    do digits[d++] = (char)('0' + number % 10); while ((number /= 10) > 0);
    line[n++] = ' ';
    while (d > 0) line[n++] = digits[--d];
  }
  line[n++] = '\n';
  int saved = errno;
  long fd = syscall(SYS_openat, AT_FDCWD, log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    syscall(SYS_write, fd, line, n);
    syscall(SYS_close, fd);
  }
  errno = saved;
}

__attribute__((constructor)) static void load(void) {
  copy_env("E2E_FAIL_OPEN", fail_open, sizeof fail_open);
  copy_env("E2E_SHIM_LOG", log_path, sizeof log_path);
  open_after = env_number("E2E_FAIL_OPEN_AFTER", 0);
  pipe_after = env_number("E2E_FAIL_PIPE_AFTER", -1);
  fail_errno = (int)env_number("E2E_FAIL_ERRNO", EMFILE);
  unsetenv("LD_PRELOAD");
  unsetenv("E2E_FAIL_OPEN");
  unsetenv("E2E_FAIL_OPEN_AFTER");
  unsetenv("E2E_FAIL_PIPE_AFTER");
  unsetenv("E2E_FAIL_ERRNO");
  unsetenv("E2E_SHIM_LOG");
  char exe[4096];
  long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  log_line("loaded", exe, -1);
}

/* Whether PATH is one of E2E_FAIL_OPEN's entries (or under a prefix). */
static int listed(const char *path) {
  const char *entry = fail_open;
  while (*entry) {
    const char *end = entry;
    while (*end && *end != ':') ++end;
    size_t len = (size_t)(end - entry);
    if (len > 0) {
      if (entry[len - 1] == '/') {
        if (strncmp(path, entry, len) == 0) return 1;
      } else if (strlen(path) == len && strncmp(path, entry, len) == 0) {
        return 1;
      }
    }
    entry = *end ? end + 1 : end;
  }
  return 0;
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode) {
  if (path && listed(path)) {
    long seen = __atomic_fetch_add(&opens_seen, 1, __ATOMIC_SEQ_CST);
    if (seen >= open_after) {
      log_line("refused open", path, -1);
      errno = fail_errno;
      return -1;
    }
    log_line("open", path, -1);
  }
  return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

static mode_t mode_of(int flags, va_list args) {
  return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? (mode_t)va_arg(args, int) : 0;
}

int open(const char *path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  mode_t mode = mode_of(flags, args);
  va_end(args);
  return do_open(AT_FDCWD, path, flags, mode);
}
int open64(const char *path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  mode_t mode = mode_of(flags, args);
  va_end(args);
  return do_open(AT_FDCWD, path, flags, mode);
}
int openat(int dirfd, const char *path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  mode_t mode = mode_of(flags, args);
  va_end(args);
  return do_open(dirfd, path, flags, mode);
}
int openat64(int dirfd, const char *path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  mode_t mode = mode_of(flags, args);
  va_end(args);
  return do_open(dirfd, path, flags, mode);
}
/* _FORTIFY_SOURCE's checked forms. */
int __open_2(const char *path, int flags) { return do_open(AT_FDCWD, path, flags, 0); }
int __open64_2(const char *path, int flags) { return do_open(AT_FDCWD, path, flags, 0); }
int __openat_2(int dirfd, const char *path, int flags) { return do_open(dirfd, path, flags, 0); }
int __openat64_2(int dirfd, const char *path, int flags) { return do_open(dirfd, path, flags, 0); }

static int do_pipe(int fds[2], int flags) {
  long seen = __atomic_add_fetch(&pipes_seen, 1, __ATOMIC_SEQ_CST);
  if (pipe_after >= 0 && seen > pipe_after) {
    log_line("refused pipe", NULL, seen);
    errno = fail_errno;
    return -1;
  }
  log_line("pipe", NULL, seen);
  return (int)syscall(SYS_pipe2, fds, flags);
}

int pipe(int fds[2]) { return do_pipe(fds, 0); }
int pipe2(int fds[2], int flags) { return do_pipe(fds, flags); }
