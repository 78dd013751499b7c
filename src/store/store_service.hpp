#pragma once
// The `retryx-store` helper's side of the store's link (see
// store_frames.hpp for the frames, shared_store.cpp for retryx's side).
// Requests come in frames on in_fd, replies go out on out_fd:
//
//   ["connect", url, has_env_password "0"/"1", env_password, cacert, cert, key]
//       first, once: where the server is and how to reach it. Reply
//       ["ready"] (nothing is connected yet): retryx bounds the helper's
//       start apart from the store's 250 ms. A URL that cannot be used is
//       said in the reply to every script.
//   ["script", deadline_ms, body, numkeys, keys..., args...]
//       runs the script (EVALSHA, EVAL on NOSCRIPT) within deadline_ms of
//       the request's arrival (connecting included) and replies
//       ["ok", integers as decimal text...] when the reply is an integer
//       (one) or a flat array of integers (a nil or an empty array: none),
//       else ["error", "<kind>: <message>"] (kind as kind_name; never the
//       password).
//
// One request at a time, each answered before the next is read.
namespace retryx::store {

// Serves until in_fd reaches its end (returns 0) or the peer breaks the
// protocol or the socket fails (returns 1: the peer sees the end of the
// stream and knows the helper is gone).
int serve_store_requests(int in_fd, int out_fd);

}  // namespace retryx::store
