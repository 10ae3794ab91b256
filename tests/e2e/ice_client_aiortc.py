#!/usr/bin/python3
"""A WebRTC client on aiortc (Debian's python3-aiortc): offers one audio track to a meeting's
server ufrag through the test's signalling socket and sends silence (Opus over SRTP) once
connected, until SIGTERM or MAX_SECONDS.

Prints one line per event: `local-ufrag U`, `candidate LINE` (its own candidates as offered),
`ice STATE`, `conn STATE`.

usage: ice_client_aiortc.py SIGNAL_SOCK SERVER_UFRAG [MAX_SECONDS]
"""
import asyncio
import signal
import sys
import time

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

import ice_signal


def event(*words):
    print(*words, flush=True)
    print(f"{time.time():.3f}", *words, file=sys.stderr, flush=True)  # a timeline, for post-mortems


async def main():
    sock, ufrag = sys.argv[1], sys.argv[2]
    max_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 120
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN server: host candidates only

    @pc.on("iceconnectionstatechange")
    def ice():
        event("ice", pc.iceConnectionState)

    @pc.on("connectionstatechange")
    def conn():
        event("conn", pc.connectionState)

    pc.addTrack(AudioStreamTrack())
    await pc.setLocalDescription(await pc.createOffer())
    for line in pc.localDescription.sdp.splitlines():
        if line.startswith("a=ice-ufrag:"):
            event("local-ufrag", line.split(":", 1)[1])
        elif line.startswith("a=candidate:"):
            event("candidate", line[2:])
    answer = await loop.run_in_executor(
        None, ice_signal.ask, sock, {"op": "offer", "ufrag": ufrag, "sdp": pc.localDescription.sdp})
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    try:
        await asyncio.wait_for(stop, max_seconds)
    except asyncio.TimeoutError:
        pass
    await pc.close()


if __name__ == "__main__":
    asyncio.run(main())
