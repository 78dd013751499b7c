#include "store/redis_transport.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include "store/name_lookup.hpp"

namespace retryx::store {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

StoreError timed_out(std::string_view step) {
  return StoreError{StoreError::Kind::timeout, fmt::format("no answer within the deadline ({})", step)};
}

std::string endpoint_text(const RedisLocation& location) {
  const bool v6 = location.host.find(':') != std::string::npos;
  return fmt::format("{}{}{}:{}", v6 ? "[" : "", location.host, v6 ? "]" : "", location.port);
}

}  // namespace

Transport::Transport() = default;
Transport::~Transport() = default;

// Runs the event loop until the pending operation's handler has set
// `done`, or until the deadline: then the socket is closed, so that the
// operation ends at once (aborted), and the loop is drained of it.
bool Transport::run_until(const bool& done, Clock::time_point deadline) {
  io_.restart();
  while (!done) {
    if (Clock::now() >= deadline) {
      close();
      io_.restart();
      io_.run();
      return false;
    }
    if (io_.run_one_until(deadline) == 0 && !done && Clock::now() < deadline) {
      close();  // no handler left to wait for: cannot happen, but never spin
      return false;
    }
  }
  return true;
}

void Transport::close() {
  error_code ignored;
  if (tcp_) tcp_->close(ignored);
  if (local_) local_->close(ignored);
  if (tls_) tls_->lowest_layer().close(ignored);
}

bool Transport::peer_gone() {
  int fd = -1;
  if (tls_) fd = tls_->lowest_layer().native_handle();
  else if (tcp_) fd = tcp_->native_handle();
  else if (local_) fd = local_->native_handle();
  if (fd < 0) return true;
  // A peek, never a read. No command is outstanding, so any byte is news:
  // in plain text, what no command asked for; under TLS, most often the
  // server's close_notify before its FIN (Redis sends one when it closes a
  // client: its idle timeout, CLIENT KILL, a failover's kill of the normal
  // clients). A new connection is never wrong: nothing was sent on this one.
  char byte = 0;
  const ssize_t got = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (got >= 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

template <class Operation>
void Transport::with_stream(Operation&& operation) {
  if (tls_)
    operation(*tls_);
  else if (tcp_)
    operation(*tcp_);
  else if (local_)
    operation(*local_);
}

std::optional<StoreError> Transport::connect_tcp(const RedisLocation& location, Clock::time_point deadline,
                                                 Tcp& socket) {
  const LookupResult found = look_up(location.host, deadline);
  if (found.timed_out) return timed_out(fmt::format("resolving {}", location.host));
  if (found.addresses.empty())
    return StoreError{StoreError::Kind::resolve, fmt::format("cannot resolve {}: {}", location.host, found.error)};
  std::string last_error;
  for (const std::string& text : found.addresses) {
    error_code ec;
    const auto address = asio::ip::make_address(text, ec);
    if (ec) continue;
    const asio::ip::tcp::endpoint endpoint(address, location.port);
    bool done = false;
    error_code result;
    socket.async_connect(endpoint, [&](const error_code& e) {
      result = e;
      done = true;
    });
    if (!run_until(done, deadline)) return timed_out(fmt::format("connecting to {}", endpoint_text(location)));
    if (!result) {
      socket.set_option(asio::ip::tcp::no_delay(true), ec);
      return std::nullopt;
    }
    last_error = result.message();
    socket.close(ec);
  }
  return StoreError{StoreError::Kind::connect,
                    fmt::format("cannot connect to {}: {}", endpoint_text(location), last_error)};
}

std::optional<StoreError> Transport::handshake(const RedisLocation& location, const RedisTlsFiles& files,
                                               Clock::time_point deadline) {
  const auto tls_error = [](std::string message) {
    return StoreError{StoreError::Kind::tls, std::move(message)};
  };
  error_code ec;
  tls_context_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  tls_context_->set_verify_mode(asio::ssl::verify_peer, ec);
  if (files.ca_file.empty()) {
    tls_context_->set_default_verify_paths(ec);
    if (ec) return tls_error("cannot load the system's trusted certificates: " + ec.message());
  } else {
    tls_context_->load_verify_file(files.ca_file, ec);
    if (ec) return tls_error(fmt::format("cannot load the CA file {}: {}", files.ca_file, ec.message()));
  }
  if (!files.cert_file.empty()) {
    tls_context_->use_certificate_chain_file(files.cert_file, ec);
    if (ec) return tls_error(fmt::format("cannot load the certificate {}: {}", files.cert_file, ec.message()));
    const std::string& key = files.key_file.empty() ? files.cert_file : files.key_file;
    tls_context_->use_private_key_file(key, asio::ssl::context::pem, ec);
    if (ec) return tls_error(fmt::format("cannot load the key {}: {}", key, ec.message()));
  }
  tls_ = std::make_unique<Tls>(io_, *tls_context_);
  if (auto problem = connect_tcp(location, deadline, tls_->next_layer())) return problem;

  // OpenSSL checks the name (or the IP address) during the handshake, so
  // that a mismatch is reported as such (X509_V_ERR_HOSTNAME_MISMATCH).
  SSL* ssl = tls_->native_handle();
  asio::ip::make_address(location.host, ec);
  if (!ec) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), location.host.c_str());
  } else {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(location.host.c_str()));
    SSL_set1_host(ssl, location.host.c_str());
  }
  bool done = false;
  error_code result;
  tls_->async_handshake(asio::ssl::stream_base::client, [&](const error_code& e) {
    result = e;
    done = true;
  });
  if (!run_until(done, deadline)) return timed_out(fmt::format("TLS handshake with {}", endpoint_text(location)));
  if (!result) return std::nullopt;
  std::string message = fmt::format("TLS handshake with {} failed: {}", endpoint_text(location), result.message());
  if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK)
    message += fmt::format(" ({})", X509_verify_cert_error_string(verify));
  return tls_error(message);
}

