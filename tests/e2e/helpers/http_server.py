#!/usr/bin/env python3
"""A scripted HTTP/1.1 server on 127.0.0.1, for the preset scenarios.

usage: http_server.py [--lifetime SECONDS] [--log FILE] RESPONSE...

Listens on 127.0.0.1, port 0 (the kernel's choice), and prints the port on
stdout, one line, once it accepts connections. The Nth request gets the Nth
RESPONSE; the last one repeats. A RESPONSE is:

  CODE               that status (e.g. 503, 200, 404), a short text body
  CODE:ra=SECONDS    with "Retry-After: SECONDS"
  CODE:ra-date=SECONDS
                     with "Retry-After: <IMF-fixdate SECONDS from now>"
  hang               read the request, never answer (until the server ends)
  close              read the request, close the connection without a word

Each request is appended to --log FILE as "N METHOD PATH" (N from 1) when
it has been read, before it is answered, so that a scenario can wait for
it. The server exits after --lifetime seconds (default 60) whatever
happens, so that a scenario that dies cannot leave it behind for long.
"""
import email.utils
import http.server
import sys
import threading
import time


def parse_args(argv):
    lifetime, log, responses = 60.0, None, []
    while argv:
        if argv[0] == "--lifetime":
            lifetime, argv = float(argv[1]), argv[2:]
        elif argv[0] == "--log":
            log, argv = argv[1], argv[2:]
        else:
            responses.append(argv[0])
            argv = argv[1:]
    if not responses:
        sys.exit("http_server: no RESPONSE given")
    return lifetime, log, responses


LIFETIME, LOG, RESPONSES = parse_args(sys.argv[1:])
COUNT = 0
COUNT_LOCK = threading.Lock()
STOP = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the scenario reads --log
        pass

    def respond(self):
        global COUNT
        with COUNT_LOCK:
            COUNT += 1
            n = COUNT
            if LOG:
                with open(LOG, "a", encoding="utf-8") as f:
                    f.write(f"{n} {self.command} {self.path}\n")
        spec = RESPONSES[min(n, len(RESPONSES)) - 1]
        if spec == "hang":
            STOP.wait()
            return
        if spec == "close":
            self.close_connection = True
            return
        code, _, option = spec.partition(":")
        status = int(code)
        body = f"response {n}: {status}\n".encode()
        self.send_response(status)
        if option.startswith("ra="):
            self.send_header("Retry-After", option[3:])
        elif option.startswith("ra-date="):
            when = time.time() + float(option[8:])
            self.send_header("Retry-After", email.utils.formatdate(when, usegmt=True))
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    do_GET = respond
    do_HEAD = respond
    do_POST = respond


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True  # a hung handler does not hold up the exit


def main():
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    STOP.wait(LIFETIME)
    STOP.set()


if __name__ == "__main__":
    main()
