/* An LD_PRELOAD shim for the fleet scenarios (fleet_clock.sh): the process
 * it is loaded into sees a wall clock that is wrong by a fixed amount, as a
 * machine of the fleet whose clock is off. CLOCK_REALTIME (and its coarse
 * variant), gettimeofday() and time() are shifted by E2E_CLOCK_SHIFT_MS
 * milliseconds (negative: behind); the monotonic clocks are left alone.
 * Built by the scenario itself (cc -shared -fPIC) into $WORK; it only works
 * with a dynamically linked retryx (the test build).
 *
 * Read once, at load; then LD_PRELOAD, E2E_CLOCK_SHIFT_MS and E2E_CLOCK_LOG
 * are removed from the environment, so that the commands retryx starts and
 * its retryx-store helper run without the shim. E2E_CLOCK_LOG names a file
 * that gets "loaded EXE" when the shim took, for the scenario to check.
 * The clock is read with the raw system call: no lookup of the next symbol.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long shift_ns;

__attribute__((constructor)) static void load(void) {
  const char* shift = getenv("E2E_CLOCK_SHIFT_MS");
  if (shift != NULL) shift_ns = atoll(shift) * 1000000LL;
  const char* log = getenv("E2E_CLOCK_LOG");
  if (log != NULL) {
    const int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      char exe[512] = "loaded ";
      const ssize_t n = readlink("/proc/self/exe", exe + 7, sizeof exe - 9);
      const size_t length = n > 0 ? (size_t)n + 7 : 7;
      exe[length] = '\n';
      (void)!write(fd, exe, length + 1);
      close(fd);
    }
  }
  unsetenv("LD_PRELOAD");
  unsetenv("E2E_CLOCK_SHIFT_MS");
  unsetenv("E2E_CLOCK_LOG");
}

static void shift(struct timespec* ts) {
  long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + shift_ns;
  ts->tv_sec = (time_t)(ns / 1000000000LL);
  ts->tv_nsec = (long)(ns % 1000000000LL);
  if (ts->tv_nsec < 0) {
    ts->tv_nsec += 1000000000L;
    ts->tv_sec -= 1;
  }
}

int clock_gettime(clockid_t id, struct timespec* ts) {
  const long result = syscall(SYS_clock_gettime, id, ts);
  if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) shift(ts);
  return (int)result;
}

int gettimeofday(struct timeval* restrict tv, void* restrict tz) {
  (void)tz;
  struct timespec ts;
  const int result = clock_gettime(CLOCK_REALTIME, &ts);
  if (result == 0) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return result;
}

time_t time(time_t* out) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
  if (out != NULL) *out = ts.tv_sec;
  return ts.tv_sec;
}
