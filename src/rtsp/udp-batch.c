// One frame's RTP datagrams to one UDP viewer in one sendmmsg(2) call. Node sends each datagram with
// its own sendmsg; a syscall costs more than the datagram's kernel work on a small camera CPU
// (docs/rtsp.md, "UDP"). Built by scripts/build.mjs and scripts/package.mjs with Node-API 8, so one
// build per architecture loads in Node 20 and 24 alike; without it the daemon sends through dgram.
//
// sendBatch(fd, ipv4, port, headers, headerSize, payloads) -> datagrams the kernel took (0..n), or
// -errno when it took none. Datagram i is headers[i*headerSize .. +headerSize] then payloads[i].
// The kernel copies the data before returning, so no buffer is held past the call. It never blocks
// (MSG_DONTWAIT): a full socket buffer returns early and the caller queues the rest through dgram.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>

// Per call; a keyframe of a fast stream has a few hundred datagrams, sent in several calls.
#define BATCH 64
#define MAX_HEADER 64

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6)
    return fail(env, "sendBatch takes 6 arguments");
  int32_t fd, port, header_size;
  uint32_t ip, count;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return fail(env, "bad fd");
  if (napi_get_value_uint32(env, argv[1], &ip) != napi_ok) return fail(env, "bad address");
  if (napi_get_value_int32(env, argv[2], &port) != napi_ok || port < 1 || port > 65535)
    return fail(env, "bad port");
  void *headers;
  size_t headers_length;
  if (napi_get_buffer_info(env, argv[3], &headers, &headers_length) != napi_ok)
    return fail(env, "headers must be a Buffer");
  if (napi_get_value_int32(env, argv[4], &header_size) != napi_ok || header_size < 1 ||
      header_size > MAX_HEADER)
    return fail(env, "bad header size");
  bool is_array = false;
  if (napi_is_array(env, argv[5], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[5], &count) != napi_ok)
    return fail(env, "payloads must be an array");
  if ((size_t)count * (size_t)header_size > headers_length)
    return fail(env, "headers shorter than the payloads need");

  // Every payload checked before the first datagram leaves: a bad one must not cut a frame in two.
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    bool is_buffer = false;
    if (napi_get_element(env, argv[5], i, &element) != napi_ok ||
        napi_is_buffer(env, element, &is_buffer) != napi_ok || !is_buffer)
      return fail(env, "each payload must be a Buffer");
  }

  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)port);
  to.sin_addr.s_addr = htonl(ip);

  struct mmsghdr messages[BATCH];
  struct iovec pieces[BATCH][2];
  uint32_t done = 0;
  int error = 0;
  while (done < count) {
    uint32_t n = count - done < BATCH ? count - done : BATCH;
    for (uint32_t i = 0; i < n; i++) {
      napi_value element;
      void *payload;
      size_t payload_length;
      if (napi_get_element(env, argv[5], done + i, &element) != napi_ok ||
          napi_get_buffer_info(env, element, &payload, &payload_length) != napi_ok)
        return fail(env, "a payload changed while it was sent");
      pieces[i][0].iov_base = (char *)headers + (size_t)(done + i) * (size_t)header_size;
      pieces[i][0].iov_len = (size_t)header_size;
      pieces[i][1].iov_base = payload;
      pieces[i][1].iov_len = payload_length;
      memset(&messages[i], 0, sizeof messages[i]);
      messages[i].msg_hdr.msg_name = &to;
      messages[i].msg_hdr.msg_namelen = sizeof to;
      messages[i].msg_hdr.msg_iov = pieces[i];
      messages[i].msg_hdr.msg_iovlen = 2;
    }
    int sent;
    do {
      sent = sendmmsg(fd, messages, n, MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      error = errno;
      break;
    }
    done += (uint32_t)sent;
    if ((uint32_t)sent < n) break;
  }
  napi_value result;
  napi_create_int32(env, done > 0 || error == 0 ? (int32_t)done : -error, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "sendBatch", NAPI_AUTO_LENGTH, send_batch, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "sendBatch", fn) != napi_ok)
    return NULL;
  return exports;
}
