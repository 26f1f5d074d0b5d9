#!/usr/bin/env python3
"""A camera vendor's RTSP server as the rtsp-ingest tests see it: GStreamer's gst-rtsp-server with a
live H.264 test picture (encoded inside GStreamer by openh264), Digest authentication, one shared media.

Usage: gst-rtsp-camera.py RTSP_PORT USER PASSWORD [audio]   (USER "-" for no authentication;
"audio" adds an AAC track, 16 kHz mono, encoded by GStreamer's libav; "pcmu" a G.711 µ-law track, 8 kHz)

Serves rtsp://127.0.0.1:RTSP_PORT/live (320x180, 15 fps, a keyframe each second, SPS/PPS in-band) and
prints "listening PORT" once clients may connect. Killed and started again on the same port, it stands
for a camera whose streamer restarts.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def main() -> None:
    port, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
    sounds = {
        "audio": " audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=16000,channels=1 "
        "! avenc_aac ! aacparse ! rtpmp4gpay name=pay1 pt=97",
        "pcmu": " audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=8000,channels=1 "
        "! mulawenc ! rtppcmupay name=pay1 pt=0",
    }
    audio = sounds.get(sys.argv[4], "") if len(sys.argv) > 4 else ""
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( videotestsrc is-live=true pattern=ball "
        "! video/x-raw,width=320,height=180,framerate=15/1 "
        "! openh264enc gop-size=15 "
        "! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1"
        f"{audio} )"
    )
    factory.set_shared(True)
    if user != "-":
        auth = GstRtspServer.RTSPAuth()
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        auth.add_digest(user, password, token)
        server.set_auth(auth)
        role = Gst.Structure.new_from_string(
            "user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
        )
        factory.add_role_from_structure(role)
    server.get_mount_points().add_factory("/live", factory)
    server.attach(None)
    print(f"listening {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
