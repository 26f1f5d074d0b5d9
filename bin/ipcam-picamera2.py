#!/usr/bin/env python3
"""Two H.264 streams from one Raspberry Pi camera, for ipcam-agent's `rpicam` source with a `sub` size.

rpicam-vid encodes one stream and libcamera lets one process own a camera, so the low-resolution sub
stream needs one program with two encoders: Picamera2 encodes the ISP's `main` output to stdout and
its `lores` output (scaled by the ISP, no CPU) to file descriptor 3, which the agent opened for it.
Both are Annex-B H.264 with SPS/PPS before every IDR, at the same frame rate, from the same frames.

Run by the agent, supervised (docs/media.md); by hand, give it an fd 3: `3>sub.h264`.
Exit status: 0 when stopped (SIGTERM, SIGINT), 1 when an output's reader went away, 2 on bad options.
"""

import argparse
import os
import signal
import sys
import threading


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
    parser.add_argument("--hflip", action="store_true")
    parser.add_argument("--vflip", action="store_true")
    args = parser.parse_args(argv)
    if args.lores_width > args.width or args.lores_height > args.height:
        parser.error("the lores stream cannot be larger than the main one (the ISP scales down only)")
    for name in ("width", "height", "lores_width", "lores_height", "framerate", "bitrate", "lores_bitrate", "intra"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def say(message):
    print(f"ipcam-picamera2: {message}", file=sys.stderr, flush=True)


def main(argv):
    args = parse(argv)
    try:
        sub_file = os.fdopen(args.sub_fd, "wb")
    except OSError as err:
        say(f"fd {args.sub_fd} is not open for the sub stream ({err.strerror}): run me with {args.sub_fd}>file")
        return 2

    # Imported after the options are checked: `--help` works on a machine without a camera stack.
    from libcamera import Transform
    from picamera2 import Picamera2
    from picamera2.encoders import H264Encoder
    from picamera2.outputs import FileOutput

    stopped = threading.Event()
    broken = []

    def reader_gone(err):
        # The agent closed its end (it stopped or restarts the stream): nothing is read any more.
        broken.append(err)
        stopped.set()

    def stop(_signum, _frame):
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    try:
        camera = Picamera2(args.camera)
    except (IndexError, RuntimeError) as err:
        # IndexError: libcamera lists no camera of that index (none attached, or the ribbon is loose).
        say(f"camera {args.camera} cannot be opened ({type(err).__name__}: {err})")
        return 1
    frame_us = round(1_000_000 / args.framerate)
    config = camera.create_video_configuration(
        main={"size": (args.width, args.height)},
        lores={"size": (args.lores_width, args.lores_height), "format": "YUV420"},
        transform=Transform(hflip=int(args.hflip), vflip=int(args.vflip)),
        controls={"FrameDurationLimits": (frame_us, frame_us)},
    )
    try:
        camera.configure(config)
    except RuntimeError as err:
        say(f"the camera refused the configuration: {err}")
        camera.close()
        return 1
    main_size, lores_size = config["main"]["size"], config["lores"]["size"]
    say(f"main {main_size[0]}x{main_size[1]}, sub {lores_size[0]}x{lores_size[1]}, {args.framerate} fps")

    # FileOutput takes a buffered file only; sys.stdout.buffer is a raw FileIO under PYTHONUNBUFFERED.
    main_file = os.fdopen(sys.stdout.fileno(), "wb", closefd=False)
    for name, file, bitrate in (("main", main_file, args.bitrate), ("lores", sub_file, args.lores_bitrate)):
        # Baseline, as the rpicam-vid argv asks: no B-frames, what every WebRTC viewer decodes.
        encoder = H264Encoder(
            bitrate=bitrate, repeat=True, iperiod=args.intra, framerate=args.framerate, profile="baseline"
        )
        output = FileOutput(file)
        output.connectiondead = reader_gone
        camera.start_encoder(encoder, output, name=name)
    camera.start()
    try:
        while not stopped.wait(1):
            pass
    finally:
        camera.stop()
        camera.stop_encoder()
        camera.close()
    if broken:
        say(f"a reader went away ({broken[0]}): stopping")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
