#!/usr/bin/python3
"""A Janus VideoRoom client on GStreamer's webrtcbin (libnice ICE; python3-gst-1.0), over Janus's
HTTP API: creates a session, attaches to janus.plugin.videoroom, joins ROOM as a publisher and
publishes one Opus audio stream (a test tone) over SRTP, or with FEED subscribes to that publisher
and counts the RTP packets it receives; keeps polling Janus's events, until SIGTERM or
MAX_SECONDS. Whole descriptions, candidates in them, once gathered: no trickle.

Prints the same lines as janus_client_aiortc.py: `session ID`, `handle ID`, `joined ROOM`,
`publisher-id ID`, `candidate LINE`, `janus-port PORT`, `ice STATE`, `conn STATE`, `received N`
(a subscriber, every 50 packets: a second of Opus), `janus webrtcup`, `janus media TYPE
receiving|stopped`, `janus hangup REASON`; `error TEXT` on failure.

usage: janus_client_webrtcbin.py JANUS_URL ROOM [MAX_SECONDS [FEED]]
"""
import queue
import random
import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

from janus_api import call, event, janus_ports, pc_event, poll  # noqa: E402

RTP_CAPS = ("application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
            "encoding-params=(string)2")  # OPUS/48000/2: without /2 Janus rejects the audio
# The SSRC in the caps, so that the offer says it (a=ssrc): Janus finds a publisher's stream by
# its SSRC or a mid header extension, and drops packets of an SSRC it was not told ("Unknown SSRC").
SSRC = random.getrandbits(32)
PUBLISHER = (
    "webrtcbin name=w "
    "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc ! "
    f"rtpopuspay pt=111 ssrc={SSRC} ! {RTP_CAPS},ssrc=(uint){SSRC} ! w."
)


