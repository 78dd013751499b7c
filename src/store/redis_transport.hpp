#pragma once
// The store's byte stream to a Redis server: a unix socket, TCP, or TLS
// over TCP, on an Asio event loop of its own, every step bounded by a
// deadline. Internal to src/store/ (it names Asio types); redis_client.cpp
// speaks RESP over it.
//
// Sends go through Asio's socket operations, which pass MSG_NOSIGNAL on
// Linux (boost/asio/detail/impl/socket_ops.ipp): a peer that has closed
// the connection gives EPIPE as an error, never SIGPIPE. With TLS, OpenSSL
// only sees memory buffers (Asio's engine); the socket writes are Asio's.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>

#include "store/redis_client.hpp"

namespace retryx::store {

class Transport {
 public:
  using Clock = std::chrono::steady_clock;
  Transport();
  ~Transport();

  // Resolve (a name), connect, and for TLS hand-shake and verify the
  // server's certificate against the host (its name, or its IP address).
  std::optional<StoreError> open(const RedisLocation& location, const RedisTlsFiles& files,
                                 Clock::time_point deadline);
  // All of bytes, or the error (io, timeout).
  std::optional<StoreError> write(std::string_view bytes, Clock::time_point deadline);
  // At least one byte into buffer, or the error (io: closed by the server,
  // reset; timeout).
  std::variant<std::size_t, StoreError> read_some(char* buffer, std::size_t size, Clock::time_point deadline);
  // Whether a connection kept from an earlier call is seen dead before a
  // command is written on it: the server closed or reset it (a restart, a
  // failover, its timeout), or sent anything at all while no command was
  // outstanding (under TLS, its close_notify). A command written there
  // would be lost, and the call failed, where a new connection answers.
  bool peer_gone();

 private:
  using Tcp = boost::asio::ip::tcp::socket;
  using Local = boost::asio::local::stream_protocol::socket;
  using Tls = boost::asio::ssl::stream<Tcp>;

  std::optional<StoreError> connect_tcp(const RedisLocation& location, Clock::time_point deadline, Tcp& socket);
  std::optional<StoreError> handshake(const RedisLocation& location, const RedisTlsFiles& files,
                                      Clock::time_point deadline);
  bool run_until(const bool& done, Clock::time_point deadline);
  void close();
  template <class Operation>
  void with_stream(Operation&& operation);

  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::ssl::context> tls_context_;
  std::unique_ptr<Tcp> tcp_;
  std::unique_ptr<Local> local_;
  std::unique_ptr<Tls> tls_;
};

}  // namespace retryx::store
