#!/usr/bin/python3
"""A Janus VideoRoom client on aiortc (Debian's python3-aiortc), over Janus's HTTP API: creates
a session, attaches to janus.plugin.videoroom, joins ROOM as a publisher and publishes one audio
track (Opus silence over SRTP), or with FEED subscribes to that publisher and counts the audio
frames it receives; keeps polling Janus's events, until SIGTERM or MAX_SECONDS.

Prints one line per event: `session ID`, `handle ID`, `joined ROOM`, `publisher-id ID`,
`candidate LINE` (its own, as offered), `janus-port PORT` (Janus's UDP host candidate in its
SDP), `ice STATE`, `conn STATE`, `received N` (a subscriber, every 50 frames), and what Janus says
of the PeerConnection: `janus webrtcup`, `janus media TYPE receiving|stopped`,
`janus hangup REASON`.

usage: janus_client_aiortc.py JANUS_URL ROOM [MAX_SECONDS [FEED]]
"""
import asyncio
import signal
import sys
import threading

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

from janus_api import call, event, janus_ports, pc_event, poll


async def main():
    base, room = sys.argv[1].rstrip("/"), int(sys.argv[2])
    max_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 120
    feed = int(sys.argv[4]) if len(sys.argv) > 4 else None
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    plugin_events = asyncio.Queue()

    def on_event(ev):
        if not pc_event(ev) and ev.get("janus") == "event":
            loop.call_soon_threadsafe(plugin_events.put_nowait, ev)

    sid = call(base, {"janus": "create"})["data"]["id"]
    event("session", sid)
    stopping = threading.Event()
    threading.Thread(target=poll, args=(base, sid, on_event, stopping), daemon=True).start()
    hid = call(f"{base}/{sid}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})["data"]["id"]
    event("handle", hid)

    async def plugin_event():
        ev = await asyncio.wait_for(plugin_events.get(), 20)
        data = ev.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise RuntimeError(data["error"])
        return data, ev.get("jsep")

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN server: host candidates only

    @pc.on("iceconnectionstatechange")
    def ice():
        event("ice", pc.iceConnectionState)

    @pc.on("connectionstatechange")
    def conn():
        event("conn", pc.connectionState)

    if feed is None:
        call(f"{base}/{sid}/{hid}", {"janus": "message", "body": {
            "request": "join", "ptype": "publisher", "room": room}})
        data, _ = await plugin_event()
        event("joined", data.get("room"))
        event("publisher-id", data.get("id"))
        pc.addTrack(AudioStreamTrack())
        await pc.setLocalDescription(await pc.createOffer())
        for line in pc.localDescription.sdp.splitlines():
            if line.startswith("a=candidate:"):
                event("candidate", line[2:])
        call(f"{base}/{sid}/{hid}", {"janus": "message",
                                     "body": {"request": "configure", "audio": True, "video": False},
                                     "jsep": {"type": "offer", "sdp": pc.localDescription.sdp}})
        jsep = None
        while not jsep:
            _, jsep = await plugin_event()
        janus_ports(jsep["sdp"])
        await pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], "answer"))
    else:
        # A subscriber to FEED: Janus offers, the client answers and counts what it receives.
        @pc.on("track")
        def on_track(track):
            async def count():
                n = 0
                while True:
                    try:
                        await track.recv()
                    except Exception:  # noqa: BLE001 - the track ended
                        return
                    n += 1
                    if n % 50 == 0:
                        event("received", n)
            asyncio.ensure_future(count())

        call(f"{base}/{sid}/{hid}", {"janus": "message", "body": {
            "request": "join", "ptype": "subscriber", "room": room, "streams": [{"feed": feed}]}})
        jsep = None
        while not jsep:
            data, jsep = await plugin_event()
        event("joined", data.get("room"))
        janus_ports(jsep["sdp"])
        await pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        call(f"{base}/{sid}/{hid}", {"janus": "message", "body": {"request": "start"},
                                     "jsep": {"type": "answer", "sdp": pc.localDescription.sdp}})
    try:
        await asyncio.wait_for(stop, max_seconds)
    except asyncio.TimeoutError:
        pass
    stopping.set()
    await pc.close()
    try:
        call(f"{base}/{sid}", {"janus": "destroy"}, timeout=2)
    except Exception:  # noqa: BLE001 - the session times out on Janus's side anyway
        pass


if __name__ == "__main__":
    asyncio.run(main())
