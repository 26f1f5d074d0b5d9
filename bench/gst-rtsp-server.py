#!/usr/bin/env python3
"""GStreamer's RTSP server relaying a live H.264 stream as it is (no re-encode), for the RTSP benchmarks.

Usage:
  gst-rtsp-server.py UDP_IN_PORT RTSP_PORT         MPEG-TS from UDP (bench/rtsp.ts)
  gst-rtsp-server.py --appsrc FIFO FPS RTSP_PORT    framed access units from a FIFO (bench/rtsp-fanout.ts)

RTSP_PORT 0 picks a free port. Prints "listening PORT" once clients may connect.

- UDP: reads MPEG-TS on 127.0.0.1:UDP_IN_PORT (bench/rtsp.ts sends it the daemon's own capture output,
  from the same ffmpeg command line): udpsrc ! tsdemux ! h264parse ! rtph264pay.
- appsrc: reads Annex-B H.264 access units from FIFO, each preceded by its length (4 bytes, big
  endian), the framing the benchmark's writer adds to the stream it writes to the daemon's own `pipe`
  source; they are pushed as they arrive into appsrc ! h264parse ! rtph264pay. This is what a camera
  built on gst-rtsp-server does with its SoC encoder's output. A reader thread drains the FIFO all the
  time, so the writer never blocks while no client plays (the access units are then dropped).

One shared, live media: every client joins the running stream, as on a camera built on
gst-rtsp-server, and gets its first picture at the next keyframe (config-interval=-1 puts SPS/PPS
before each IDR). A live source also means a client's `Range: npt=0-` cannot restart the stream for
everyone, which a file source would do (it seeks the shared pipeline back to the start).
"""

import os
import struct
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PAYLOAD = "h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1"
MAX_ACCESS_UNIT = 16 * 1024 * 1024


def read_exactly(fd: int, size: int) -> bytes | None:
    chunks = []
    while size > 0:
        chunk = os.read(fd, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class AppsrcFeed:
    """The appsrc of the current shared media, fed from the FIFO by a reader thread."""

    def __init__(self, fifo: str) -> None:
        self.fifo = fifo
        self.lock = threading.Lock()
        self.appsrc = None

    def media_configure(self, _factory, media) -> None:
        appsrc = media.get_element().get_by_name("src")
        with self.lock:
            self.appsrc = appsrc
        media.connect("unprepared", self.media_unprepared)

    def media_unprepared(self, media) -> None:
        with self.lock:
            if self.appsrc is not None and self.appsrc == media.get_element().get_by_name("src"):
                self.appsrc = None

    def run(self) -> None:
        # O_RDWR: opening does not wait for a writer, and a writer that comes back is read on.
        fd = os.open(self.fifo, os.O_RDWR)
        while True:
            head = read_exactly(fd, 4)
            if head is None:
                return
            (size,) = struct.unpack(">I", head)
            if size > MAX_ACCESS_UNIT:
                return
            data = read_exactly(fd, size)
            if data is None:
                return
            with self.lock:
                appsrc = self.appsrc
            if appsrc is not None:
                appsrc.emit("push-buffer", Gst.Buffer.new_wrapped(data))


def main() -> None:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    factory = GstRtspServer.RTSPMediaFactory()
    if sys.argv[1] == "--appsrc":
        fifo, fps, port = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        feed = AppsrcFeed(fifo)
        factory.set_launch(
            "( appsrc name=src is-live=true do-timestamp=true format=time "
            f'caps="video/x-h264,stream-format=byte-stream,alignment=au,framerate={fps}/1" '
            f"! {PAYLOAD} )"
        )
        factory.connect("media-configure", feed.media_configure)
        threading.Thread(target=feed.run, daemon=True).start()
    else:
        udp_port, port = int(sys.argv[1]), sys.argv[2]
        factory.set_launch(
            f"( udpsrc address=127.0.0.1 port={udp_port} buffer-size=8388608 "
            'caps="video/mpegts,systemstream=(boolean)true,packetsize=(int)188" '
            f"! tsdemux ! {PAYLOAD} )"
        )
    factory.set_shared(True)
    server.set_service(port)
    server.get_mount_points().add_factory("/main", factory)
    server.attach(None)
    print(f"listening {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
