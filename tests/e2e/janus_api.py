"""What the Janus clients of tests/e2e share: their event lines, Janus's HTTP API (requests and the
long poll that brings its events and keeps the session alive)."""
import json
import random
import sys
import threading
import time
import urllib.request

PRINT_LOCK = threading.Lock()  # events come from the poll thread too: one whole line at a time


def event(*words):
    line = " ".join(str(w) for w in words)
    with PRINT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        sys.stderr.write(f"{time.time():.3f} {line}\n")  # a timeline, for post-mortems
        sys.stderr.flush()


def call(url, body=None, timeout=10):
    data = None
    if body is not None:
        body = dict(body, transaction=f"{random.getrandbits(48):x}")
        data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def poll(base, sid, on_event, stopping):
    """Janus's long poll: each answer one event or a list; also keeps the session alive."""
    while not stopping.is_set():
        try:
            got = call(f"{base}/{sid}?maxev=10&rid={int(time.time() * 1000)}", timeout=40)
        except Exception as e:  # noqa: BLE001 - reported, and retried
            print(f"poll: {e}", file=sys.stderr, flush=True)
            time.sleep(0.2)
            continue
        for ev in got if isinstance(got, list) else [got]:
            on_event(ev)


def pc_event(ev):
    """Prints what Janus says of the PeerConnection; returns whether ev was such an event."""
    kind = ev.get("janus")
    if kind == "webrtcup":
        event("janus", "webrtcup")
    elif kind == "media":
        event("janus", "media", ev.get("type"), "receiving" if ev.get("receiving") else "stopped")
    elif kind == "hangup":
        event("janus", "hangup", ev.get("reason", "").replace(" ", "_"))
    else:
        return False
    return True


def janus_ports(sdp):
    """Prints Janus's UDP host candidates' ports (`janus-port PORT`) from its SDP."""
    for line in sdp.splitlines():
        words = line.split()
        if line.startswith("a=candidate:") and words[2].lower() == "udp" and words[7] == "host":
            event("janus-port", words[5])
