#!/usr/bin/python3
"""A WebRTC client on GStreamer's webrtcbin (libnice ICE; python3-gst-1.0): offers one Opus
audio stream (a test tone) to a meeting's server ufrag through the test's signalling socket and
sends it over SRTP once connected, until SIGTERM or MAX_SECONDS.

Prints one line per event: `local-ufrag U`, `candidate LINE` (its own candidates as offered),
`ice STATE`, `conn STATE` (the same words as the aiortc client: new, checking, connected,
completed, failed, ...).

usage: ice_client_webrtcbin.py SIGNAL_SOCK SERVER_UFRAG [MAX_SECONDS]
"""
import signal
import sys
import time
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

import ice_signal  # noqa: E402

RTP_CAPS = "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000"
PIPELINE = (
    "webrtcbin name=w bundle-policy=max-bundle "
    "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc ! "
    f"rtpopuspay pt=111 ! {RTP_CAPS} ! w."
)


def event(*words):
    print(*words, flush=True)
    print(f"{time.time():.3f}", *words, file=sys.stderr, flush=True)  # a timeline, for post-mortems


def state_word(value):
    # GstWebRTCICEConnectionState.CONNECTED -> "connected"
    return value.value_nick


def main():
    sock, ufrag = sys.argv[1], sys.argv[2]
    max_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 120
    Gst.init(None)
    loop = GLib.MainLoop()
    pipe = Gst.parse_launch(PIPELINE)
    w = pipe.get_by_name("w")
    # The offer's codec from the start: negotiation-needed can come before the caps have reached
    # webrtcbin's pad (a loaded machine), and create-offer then fails for want of a codec.
    w.emit("get-transceiver", 0).set_property("codec-preferences", Gst.Caps.from_string(RTP_CAPS))
    offered = threading.Event()

    def quit_loop(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    def on_answer(sdp_text):
        ok, msg = GstSdp.SDPMessage.new_from_text(sdp_text)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        w.emit("set-remote-description", answer, None)
        return GLib.SOURCE_REMOVE

    def send_offer():
        # The whole offer, candidates in it, once gathering is complete: no trickle to serve.
        sdp = w.get_property("local-description").sdp.as_text()
        for line in sdp.splitlines():
            if line.startswith("a=ice-ufrag:"):
                event("local-ufrag", line.split(":", 1)[1])
            elif line.startswith("a=candidate:"):
                event("candidate", line[2:])

        def ask():
            try:
                reply = ice_signal.ask(sock, {"op": "offer", "ufrag": ufrag, "sdp": sdp})
            except Exception as e:
                event("error", f"signalling: {e}")
                GLib.idle_add(quit_loop)
                return
            GLib.idle_add(on_answer, reply["sdp"])

        threading.Thread(target=ask, daemon=True).start()

    def on_gathering(obj, _pspec):
        st = w.get_property("ice-gathering-state")
        if st == GstWebRTC.WebRTCICEGatheringState.COMPLETE and not offered.is_set():
            offered.set()
            GLib.idle_add(lambda: send_offer() or GLib.SOURCE_REMOVE)

    def on_offer_created(promise, _data):
        promise.wait()
        reply = promise.get_reply()
        offer = reply.get_value("offer") if reply.has_field("offer") else None
        if offer is None:
            event("error", f"create-offer: {reply.to_string()}")
            GLib.idle_add(loop.quit)
            return
        w.emit("set-local-description", offer, None)

    def on_negotiation_needed(_w):
        w.emit("create-offer", None, Gst.Promise.new_with_change_func(on_offer_created, None))

    w.connect("on-negotiation-needed", on_negotiation_needed)
    w.connect("notify::ice-gathering-state", on_gathering)
    w.connect("notify::ice-connection-state",
              lambda o, p: event("ice", state_word(w.get_property("ice-connection-state"))))
    w.connect("notify::connection-state",
              lambda o, p: event("conn", state_word(w.get_property("connection-state"))))

    bus = pipe.get_bus()
    bus.add_signal_watch()

    def on_error(_bus, msg):
        err, dbg = msg.parse_error()
        event("error", err.message)
        loop.quit()

    bus.connect("message::error", on_error)
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, quit_loop)
    GLib.timeout_add(int(max_seconds * 1000), quit_loop)
    pipe.set_state(Gst.State.PLAYING)
    loop.run()
    pipe.set_state(Gst.State.NULL)


if __name__ == "__main__":
    main()
