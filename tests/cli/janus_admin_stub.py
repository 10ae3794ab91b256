#!/usr/bin/python3
"""A stand-in for Janus's Admin API, on loopback.

janus_admin_stub.py DIR MODE: listens on 127.0.0.1 (a free port, written to DIR/port).
MODE "record": list_sessions is answered with no session, and each hangup_webrtc with success,
its path (/admin/SESSION/HANDLE) appended to DIR/hangups as a line. MODE "stall": the same, but
a hangup_webrtc touches DIR/asked, waits until DIR/release exists (at most 4 s, under the
daemon's 5 s timeout), then is answered and touches DIR/answered (a hangup under way must hold
up no event). MODE "bare": every request is answered {"janus": "success"} and nothing more (no
"sessions" list): not Janus's answer. MODE "refuse": as "record", but each hangup_webrtc is
answered as an error (a wrong admin secret). MODE "slowlist": as "record", but list_sessions
touches DIR/listing, waits until DIR/release exists (at most 4 s), then is answered and touches
DIR/listed (events come while the daemon asks). MODE "silent": as "record", but each hangup_webrtc
is answered only after 8 s, past the daemon's 5 s timeout (Janus unreachable). Anything else is
answered as an error.
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR, MODE = sys.argv[1], sys.argv[2]


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
        if MODE == "bare":
            self.reply({"janus": "success"})
        elif what == "list_sessions":
            if MODE == "slowlist":
                touch("listing")
                end = time.monotonic() + 4
                while time.monotonic() < end and not os.path.exists(os.path.join(DIR, "release")):
                    time.sleep(0.02)
            self.reply({"janus": "success", "sessions": []})
            if MODE == "slowlist":
                touch("listed")
        elif what == "hangup_webrtc":
            with open(os.path.join(DIR, "hangups"), "a", encoding="ascii") as f:
                f.write(self.path + "\n")
            if MODE == "stall":
                touch("asked")
                end = time.monotonic() + 4
                while time.monotonic() < end and not os.path.exists(os.path.join(DIR, "release")):
                    time.sleep(0.02)
            if MODE == "silent":
                time.sleep(8)
            if MODE == "refuse":
                self.reply({"janus": "error", "error": {"code": 403, "reason": "Unauthorized"}})
                return
            self.reply({"janus": "success"})
            if MODE == "stall":
                touch("answered")
        else:
            self.reply({"janus": "error", "error": {"code": 457, "reason": "unknown request"}})


server = ThreadingHTTPServer(("127.0.0.1", 0), Admin)
with open(os.path.join(DIR, "port.tmp"), "w", encoding="ascii") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
server.serve_forever()
