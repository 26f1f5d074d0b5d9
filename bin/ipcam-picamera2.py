#!/usr/bin/env python3
"""Two H.264 streams from one Raspberry Pi camera, for ipcam-agent's `rpicam` source with a `sub` size.

rpicam-vid encodes one stream and libcamera lets one process own a camera, so the low-resolution sub
stream needs one program with two encoders: Picamera2 encodes the ISP's `main` output to stdout and
its `lores` output (scaled by the ISP, no CPU) to file descriptor 3, which the agent opened for it.
Both are Annex-B H.264 with SPS/PPS before every IDR, at the same frame rate, from the same frames.

Run by the agent, supervised (docs/media.md); by hand, give it an fd 3: `3>sub.h264`.
Exit status: 0 when stopped (SIGTERM, SIGINT); 1 when the camera cannot be opened or started, a reader
went away, a Picamera2 thread died or a stream stayed silent; 2 on bad options or no fd 3.
"""

import argparse
import os
import signal
import sys
import threading
import time


def parse(argv):
    parser = argparse.ArgumentParser(prog="ipcam-picamera2", description=__doc__.splitlines()[0])
    number = {"type": int, "required": True}
    parser.add_argument("--camera", type=int, default=0, help="libcamera's camera index")
    parser.add_argument("--width", **number)
    parser.add_argument("--height", **number)
    parser.add_argument("--framerate", **number)
    parser.add_argument("--bitrate", **number, help="main stream, bit/s")
    parser.add_argument("--lores-width", **number)
    parser.add_argument("--lores-height", **number)
    parser.add_argument("--lores-bitrate", **number, help="sub stream, bit/s")
    parser.add_argument("--intra", **number, help="frames from one keyframe to the next")
    parser.add_argument("--sub-fd", type=int, default=3, help="where the sub stream goes")
    parser.add_argument("--silent-timeout", type=float, default=5, help="s without output before exiting")
    parser.add_argument("--hflip", action="store_true")
    parser.add_argument("--vflip", action="store_true")
    args = parser.parse_args(argv)
    if args.lores_width > args.width or args.lores_height > args.height:
        parser.error("the lores stream cannot be larger than the main one (the ISP scales down only)")
    for name in ("width", "height", "lores_width", "lores_height", "framerate", "bitrate", "lores_bitrate", "intra",
                 "silent_timeout"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def say(message):
    print(f"ipcam-picamera2: {message}", file=sys.stderr, flush=True)


# A stream that has written nothing for --silent-timeout seconds is stuck (an encoder thread that
# died, a camera that timed out): the program exits, and the agent's supervisor starts it again. The
# first frames may take longer while the camera starts.
FIRST_FRAME_S = 15


def main(argv):
    args = parse(argv)
    try:
        sub_file = os.fdopen(args.sub_fd, "wb")
    except OSError as err:
        say(f"fd {args.sub_fd} is not open for the sub stream ({err.strerror}): run me with {args.sub_fd}>file")
        return 2
    # The main stream gets its own descriptor, and fd 1 becomes stderr: a library's stray print()
    # lands in the log, not in the middle of the H.264. (A buffered file: FileOutput refuses a raw one.)
    main_file = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)

    try:
        # Imported after the options are checked: `--help` works on a machine without a camera stack.
        from libcamera import Transform
        from picamera2 import Picamera2
        from picamera2.encoders import H264Encoder
        from picamera2.outputs import FileOutput
    except ImportError as err:
        say(f"picamera2 cannot be imported ({err}): install python3-picamera2, or set media.source.python")
        return 1

    stopped = threading.Event()
    failures = []

    def fail(message):
        if not failures:
            failures.append(message)
        stopped.set()

    def thread_died(hook):
        # An exception in one of Picamera2's threads (an encoder's poll loop, the camera's event loop)
        # ends that thread and leaves the process up but silent.
        fail(f"{hook.thread.name if hook.thread else 'a thread'} died: {hook.exc_type.__name__}: {hook.exc_value}")

    threading.excepthook = thread_died

    def stop(_signum, _frame):
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    class TimedOutput(FileOutput):
        """FileOutput that remembers when it last wrote, for the watchdog below."""

        def __init__(self, file):
            super().__init__(file)
            self.last_write = None

        def outputframe(self, frame, keyframe=True, timestamp=None, packet=None, audio=False):
            super().outputframe(frame, keyframe, timestamp, packet, audio)
            if not self.dead:
                self.last_write = time.monotonic()

    try:
        camera = Picamera2(args.camera)
    except (IndexError, RuntimeError) as err:
        # IndexError: libcamera lists no camera of that index (none attached, or the ribbon is loose).
        say(f"camera {args.camera} cannot be opened ({type(err).__name__}: {err})")
        return 1
    outputs = {}
    try:
        frame_us = round(1_000_000 / args.framerate)
        # YUV420 for both: what the encoders take without a conversion, and a quarter of XBGR8888's
        # buffer memory (the main default).
        config = camera.create_video_configuration(
            main={"size": (args.width, args.height), "format": "YUV420"},
            lores={"size": (args.lores_width, args.lores_height), "format": "YUV420"},
            transform=Transform(hflip=int(args.hflip), vflip=int(args.vflip)),
            controls={"FrameDurationLimits": (frame_us, frame_us)},
        )
        camera.configure(config)
        main_size, lores_size = config["main"]["size"], config["lores"]["size"]
        say(f"main {main_size[0]}x{main_size[1]}, sub {lores_size[0]}x{lores_size[1]}, {args.framerate} fps")
        for name, file, bitrate in (("main", main_file, args.bitrate), ("lores", sub_file, args.lores_bitrate)):
            # Baseline, as the rpicam-vid argv asks: no B-frames, what every WebRTC viewer decodes.
            encoder = H264Encoder(
                bitrate=bitrate, repeat=True, iperiod=args.intra, framerate=args.framerate, profile="baseline"
            )
            output = TimedOutput(file)
            # The agent closed its end (it stopped or restarts the stream): nothing is read any more.
            output.connectiondead = lambda err: fail(f"a reader went away ({err})")
            camera.start_encoder(encoder, output, name=name)
            outputs[name] = output
        camera.start()
    except (RuntimeError, ValueError, OSError, TypeError) as err:
        # A size the encoder refuses (VIDIOC_S_FMT), a camera that is busy, an older picamera2.
        say(f"the camera cannot start: {type(err).__name__}: {err}")
        close(camera)
        return 1

    started = time.monotonic()
    while not stopped.wait(min(1, args.silent_timeout / 2)):
        now = time.monotonic()
        for name, output in outputs.items():
            since = output.last_write if output.last_write is not None else started
            limit = args.silent_timeout if output.last_write is not None else max(FIRST_FRAME_S, args.silent_timeout)
            if now - since > limit:
                fail(f"the {name} stream wrote nothing for {now - since:.0f} s")
    # A camera wedged badly enough to stop a stream may not stop either: exit anyway.
    code = 1 if failures else 0
    deadline = threading.Timer(5, lambda: os._exit(code))
    deadline.daemon = True  # also ends a shutdown that waits on a stuck Picamera2 thread
    deadline.start()
    close(camera)
    if failures:
        say(f"{failures[0]}: stopping")
        return 1
    return 0


def close(camera):
    # Each step whatever the one before did: the camera must be released for the next run.
    for step in (camera.stop, camera.stop_encoder, camera.close):
        try:
            step()
        except Exception as err:  # noqa: BLE001 - a failed stop must not skip the others
            say(f"{step.__name__} failed: {type(err).__name__}: {err}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
