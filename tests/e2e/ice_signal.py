"""Signalling for the shared-port ICE test: one JSON line each way over the server's unix socket.

The socket is a file, so a client in any network namespace reaches the server without a network
path of its own; signalling is not what the test proves. Run as a script, it asks once and prints
the answer (the test reads the server's counters so: ice_signal.py SOCK '{"op": "counts"}').
"""
import json
import socket
import sys


def ask(path, request, timeout=20.0):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(json.dumps(request).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    reply = json.loads(buf)
    if "error" in reply:
        raise RuntimeError(reply["error"])
    return reply


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: ice_signal.py SOCK JSON")
    print(json.dumps(ask(sys.argv[1], json.loads(sys.argv[2]))))
