// rediss:// against a real redis-server with TLS, certificates made by
// openssl here: a CA, a server certificate for 127.0.0.1 and localhost, one
// for another name, a client certificate, and a CA that signed none of them.
#include <csignal>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>

#include "redis_server.hpp"
#include "store/redis_client.hpp"

using namespace retryx::store;
using retryx::testing::RedisServer;

namespace {

struct Certificates {
  std::string dir = retryx::testing::temp_dir();
  Certificates() {
    std::ofstream(dir + "/make.sh") << R"(set -e
cd "$1"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1.key" 2>/dev/null; }
ca() { key "$1"; openssl req -x509 -new -key "$1.key" -subj "/CN=$1" -days 2 -out "$1.crt"; }
leaf() { # name, CA, subjectAltName, extendedKeyUsage
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$3" "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
ca ca
ca other-ca
leaf server ca "IP:127.0.0.1,DNS:localhost" serverAuth
leaf elsewhere ca "DNS:elsewhere.invalid" serverAuth
leaf client ca "DNS:retryx-client" clientAuth
)";
    REQUIRE(std::system(("bash " + dir + "/make.sh " + dir).c_str()) == 0);
  }
  ~Certificates() { std::filesystem::remove_all(dir); }
  std::string operator()(const std::string& name) const { return dir + "/" + name; }
  std::vector<std::string> server_args(const std::string& leaf, const std::string& clients) const {
    return {"--tls-cert-file", (*this)(leaf + ".crt"), "--tls-key-file", (*this)(leaf + ".key"),
            "--tls-ca-cert-file", (*this)("ca.crt"), "--tls-auth-clients", clients};
  }
};

StoreReply ping(const std::string& url, RedisTlsFiles files) {
  auto parsed = parse_redis_url(url, std::nullopt);
  REQUIRE(std::holds_alternative<RedisLocation>(parsed));
  RedisClient client({std::get<RedisLocation>(parsed), std::move(files), std::chrono::milliseconds(250)});
  return client.call({"PING"});
}

void check_pong(const StoreReply& answer) {
  if (auto* problem = std::get_if<StoreError>(&answer)) FAIL(kind_name(problem->kind) << ": " << problem->message);
  CHECK(std::get<RedisReply>(answer).text == "PONG");
}

StoreError check_failed(const StoreReply& answer) {
  REQUIRE_MESSAGE(std::holds_alternative<StoreError>(answer), "the call succeeded");
  MESSAGE(std::get<StoreError>(answer).message);
  return std::get<StoreError>(answer);
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("store TLS: the server's certificate verified with the CA file by address and by name") {
  const Certificates certs;
  RedisServer server(certs.server_args("server", "optional"), RedisServer::Listen::tls);
  check_pong(ping(server.tcp_url("rediss"), {certs("ca.crt")}));
  check_pong(ping(server.tcp_url("rediss", "localhost"), {certs("ca.crt")}));
  check_pong(ping(server.tcp_url("rediss"), {certs("ca.crt"), certs("client.crt"), certs("client.key")}));
}

TEST_CASE("store TLS: a certificate that does not match fails (system store or another CA or another name)") {
  const Certificates certs;
  RedisServer server(certs.server_args("server", "optional"), RedisServer::Listen::tls);
  const auto system_store = check_failed(ping(server.tcp_url("rediss"), {}));
  CHECK(system_store.kind == StoreError::Kind::tls);
  CHECK(system_store.message.find("certificate") != std::string::npos);
  const auto other_ca = check_failed(ping(server.tcp_url("rediss"), {certs("other-ca.crt")}));
  CHECK(other_ca.kind == StoreError::Kind::tls);
  RedisServer elsewhere(certs.server_args("elsewhere", "optional"), RedisServer::Listen::tls);
  const auto by_address = check_failed(ping(elsewhere.tcp_url("rediss"), {certs("ca.crt")}));
  CHECK(by_address.kind == StoreError::Kind::tls);
  CHECK(by_address.message.find("IP address mismatch") != std::string::npos);
  const auto by_name = check_failed(ping(elsewhere.tcp_url("rediss", "localhost"), {certs("ca.crt")}));
  CHECK(by_name.kind == StoreError::Kind::tls);
  CHECK(by_name.message.find("hostname mismatch") != std::string::npos);
  // Plain TCP to a TLS port is no answer the reader accepts, or a timeout.
  CHECK_FALSE(std::holds_alternative<RedisReply>(ping(server.tcp_url("redis"), {})));
  const auto missing = check_failed(ping(server.tcp_url("rediss"), {certs("no-such.crt")}));
  CHECK(missing.kind == StoreError::Kind::tls);
}

TEST_CASE("store TLS: --tls-auth-clients yes wants the client certificate") {
  const Certificates certs;
  RedisServer server(certs.server_args("server", "yes"), RedisServer::Listen::tls);
  check_pong(ping(server.tcp_url("rediss"), {certs("ca.crt"), certs("client.crt"), certs("client.key")}));
  check_failed(ping(server.tcp_url("rediss"), {certs("ca.crt")}));  // refused during or after the handshake
}

TEST_CASE("store TLS: a hung server (SIGSTOP) during the handshake gives a timeout") {
  const Certificates certs;
  RedisServer server(certs.server_args("server", "optional"), RedisServer::Listen::tls);
  server.pause();
  const auto hung = check_failed(ping(server.tcp_url("rediss"), {certs("ca.crt")}));
  CHECK(hung.kind == StoreError::Kind::timeout);
  CHECK(hung.message.find("TLS handshake") != std::string::npos);
  server.resume();
}

// Redis sends close_notify before its FIN when it closes a TLS client (its
// idle timeout, CLIENT KILL, a failover's kill of the normal clients): the
// next call sees bytes where no reply was due and connects again.
TEST_CASE("store TLS: a connection the server closed between two calls is a new connection") {
  const Certificates certs;
  RedisServer server(certs.server_args("server", "optional"), RedisServer::Listen::tls);
  auto parsed = parse_redis_url(server.tcp_url("rediss"), std::nullopt);
  RedisClient client({std::get<RedisLocation>(parsed), {certs("ca.crt")}, std::chrono::milliseconds(250)});
  auto id = [&] {
    const auto answer = client.call({"CLIENT", "ID"});
    if (auto* problem = std::get_if<StoreError>(&answer)) FAIL(kind_name(problem->kind) << ": " << problem->message);
    return std::get<RedisReply>(answer).integer;
  };
  const long long first = id();
  auto admin_url = parse_redis_url(server.unix_url(), std::nullopt);
  RedisClient admin({std::get<RedisLocation>(admin_url), {}, std::chrono::milliseconds(250)});
  const auto killed = admin.call({"CLIENT", "KILL", "ID", std::to_string(first)});
  REQUIRE(std::holds_alternative<RedisReply>(killed));
  CHECK(std::get<RedisReply>(killed).integer == 1);
  check_pong(client.call({"PING"}));
  CHECK(id() != first);
}

TEST_CASE("store TLS: the server closing mid-command raises no SIGPIPE") {
  struct sigaction action {}, previous {};
  action.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &action, &previous);
  const Certificates certs;
  RedisServer server([&] {
    auto args = certs.server_args("server", "optional");
    args.insert(args.end(), {"--proto-max-bulk-len", "1mb"});
    return args;
  }(), RedisServer::Listen::tls);
  auto parsed = parse_redis_url(server.tcp_url("rediss"), std::nullopt);
  RedisClient client({std::get<RedisLocation>(parsed), {certs("ca.crt")}, std::chrono::milliseconds(250)});
  check_pong(client.call({"PING"}));
  const auto cut = check_failed(client.call({"SET", "big", std::string(32u << 20, 'x')},
                                            RedisClient::Clock::now() + std::chrono::seconds(20)));
  CHECK(cut.kind == StoreError::Kind::io);
  ::sigaction(SIGPIPE, &previous, nullptr);
}

}  // TEST_SUITE
