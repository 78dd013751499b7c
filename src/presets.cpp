#include "presets.hpp"

#include <string>

namespace retryx {

namespace {

// Shared by the ssh and rsync presets: ssh's own words for a failure that
// no retry mends (OpenSSH 9.2, sshconnect2.c and sshconnect.c), anchored
// at the start of the line so that the remote command's output seldom
// matches them.
constexpr std::string_view ssh_permanent = R"(^(\S+@\S+: )?Permission denied \(|^Host key verification failed\.)";

// A Retry-After header line as curl -D and wget -S print it (wget indents
// it by two spaces; HTTP/2 names are in lower case; CRLF line ends): the
// value is the first capture group, a number of seconds or an HTTP date.
// The man page's DELAY FROM OUTPUT recipe, with the indent allowed.
constexpr std::string_view retry_after = R"((?i)^ *Retry-After: *(.*?)\r?$)";

const PresetSource ssh_permission{"Permission denied (", "authentication failed (no key or password accepted)",
                                  "ssh's message, OpenSSH sshconnect2.c; ssh exits 255"};
const PresetSource ssh_host_key{"Host key verification failed.", "the host key is unknown or has changed",
                                "ssh's message, OpenSSH sshconnect.c; ssh exits 255"};
const PresetSource keep_126_127{"126,127", "the command could not be run (not executable, not found)",
                                "retryx's own default --stop-on, kept by every preset"};
const PresetSource timeout_retried{"timeout", "retryx's --timeout or --idle-timeout stopped the attempt",
                                   "retried, as a stalled transfer"};

std::vector<Preset> make_presets() {
  return {
      {"curl",
       "curl -fsS: what curl calls transient, and HTTP 408, 429 and 5xx; Retry-After from -D /dev/stderr",
       {{"retry-on", "5-7,16,18,22,28,35,52,55,56,92,95,timeout"},
        {"stop-on", "1-4,48,126,127"},
        {"stop-if-output", "The requested URL returned error: 4(?!08|29)[0-9][0-9]"},
        {"delay-from-output", retry_after}},
       {{"5", "could not resolve proxy", "curl(1) EXIT CODES"},
        {"6", "could not resolve host", "curl(1) EXIT CODES"},
        {"7", "failed to connect to host", "curl(1) EXIT CODES"},
        {"16", "HTTP/2 error in the framing layer", "curl(1) EXIT CODES"},
        {"18", "partial file", "curl(1) EXIT CODES"},
        {"22", "HTTP error under -f: retried for 408, 429 and 5xx, and when no status was printed",
         "curl(1) EXIT CODES; curl(1) --retry: HTTP 408, 429, 500, 502, 503, 504 are transient"},
        {"28", "operation timeout", "curl(1) EXIT CODES; curl(1) --retry: a timeout is transient"},
        {"35", "SSL connect error", "curl(1) EXIT CODES"},
        {"52", "the server did not reply anything", "curl(1) EXIT CODES"},
        {"55", "failed sending network data", "curl(1) EXIT CODES"},
        {"56", "failure in receiving network data", "curl(1) EXIT CODES"},
        {"92", "stream error in the HTTP/2 framing layer", "curl(1) EXIT CODES"},
        {"95", "a problem in the HTTP/3 layer", "curl(1) EXIT CODES"},
        timeout_retried,
        {"1", "unsupported protocol", "curl(1) EXIT CODES: this build has no support for it"},
        {"2", "failed to initialize (also an unknown option)", "curl(1) EXIT CODES"},
        {"3", "URL malformed", "curl(1) EXIT CODES"},
        {"4", "a feature not built in", "curl(1) EXIT CODES: needs another build of libcurl"},
        {"48", "unknown option passed to libcurl", "curl(1) EXIT CODES"},
        keep_126_127,
        {"returned error: 4xx", "an HTTP 4xx other than 408 and 429 (exit 22)",
         "curl's message under -fS; curl(1) --retry does not retry them"},
        {"Retry-After", "the server's requested delay, seconds or an HTTP date",
         "curl(1) --retry: curl honours it since 7.66.0; RFC 9110 section 10.2.3"}}},

      {"wget",
       "wget: network failures and server error responses other than 4xx; Retry-After from -S",
       {{"retry-on", "4,8,timeout"},
        {"stop-on", "2,5,6,126,127"},
        {"stop-if-output", "ERROR 4[0-9][0-9]: "},
        {"delay-from-output", retry_after}},
       {{"4", "network failure", "wget(1) EXIT STATUS"},
        {"8", "server issued an error response: retried unless it is a 4xx", "wget(1) EXIT STATUS"},
        timeout_retried,
        {"2", "parse error (command line, .wgetrc, .netrc)", "wget(1) EXIT STATUS"},
        {"5", "SSL verification failure", "wget(1) EXIT STATUS"},
        {"6", "username/password authentication failure", "wget(1) EXIT STATUS"},
        keep_126_127,
        {"ERROR 4xx: ", "an HTTP 4xx (exit 8)",
         "wget's message; wget(1) --tries: \"not found\" (404) is not retried"},
        {"Retry-After", "the server's requested delay (printed with -S)", "RFC 9110 section 10.2.3"}}},

      {"git",
       "git: exit 128 when the network or the remote failed; anything else is fatal",
       {{"retry-on", "128"},
        {"retry-if-output",
         "(?i)could not resolve host|unable to look up|temporary failure in name resolution|"
         "connection refused|connection reset|timed out|failed to connect to|operation too slow|"
         "no route to host|network is unreachable|early EOF|unexpected disconnect|RPC failed|"
         "the remote end hung up|empty reply from server|returned error: 5[0-9][0-9]"}},
       {{"128", "git's exit code for a fatal error (die())", "git's usage.c: die() exits 128"},
        {"could not resolve host ...", "name resolution failed",
         "git's messages (connect.c), curl's through git's HTTP transport, ssh's"},
        {"connection refused / reset / timed out", "the connection failed",
         "git's connect.c (errno=...), curl's and ssh's messages"},
        {"early EOF, RPC failed, the remote end hung up", "the transfer broke off",
         "git's fetch-pack.c, remote-curl.c and pkt-line.c"},
        {"returned error: 5xx", "the HTTP server failed", "curl's message through git's HTTP transport"},
        keep_126_127}},

      {"ssh",
       "ssh: 255 (ssh's own failure) is retried, except a refused login; the remote command's status is fatal",
       {{"retry-on", "255,timeout"}, {"stop-if-output", ssh_permanent}},
       {{"255", "ssh's own error (connection refused, timed out, closed)",
         "ssh(1) EXIT STATUS: the remote command's status, or 255 if an error occurred"},
        timeout_retried,
        keep_126_127,
        ssh_permission,
        ssh_host_key}},

      {"rsync",
       "rsync: socket and protocol-stream errors, its timeouts, and 255 from its ssh transport",
       {{"retry-on", "10,12,30,35,255,timeout"},
        {"stop-on", "1-4,126,127"},
        {"stop-if-output", ssh_permanent}},
       {{"10", "error in socket I/O", "rsync(1) EXIT VALUES"},
        {"12", "error in rsync protocol data stream (also: the ssh transport failed)", "rsync(1) EXIT VALUES"},
        {"30", "timeout in data send/receive", "rsync(1) EXIT VALUES"},
        {"35", "timeout waiting for daemon connection", "rsync(1) EXIT VALUES"},
        {"255", "the remote shell (ssh) failed", "ssh(1) EXIT STATUS"},
        timeout_retried,
        {"1", "syntax or usage error", "rsync(1) EXIT VALUES"},
        {"2", "protocol incompatibility", "rsync(1) EXIT VALUES"},
        {"3", "errors selecting input/output files, directories", "rsync(1) EXIT VALUES"},
        {"4", "requested action not supported", "rsync(1) EXIT VALUES"},
        keep_126_127,
        ssh_permission,
        ssh_host_key}},

      {"apt",
       "apt, apt-get: a held lock, a failed fetch or name resolution, a hash sum mismatch; anything else is fatal",
       {{"retry-if-output",
         "Could not get lock|Failed to fetch|Some index files failed to download|"
         "Temporary failure resolving|Could not resolve|Hash Sum mismatch"},
        {"fail-if-output", "^W: (Failed to fetch|Some index files failed to download)"}},
       {{"Could not get lock", "another apt or dpkg holds the lock (exit 100); not a lock that cannot be opened",
         "apt's message (apt-pkg)"},
        {"Failed to fetch", "a download failed (E: exit 100, or W: exit 0 from apt-get update)",
         "apt's message (apt-pkg/acquire)"},
        {"Some index files failed to download", "apt-get update could not refresh every index",
         "apt's message (apt-private); exit 0 when only warnings"},
        {"Temporary failure resolving, Could not resolve", "name resolution failed", "apt's messages (methods)"},
        {"Hash Sum mismatch", "a file changed on the mirror during the download", "apt's message (apt-pkg)"},
        {"100", "apt-get's only error status: the messages tell", "apt-get(8) DIAGNOSTICS"},
        keep_126_127}},

      {"sysexits",
       "sysexits.h: EX_TEMPFAIL (75) and EX_UNAVAILABLE (69) are retried, the other codes are fatal",
       {{"retry-on", "69,75,timeout"}, {"stop-on", "64-68,70-74,76-78,126,127"}},
       {{"75", "EX_TEMPFAIL: temporary failure; the user is invited to retry", "sysexits.h"},
        {"69", "EX_UNAVAILABLE: a service is unavailable", "sysexits.h"},
        timeout_retried,
        {"64-68", "EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_NOUSER, EX_NOHOST", "sysexits.h"},
        {"70-74", "EX_SOFTWARE, EX_OSERR, EX_OSFILE, EX_CANTCREAT, EX_IOERR", "sysexits.h"},
        {"76-78", "EX_PROTOCOL, EX_NOPERM, EX_CONFIG", "sysexits.h"},
        keep_126_127}},
  };
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = make_presets();
  return all;
}

const Preset* find_preset(std::string_view name) {
  for (const Preset& preset : presets())
    if (preset.name == name) return &preset;
  return nullptr;
}

std::string_view preset_names() {
  static const std::string names = [] {
    std::string out;
    for (const Preset& preset : presets()) out += (out.empty() ? "" : ", ") + std::string(preset.name);
    return out;
  }();
  return names;
}

const PresetOption* preset_option(const Preset& preset, std::string_view option) {
  for (const PresetOption& o : preset.options)
    if (o.option == option) return &o;
  return nullptr;
}

}  // namespace retryx
