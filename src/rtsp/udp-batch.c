// One frame's RTP datagrams to every UDP viewer of a stream in as few sendmmsg(2) calls as the kernel
// allows. Node sends each datagram with its own sendmsg, and a syscall costs more than the datagram's
// kernel work on a small camera CPU; stamping each viewer's headers here, not in JavaScript, leaves a
// viewer costing little more than its datagrams (docs/rtsp.md, "UDP: a frame to every viewer"). Built
// by scripts/build.mjs and scripts/package.mjs with Node-API 8, so one build per architecture loads in
// Node 20 and 24 alike; without it the daemon sends through dgram.
//
// sendFrames(fd, image, offsets, targets) -> datagrams the kernel took (0..n), or -errno when it took
// none. `image` is a PacketizedFrame's (src/rtp/packetized-frame.ts): packet i starts at offsets[i] with
// a 4-byte interleaved prefix and a 12-byte RTP header whose first two bytes (version, marker, payload
// type) are filled in, then its payload, up to the next offset or the image's end. `targets` holds five
// numbers per viewer: IPv4 address, port, first sequence number, RTP timestamp, SSRC. Datagrams go
// viewer after viewer, each viewer's in order, so n = viewers * packets, and a count short of n tells
// the caller which viewers got all, some or none. The kernel copies the data before returning, so no
// buffer is held past the call. It never blocks (MSG_DONTWAIT): a full socket buffer returns early and
// the caller queues the rest through dgram.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

// Per call; a keyframe of a fast stream has a few hundred datagrams per viewer, sent in several calls.
#define BATCH 64
#define PREFIX 4
#define HEADER 12
#define TARGET_FIELDS 5

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static int uint32_array(napi_env env, napi_value value, uint32_t **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *raw;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok ||
      type != napi_uint32_array)
    return 0;
  *data = (uint32_t *)raw;
  return 1;
}

static void put32(uint8_t *at, uint32_t value) {
  at[0] = (uint8_t)(value >> 24);
  at[1] = (uint8_t)(value >> 16);
  at[2] = (uint8_t)(value >> 8);
  at[3] = (uint8_t)value;
}

static napi_value send_frames(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4)
    return fail(env, "sendFrames takes 4 arguments");
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return fail(env, "bad fd");
  bool is_buffer = false;
  uint8_t *image;
  size_t image_length;
  if (napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[1], (void **)&image, &image_length) != napi_ok)
    return fail(env, "image must be a Buffer");
  uint32_t *offsets, *targets;
  size_t packets, fields;
  if (!uint32_array(env, argv[2], &offsets, &packets)) return fail(env, "offsets must be a Uint32Array");
  if (!uint32_array(env, argv[3], &targets, &fields) || fields % TARGET_FIELDS != 0)
    return fail(env, "targets must be a Uint32Array of five numbers per viewer");

  // Everything checked before the first datagram leaves: a bad value must not cut a frame in two.
  for (size_t i = 0; i < packets; i++) {
    size_t end = i + 1 < packets ? offsets[i + 1] : image_length;
    if ((size_t)offsets[i] + PREFIX + HEADER > end || end > image_length)
      return fail(env, "offsets do not fit the image");
  }
  size_t viewers = fields / TARGET_FIELDS;
  for (size_t v = 0; v < viewers; v++) {
    const uint32_t *t = targets + v * TARGET_FIELDS;
    if (t[1] < 1 || t[1] > 65535) return fail(env, "bad port");
    if (t[2] > 65535) return fail(env, "bad sequence number");
  }

  struct mmsghdr messages[BATCH];
  struct iovec pieces[BATCH][2];
  struct sockaddr_in to[BATCH];
  uint8_t headers[BATCH][HEADER];
  size_t total = viewers * packets;
  size_t done = 0;
  int error = 0;
  while (done < total) {
    size_t n = total - done < BATCH ? total - done : BATCH;
    for (size_t k = 0; k < n; k++) {
      size_t v = (done + k) / packets;
      size_t i = (done + k) % packets;
      const uint32_t *t = targets + v * TARGET_FIELDS;
      const uint8_t *slot = image + offsets[i];
      size_t end = i + 1 < packets ? offsets[i + 1] : image_length;
      uint8_t *header = headers[k];
      header[0] = slot[PREFIX];
      header[1] = slot[PREFIX + 1];
      uint32_t seq = (t[2] + (uint32_t)i) & 0xffff;
      header[2] = (uint8_t)(seq >> 8);
      header[3] = (uint8_t)seq;
      put32(header + 4, t[3]);
      put32(header + 8, t[4]);
      memset(&to[k], 0, sizeof to[k]);
      to[k].sin_family = AF_INET;
      to[k].sin_port = htons((uint16_t)t[1]);
      to[k].sin_addr.s_addr = htonl(t[0]);
      pieces[k][0].iov_base = header;
      pieces[k][0].iov_len = HEADER;
      pieces[k][1].iov_base = (void *)(slot + PREFIX + HEADER);
      pieces[k][1].iov_len = end - offsets[i] - PREFIX - HEADER;
      memset(&messages[k], 0, sizeof messages[k]);
      messages[k].msg_hdr.msg_name = &to[k];
      messages[k].msg_hdr.msg_namelen = sizeof to[k];
      messages[k].msg_hdr.msg_iov = pieces[k];
      messages[k].msg_hdr.msg_iovlen = 2;
    }
    int sent;
    do {
      sent = sendmmsg(fd, messages, (unsigned int)n, MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      error = errno;
      break;
    }
    done += (size_t)sent;
    if ((size_t)sent < n) break;
  }
  napi_value result;
  napi_create_int32(env, done > 0 || error == 0 ? (int32_t)done : -error, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "sendFrames", NAPI_AUTO_LENGTH, send_frames, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "sendFrames", fn) != napi_ok)
    return NULL;
  return exports;
}
