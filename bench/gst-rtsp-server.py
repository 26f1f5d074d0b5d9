#!/usr/bin/env python3
"""GStreamer's RTSP server relaying a live H.264 MPEG-TS stream as it is (no re-encode), for bench/rtsp.ts.

Usage: gst-rtsp-server.py UDP_IN_PORT RTSP_PORT   (RTSP_PORT 0 picks a free port)

It reads MPEG-TS from UDP on 127.0.0.1:UDP_IN_PORT (the benchmark sends it the daemon's own capture
output, from the same ffmpeg command line) and serves it at /main. Prints "listening PORT" once
clients may connect. One shared, live media: every client joins the running stream, as on a camera
built on gst-rtsp-server, and gets its first picture at the next keyframe (config-interval=-1 puts
SPS/PPS before each IDR). A live source also means a client's `Range: npt=0-` cannot restart the
stream for everyone, which a file source would do (it seeks the shared pipeline back to the start).
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    udp_port, port = int(sys.argv[1]), sys.argv[2]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( udpsrc address=127.0.0.1 port={udp_port} buffer-size=8388608 "
        'caps="video/mpegts,systemstream=(boolean)true,packetsize=(int)188" '
        "! tsdemux ! h264parse config-interval=-1 "
        "! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory("/main", factory)
    server.attach(None)
    print(f"listening {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
