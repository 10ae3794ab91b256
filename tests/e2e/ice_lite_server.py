#!/usr/bin/python3
"""A media server hosting several meetings on ONE UDP port, told apart by its ICE ufrag.

What a Jitsi, LiveKit or mediasoup WebRtcServer does on a shared port, small enough to read:
  - an ICE-lite responder (RFC 8445 2.5, RFC 8489) on one socket that knows several server ufrags,
    each with its password and its meeting: it answers a Binding Request only if its USERNAME is
    SERVERUFRAG:CLIENTUFRAG for a ufrag it gave out, its MESSAGE-INTEGRITY is right under that
    ufrag's password and its FINGERPRINT holds; the answer carries XOR-MAPPED-ADDRESS,
    MESSAGE-INTEGRITY and FINGERPRINT; the sender's address is learned for that session, and the
    one a request with USE-CANDIDATE came from becomes the session's selected pair;
  - everything else (DTLS, SRTP, SRTCP: RFC 7983) goes to the session its sender was learned for,
    and is dropped if none; RTP packets are counted per session;
  - behind the demultiplexer, one aiortc RTCPeerConnection per session does DTLS and SRTP as a real
    peer: its ICE agent (aioice) is replaced by the session, so the PeerConnection sends and
    receives through the shared socket only.
Signalling (offers in, answers out, counters) is one JSON line each way on a unix socket
(ice_signal.py). Events go to stdout, one line each, so that the test can wait for them:
    ready ADDR PORT
    ice-request MEETING UFRAG CLIENT   first valid Binding Request from CLIENT (ip:port)
    ice-connected MEETING UFRAG CLIENT nominated (USE-CANDIDATE): the session's selected pair
    pc MEETING UFRAG STATE             the PeerConnection's state (connected once DTLS is done)
    media MEETING UFRAG CLIENT         the first RTP packet of the session
    stun-refused UFRAG CLIENT WHY      the first STUN message of this UFRAG and WHY not answered
                                       (unknown-ufrag, bad-integrity, not-stun, ...; all counted)
The same lines, each after its time, go to stderr: a timeline for post-mortems. The counters
({"op": "counts"}): per server ufrag its meeting, selected and learned client addresses, valid
Binding Requests, RTP and RTCP packets, the time of the last RTP packet and the PeerConnection's
state. The STUN code here is its own (not aioice's), so that the server checks the clients'
messages with another implementation than aiortc's.

usage: ice_lite_server.py ADDR PORT SIGNAL_SOCK MEETINGS_JSON
MEETINGS_JSON: {"A": ["ufrag", ...], "B": [...]}; every ufrag gets a random password.
"""
import asyncio
import hmac
import ipaddress
import json
import os
import secrets
import signal
import string
import struct
import sys
import time
import zlib

import aiortc.rtcicetransport
from aioice.candidate import Candidate
from aioice.ice import ConnectionClosed
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
XOR_MAPPED_ADDRESS = 0x0020
USE_CANDIDATE = 0x0025
FINGERPRINT = 0x8028
FINGERPRINT_XOR = 0x5354554E
ICE_CHARS = string.ascii_letters + string.digits + "+/"


def event(*words):
    print(*words, flush=True)
    print(f"{time.time():.3f}", *words, file=sys.stderr, flush=True)  # a timeline, for post-mortems


def addr_text(addr):
    return f"{addr[0]}:{addr[1]}"


def stun_parse(data):
    """(type, transaction id, [(attr type, value, offset of the attribute)]) or None."""
    if len(data) < 20:
        return None
    mtype, length, cookie = struct.unpack_from("!HHI", data)
    if cookie != COOKIE or length % 4 or 20 + length != len(data) or mtype & 0xC000:
        return None
    attrs, pos = [], 20
    while pos < len(data):
        if pos + 4 > len(data):
            return None
        atype, alen = struct.unpack_from("!HH", data, pos)
        if pos + 4 + alen > len(data):
            return None
        attrs.append((atype, data[pos + 4 : pos + 4 + alen], pos))
        pos += 4 + alen + (-alen % 4)
    return mtype, data[8:20], attrs


def with_length(head, length):
    return head[:2] + struct.pack("!H", length) + head[4:20]


def integrity(data, upto, key):
    """HMAC-SHA1 over the message before the MESSAGE-INTEGRITY at upto, its length counting it."""
    return hmac.new(key, with_length(data, upto - 20 + 24) + data[20:upto], "sha1").digest()


def fingerprint(data, upto):
    crc = zlib.crc32(with_length(data, upto - 20 + 8) + data[20:upto])
    return (crc ^ FINGERPRINT_XOR) & 0xFFFFFFFF