def main():
    base, room = sys.argv[1].rstrip("/"), int(sys.argv[2])
    max_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 120
    feed = int(sys.argv[4]) if len(sys.argv) > 4 else None
    Gst.init(None)
    loop = GLib.MainLoop()
    plugin_events = queue.Queue()
    stopping = threading.Event()

    def on_event(ev):
        if not pc_event(ev) and ev.get("janus") == "event":
            plugin_events.put(ev)

    def plugin_event():
        ev = plugin_events.get(timeout=20)
        data = ev.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise RuntimeError(data["error"])
        return data, ev.get("jsep")

    def quit_loop(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    def in_loop(fn, *args):
        """Runs fn(*args) once in the main loop, from a thread that talks to Janus."""
        def run():
            fn(*args)
            return GLib.SOURCE_REMOVE
        GLib.idle_add(run)

    def in_thread(work):
        """Runs work (blocking calls to Janus) off the main loop; a failure ends the client."""
        def run():
            try:
                work()
            except Exception as e:  # noqa: BLE001 - reported; the client ends
                event("error", f"signalling: {e}")
                GLib.idle_add(quit_loop)
        threading.Thread(target=run, daemon=True).start()

    sid = call(base, {"janus": "create"})["data"]["id"]
    event("session", sid)
    threading.Thread(target=poll, args=(base, sid, on_event, stopping), daemon=True).start()
    hid = call(f"{base}/{sid}", {"janus": "attach",
                                 "plugin": "janus.plugin.videoroom"})["data"]["id"]
    event("handle", hid)

    if feed is None:
        pipe = Gst.parse_launch(PUBLISHER)
    else:  # webrtcbin alone, its source pads added as the media comes
        pipe = Gst.Pipeline.new()
        pipe.add(Gst.ElementFactory.make("webrtcbin", "w"))
    w = pipe.get_by_name("w")
    w.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
    gathered = threading.Event()

    def description(kind, sdp_text):
        _, msg = GstSdp.SDPMessage.new_from_text(sdp_text)
        return GstWebRTC.WebRTCSessionDescription.new(kind, msg)

    def local_sdp():
        sdp = w.get_property("local-description").sdp.as_text()
        for line in sdp.splitlines():
            if line.startswith("a=candidate:"):
                event("candidate", line[2:])
        return sdp

    def on_gathering(_w, _pspec):
        st = w.get_property("ice-gathering-state")
        if st == GstWebRTC.WebRTCICEGatheringState.COMPLETE and not gathered.is_set():
            gathered.set()
            in_loop(lambda: on_gathered(local_sdp()))

    def created(field):
        """A promise for create-offer or create-answer: what it made becomes the local one."""
        def on_created(promise, _data):
            promise.wait()
            reply = promise.get_reply()
            desc = reply.get_value(field) if reply and reply.has_field(field) else None
            if desc is None:
                event("error", f"create-{field}: {reply.to_string() if reply else 'no reply'}")
                GLib.idle_add(quit_loop)
                return
            w.emit("set-local-description", desc, None)
        return Gst.Promise.new_with_change_func(on_created, None)

    if feed is None:
        # The offer's codec from the start: negotiation-needed can come before the caps have
        # reached webrtcbin's pad (a loaded machine), and create-offer then fails for want of one.
        w.emit("get-transceiver", 0).set_property(
            "codec-preferences", Gst.Caps.from_string(RTP_CAPS))

        def start():
            # Joined first: the offer, made once the pipeline plays, goes with a configure.
            call(f"{base}/{sid}/{hid}", {"janus": "message", "body": {
                "request": "join", "ptype": "publisher", "room": room}})
            data, _ = plugin_event()
            event("joined", data.get("room"))
            event("publisher-id", data.get("id"))
            in_loop(pipe.set_state, Gst.State.PLAYING)

        def on_gathered(sdp):
            def configure():
                call(f"{base}/{sid}/{hid}", {
                    "janus": "message",
                    "body": {"request": "configure", "audio": True, "video": False},
                    "jsep": {"type": "offer", "sdp": sdp}})
                jsep = None
                while not jsep:
                    _, jsep = plugin_event()
                janus_ports(jsep["sdp"])
                in_loop(w.emit, "set-remote-description",
                        description(GstWebRTC.WebRTCSDPType.ANSWER, jsep["sdp"]), None)
            in_thread(configure)

        w.connect("on-negotiation-needed",
                  lambda _w: w.emit("create-offer", None, created("offer")))
    else:
        # A subscriber to FEED: Janus offers, webrtcbin answers and counts what it receives.
        received = [0]

        def on_buffer(_sink, _buf, _pad):
            received[0] += 1
            if received[0] % 50 == 0:
                event("received", received[0])

        def on_pad(_w, pad):
            if pad.get_direction() != Gst.PadDirection.SRC:
                return
            sink = Gst.ElementFactory.make("fakesink")
            sink.set_property("signal-handoffs", True)
            sink.set_property("sync", False)
            sink.connect("handoff", on_buffer)
            pipe.add(sink)
            sink.sync_state_with_parent()
            pad.link(sink.get_static_pad("sink"))

        w.connect("pad-added", on_pad)

        def start():
            call(f"{base}/{sid}/{hid}", {"janus": "message", "body": {
                "request": "join", "ptype": "subscriber", "room": room,
                "streams": [{"feed": feed}]}})
            jsep = None
            while not jsep:
                data, jsep = plugin_event()
            event("joined", data.get("room"))
            janus_ports(jsep["sdp"])

            def answer():
                w.emit("set-remote-description",
                       description(GstWebRTC.WebRTCSDPType.OFFER, jsep["sdp"]), None)
                w.emit("create-answer", None, created("answer"))
            in_loop(answer)

        def on_gathered(sdp):
            in_thread(lambda: call(f"{base}/{sid}/{hid}", {
                "janus": "message", "body": {"request": "start"},
                "jsep": {"type": "answer", "sdp": sdp}}))

        pipe.set_state(Gst.State.PLAYING)  # playing before the offer: its receive side up for DTLS

    w.connect("notify::ice-gathering-state", on_gathering)
    w.connect("notify::ice-connection-state", lambda o, p: event(
        "ice", w.get_property("ice-connection-state").value_nick))
    w.connect("notify::connection-state", lambda o, p: event(
        "conn", w.get_property("connection-state").value_nick))
    bus = pipe.get_bus()
    bus.add_signal_watch()

    def on_error(_bus, msg):
        err, _dbg = msg.parse_error()
        event("error", err.message)
        loop.quit()

    bus.connect("message::error", on_error)
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, quit_loop)
    GLib.timeout_add(int(max_seconds * 1000), quit_loop)
    in_thread(start)
    loop.run()
    stopping.set()
    pipe.set_state(Gst.State.NULL)
    try:
        call(f"{base}/{sid}", {"janus": "destroy"}, timeout=2)
    except Exception:  # noqa: BLE001 - the session times out on Janus's side anyway
        pass


if __name__ == "__main__":
    main()