std::optional<StoreError> Transport::open(const RedisLocation& location, const RedisTlsFiles& files,
                                          Clock::time_point deadline) {
  switch (location.transport) {
    case RedisLocation::Transport::unix_socket: {
      if (location.socket_path.size() >= sizeof(sockaddr_un{}.sun_path))
        return StoreError{StoreError::Kind::connect, "the socket's path is too long: " + location.socket_path};
      local_ = std::make_unique<Local>(io_);
      bool done = false;
      error_code result;
      local_->async_connect(asio::local::stream_protocol::endpoint(location.socket_path), [&](const error_code& e) {
        result = e;
        done = true;
      });
      if (!run_until(done, deadline)) return timed_out("connecting to " + location.socket_path);
      if (result)
        return StoreError{StoreError::Kind::connect,
                          fmt::format("cannot connect to {}: {}", location.socket_path, result.message())};
      return std::nullopt;
    }
    case RedisLocation::Transport::tcp:
      tcp_ = std::make_unique<Tcp>(io_);
      return connect_tcp(location, deadline, *tcp_);
    case RedisLocation::Transport::tls:
      return handshake(location, files, deadline);
  }
  return StoreError{StoreError::Kind::internal, "unknown transport"};
}

std::optional<StoreError> Transport::write(std::string_view bytes, Clock::time_point deadline) {
  bool done = false;
  error_code result;
  with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()), [&](const error_code& e, std::size_t) {
      result = e;
      done = true;
    });
  });
  if (!run_until(done, deadline)) return timed_out("sending the command");
  if (result) return StoreError{StoreError::Kind::io, "sending the command failed: " + result.message()};
  return std::nullopt;
}

std::variant<std::size_t, StoreError> Transport::read_some(char* buffer, std::size_t size,
                                                           Clock::time_point deadline) {
  bool done = false;
  error_code result;
  std::size_t got = 0;
  with_stream([&](auto& stream) {
    stream.async_read_some(asio::buffer(buffer, size), [&](const error_code& e, std::size_t n) {
      result = e;
      got = n;
      done = true;
    });
  });
  if (!run_until(done, deadline)) return timed_out("waiting for the reply");
  if (got > 0) return got;
  if (result == asio::error::eof || result == asio::ssl::error::stream_truncated)
    return StoreError{StoreError::Kind::io, "the server closed the connection"};
  return StoreError{StoreError::Kind::io, "reading the reply failed: " + result.message()};
}

}  // namespace retryx::store
