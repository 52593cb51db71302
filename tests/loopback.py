"""A tiny HTTP server on 127.0.0.1 for download tests; each test sets its behaviour."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer:
    def __init__(self):
        self.body = b""
        self.status = 200
        self.truncate_to: int | None = None  # announce len(body) but send fewer bytes
        self.stall_headers = False  # take the request, then answer nothing
        self.stall_after: int | None = None  # send this many body bytes, then nothing more
        self.trickle: float | None = None  # seconds between 1 KiB pieces of the body
        self.stalled = threading.Event()  # set when a stall begins
        self.release = threading.Event()  # ends every stall and trickle (set on exit)
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                if server.stall_headers:
                    server.stalled.set()
                    server.release.wait(60)
                    return
                if server.status != 200:
                    self.send_error(server.status)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                body = server.body if server.truncate_to is None else server.body[:server.truncate_to]
                try:
                    if server.trickle is not None:
                        for i in range(0, len(body), 1024):
                            self.wfile.write(body[i:i + 1024])
                            self.wfile.flush()
                            if server.release.wait(server.trickle):
                                return
                    elif server.stall_after is not None:
                        self.wfile.write(body[:server.stall_after])
                        self.wfile.flush()
                        server.stalled.set()
                        server.release.wait(60)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (cancelled), as some tests intend

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/input.txt"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