def stun_success(tid, addr, key):
    ip = ipaddress.ip_address(addr[0])
    xport = addr[1] ^ (COOKIE >> 16)
    if ip.version == 4:
        xaddr = struct.pack("!BBH", 0, 1, xport) + bytes(
            a ^ b for a, b in zip(ip.packed, struct.pack("!I", COOKIE)))
    else:
        xaddr = struct.pack("!BBH", 0, 2, xport) + bytes(
            a ^ b for a, b in zip(ip.packed, struct.pack("!I", COOKIE) + tid))
    body = struct.pack("!HH", XOR_MAPPED_ADDRESS, len(xaddr)) + xaddr
    head = struct.pack("!HHI", BINDING_SUCCESS, 0, COOKIE) + tid
    msg = head + body
    body += struct.pack("!HH", MESSAGE_INTEGRITY, 20) + integrity(msg, len(msg), key)
    msg = with_length(head, len(body)) + body
    body += struct.pack("!HHI", FINGERPRINT, 4, fingerprint(msg, len(msg)))
    return with_length(head, len(body)) + body


class Session:
    """One client's PeerConnection on the shared port, as aiortc sees its ICE agent.

    aiortc's RTCIceGatherer makes an aioice Connection; this class stands in for it (the
    attributes and coroutines aiortc uses), so that DTLS and SRTP go through the shared socket.
    """

    def __init__(self, server, meeting, ufrag, pwd):
        self.server, self.meeting = server, meeting
        self.ice_controlling = False
        self.remote_is_lite = False
        self.local_username, self.local_password = ufrag, pwd
        self.remote_username = self.remote_password = None
        self.local_candidates = [Candidate(
            foundation="1", component=1, transport="udp", priority=2130706431,
            host=server.addr, port=server.port, type="host")]
        self.remote_candidates = []
        self.learned = set()
        self.selected = None
        self.nominated = asyncio.Event()
        self.queue = asyncio.Queue()
        self.closed = asyncio.get_running_loop().create_future()
        self.event_given = False
        self.requests = self.rtp = self.rtcp = 0
        self.last_rtp = None
        self.pc = None

    async def gather_candidates(self):
        pass

    async def add_remote_candidate(self, candidate):
        if candidate is not None:
            self.remote_candidates.append(candidate)

    async def connect(self):
        # A lite agent does no checks of its own: the client's nomination selects the pair.
        try:
            await asyncio.wait_for(self.nominated.wait(), 120)
        except asyncio.TimeoutError:
            raise ConnectionError("no nomination")

    async def close(self):
        if not self.closed.done():
            self.closed.set_result(ConnectionClosed())
            self.queue.put_nowait(None)
            self.server.forget(self)

    async def get_event(self):
        if self.event_given:
            await asyncio.Future()  # aiortc's monitor is cancelled on close
        self.event_given = True
        return await self.closed

    async def recv(self):
        if not self.nominated.is_set():
            raise ConnectionError("not connected")
        data = await self.queue.get()
        if data is None:
            raise ConnectionError("closed")
        return data

    async def send(self, data):
        if self.selected is None or self.closed.done():
            raise ConnectionError("not connected")
        self.server.transport.sendto(data, self.selected)

    def counts(self):
        return {"meeting": self.meeting, "client": self.selected and addr_text(self.selected),
                "learned": sorted(addr_text(a) for a in self.learned),
                "requests": self.requests, "rtp": self.rtp, "rtcp": self.rtcp,
                "last_rtp": self.last_rtp, "state": self.pc.connectionState if self.pc else None}


