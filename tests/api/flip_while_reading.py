#!/usr/bin/python3
"""Replaces one meeting over and over while others read it, on the control API.

flip_while_reading.py SOCK MEETING ADDR PUTS: one thread PUTs MEETING PUTS times, in turn as two
versions (ports 30000, blocking DE; ports 30001-30002, blocking DE and FR), make-before-break each
time, while three threads read it until then: the join-time check of ADDR (a German address: a
drop under either version), GET /v1/meetings/MEETING, and GET /v1/meetings. Every reply must show
the meeting as one of its versions: the check a drop by MEETING, each GET the meeting with its
ports. Prints one line: "puts P reads R bad B", then the first bad replies, one a line.
"""
import http.client
import json
import socket
import sys
import threading

SOCK, MEETING, ADDR, PUTS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
VERSIONS = [{"ports": [30000], "block": ["DE"]},
            {"ports": ["30001-30002"], "block": ["DE", "FR"]}]


class Conn(http.client.HTTPConnection):
    """An HTTP/1.1 connection over the API's unix socket, kept open between requests."""

    def __init__(self):
        super().__init__("geoblock")

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(SOCK)


def ask(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    rep = conn.getresponse()
    return rep.status, rep.read().decode()


done = threading.Event()
lock = threading.Lock()
bad = []
counts = {"puts": 0, "reads": 0}


def flip():
    try:
        conn = Conn()
        for i in range(PUTS):
            status, text = ask(conn, "PUT", "/v1/meetings/" + MEETING, VERSIONS[i % 2])
            if status not in (200, 201):
                with lock:
                    bad.append("PUT %d %s" % (status, text))
            with lock:
                counts["puts"] += 1
    except (OSError, http.client.HTTPException) as e:
        with lock:
            bad.append("PUT failed: %s" % e)
    finally:
        done.set()


def ported(m):
    return isinstance(m, dict) and m.get("name") == MEETING and bool(m.get("ports"))


def read(path, good):
    try:
        conn = Conn()
        while not done.is_set():
            status, text = ask(conn, "GET", path)
            ok = status == 200 and good(json.loads(text))
            with lock:
                counts["reads"] += 1
                if not ok:
                    bad.append("GET %s %d %s" % (path, status, text.strip()[:300]))
    except (OSError, ValueError, http.client.HTTPException) as e:
        with lock:
            bad.append("GET %s failed: %s" % (path, e))


readers = [
    threading.Thread(target=read, args=("/v1/meetings/%s/check?addr=%s" % (MEETING, ADDR),
                                        lambda o: o.get("meeting") == MEETING and
                                        o.get("verdict") == "dropped" and
                                        o.get("block") is True)),
    threading.Thread(target=read, args=("/v1/meetings/" + MEETING, ported)),
    threading.Thread(target=read, args=("/v1/meetings",
                                        lambda o: any(ported(m) for m in o["meetings"]))),
]
flipper = threading.Thread(target=flip)
for t in readers:
    t.start()
flipper.start()
flipper.join()
for t in readers:
    t.join()
print("puts %d reads %d bad %d" % (counts["puts"], counts["reads"], len(bad)))
for line in bad[:5]:
    print(line)
