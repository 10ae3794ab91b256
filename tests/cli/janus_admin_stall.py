#!/usr/bin/python3
"""A stand-in for Janus's Admin API whose hangup_webrtc answers only when told.

janus_admin_stall.py DIR: listens on 127.0.0.1 (a free port, written to DIR/port), answers
list_sessions with no session, and on hangup_webrtc touches DIR/asked, waits until DIR/release
exists (at most 4 s, under the daemon's 5 s timeout), answers success and touches DIR/answered.
Anything else is answered as an error. Used to show that a hangup under way holds up no event.
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]


def touch(name):
    with open(os.path.join(DIR, name), "w", encoding="ascii"):
        pass


class Admin(BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        try:
            what = json.loads(self.rfile.read(length)).get("janus")
        except (ValueError, AttributeError):
            what = None
        if what == "list_sessions":
            self.reply({"janus": "success", "sessions": []})
        elif what == "hangup_webrtc":
            touch("asked")
            end = time.monotonic() + 4
            while time.monotonic() < end and not os.path.exists(os.path.join(DIR, "release")):
                time.sleep(0.02)
            self.reply({"janus": "success"})
            touch("answered")
        else:
            self.reply({"janus": "error", "error": {"code": 457, "reason": "unknown request"}})


server = ThreadingHTTPServer(("127.0.0.1", 0), Admin)
with open(os.path.join(DIR, "port.tmp"), "w", encoding="ascii") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
server.serve_forever()