class Server(asyncio.DatagramProtocol):
    def __init__(self, addr, port, meetings):
        self.addr, self.port = addr, port
        self.meeting_of = {u: m for m, us in meetings.items() for u in us}
        self.pwd_of = {u: "".join(secrets.choice(ICE_CHARS) for _ in range(24))
                       for u in self.meeting_of}
        self.sessions = {}  # server ufrag -> Session
        self.by_sender = {}  # client (ip, port) -> Session
        self.refused = {}  # (ufrag, why) -> count, for requests not answered
        self.lock = asyncio.Lock()
        self.pending = None
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def forget(self, session):
        if self.sessions.get(session.local_username) is session:
            del self.sessions[session.local_username]
        for a in session.learned:
            if self.by_sender.get(a) is session:
                del self.by_sender[a]

    def refuse(self, ufrag, addr, why):
        key = f"{ufrag} {why}"
        self.refused[key] = self.refused.get(key, 0) + 1
        if self.refused[key] == 1:
            event("stun-refused", ufrag, addr_text(addr), why)

    def datagram_received(self, data, addr):
        if not data:
            return
        if data[0] < 4:
            self.stun_received(data, addr)
            return
        s = self.by_sender.get(addr)
        if s is None:
            return
        if 128 <= data[0] < 192 and len(data) > 1:
            if 192 <= data[1] <= 223:  # RTCP packet types 192-223 (RFC 5761)
                s.rtcp += 1
            else:
                s.rtp += 1
                s.last_rtp = time.time()
                if s.rtp == 1:
                    event("media", s.meeting, s.local_username, addr_text(addr))
        s.queue.put_nowait(data)

    def stun_received(self, data, addr):
        msg = stun_parse(data)
        if msg is None:
            self.refuse("-", addr, "not-stun")
            return
        if msg[0] != BINDING_REQUEST:  # indications (keepalives): nothing to answer
            return
        mtype, tid, attrs = msg
        found = {t: (v, off) for t, v, off in reversed(attrs)}  # the first of each type
        if USERNAME not in found or b":" not in found[USERNAME][0]:
            self.refuse("-", addr, "no-username")
            return
        ufrag, client_ufrag = found[USERNAME][0].decode("utf-8", "replace").split(":", 1)
        s = self.sessions.get(ufrag)
        if s is None:
            self.refuse(ufrag, addr, "unknown-ufrag")
            return
        key = s.local_password.encode()
        if FINGERPRINT in found:
            value, off = found[FINGERPRINT]
            if struct.unpack("!I", value)[0] != fingerprint(data, off):
                self.refuse(ufrag, addr, "bad-fingerprint")
                return
        if MESSAGE_INTEGRITY not in found:
            self.refuse(ufrag, addr, "no-integrity")
            return
        value, off = found[MESSAGE_INTEGRITY]
        if not hmac.compare_digest(value, integrity(data, off, key)):
            self.refuse(ufrag, addr, "bad-integrity")
            return
        if s.remote_username is not None and client_ufrag != s.remote_username:
            self.refuse(ufrag, addr, "other-client-ufrag")
            return
        self.transport.sendto(stun_success(tid, addr, key), addr)
        s.requests += 1
        if addr not in s.learned:
            s.learned.add(addr)
            self.by_sender[addr] = s
            event("ice-request", s.meeting, ufrag, addr_text(addr))
        if USE_CANDIDATE in found and s.selected is None:
            s.selected = addr
            s.nominated.set()
            event("ice-connected", s.meeting, ufrag, addr_text(addr))

    def make_connection(self, **kwargs):
        """Stands in for aioice.Connection in aiortc.rtcicetransport while an offer is answered."""
        if self.pending is None:
            raise RuntimeError("one m-line per offer (bundle) only")
        s, self.pending = self.pending, None
        return s

    async def offer(self, ufrag, sdp):
        if ufrag not in self.meeting_of:
            raise ValueError(f"ufrag {ufrag} is in no meeting")
        async with self.lock:
            old = self.sessions.pop(ufrag, None)
            if old is not None and old.pc is not None:
                await old.pc.close()
            s = Session(self, self.meeting_of[ufrag], ufrag, self.pwd_of[ufrag])
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            s.pc = pc

            @pc.on("connectionstatechange")
            def state():
                event("pc", s.meeting, ufrag, pc.connectionState)

            @pc.on("track")
            def track(t):
                asyncio.ensure_future(drain(t))

            self.pending = s
            try:
                await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
            finally:
                self.pending = None
            self.sessions[ufrag] = s
            await pc.setLocalDescription(await pc.createAnswer())
            answer = pc.localDescription.sdp
        # A lite agent says so at session level (RFC 8839 5.3): the client then controls alone.
        head, sep, rest = answer.partition("\r\nm=")
        return head + "\r\na=ice-lite" + sep + rest

    def counts(self):
        return {"sessions": {u: s.counts() for u, s in self.sessions.items()},
                "refused": self.refused}


async def drain(track):
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        pass


async def main():
    addr, port, sock_path, meetings_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open(meetings_path) as f:
        meetings = json.load(f)
    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(
        lambda: Server(addr, port, meetings), local_addr=(addr, port))
    aiortc.rtcicetransport.Connection = server.make_connection

    async def signalling(reader, writer):
        try:
            req = json.loads(await reader.readline())
            if req.get("op") == "offer":
                reply = {"sdp": await server.offer(req["ufrag"], req["sdp"])}
            elif req.get("op") == "counts":
                reply = server.counts()
            else:
                reply = {"error": f"unknown op {req.get('op')}"}
        except Exception as e:  # one line back to the asker, the server goes on
            reply = {"error": f"{type(e).__name__}: {e}"}
        writer.write(json.dumps(reply).encode() + b"\n")
        await writer.drain()
        writer.close()

    if os.path.exists(sock_path):
        os.unlink(sock_path)
    unix = await asyncio.start_unix_server(signalling, sock_path)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    event("ready", addr, port)
    await stop
    unix.close()
    for s in list(server.sessions.values()):
        await s.pc.close()
    transport.close()


if __name__ == "__main__":
    asyncio.run(main())
