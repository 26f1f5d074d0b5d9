// Hands the C heap's free pages back to the kernel. glibc keeps what the daemon's process freed (V8's
// parser and compiler zones, Buffers of video that went by, werift's DTLS handshakes) in its arenas for
// reuse, and returns only what sits at the top of the main heap; on Node 24 that was 3.5-4 MB of an idle
// daemon's RSS (docs/deployment.md, "Freed memory returned, a certificate of its own, lazy MQTT
// transports"). malloc_trim(0) also releases the free pages in the middle of every arena. musl, which
// some camera BSPs use, returns free memory by itself and has no malloc_trim: there the function answers
// false.
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

// returnFreeMemory(): true when memory went back to the system.
static napi_value return_free_memory(napi_env env, napi_callback_info info) {
  (void)info;
  bool released = false;
#ifdef __GLIBC__
  released = malloc_trim(0) != 0;
#endif
  napi_value result;
  napi_get_boolean(env, released, &result);
  return result;
}

// whichMalloc(): "glibc" when returnFreeMemory can do anything, else "other".
static napi_value which_malloc(napi_env env, napi_callback_info info) {
  (void)info;
#ifdef __GLIBC__
  const char *name = "glibc";
#else
  const char *name = "other";
#endif
  napi_value result;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "returnFreeMemory", NAPI_AUTO_LENGTH, return_free_memory, NULL, &fn);
  napi_set_named_property(env, exports, "returnFreeMemory", fn);
  napi_create_function(env, "whichMalloc", NAPI_AUTO_LENGTH, which_malloc, NULL, &fn);
  napi_set_named_property(env, exports, "whichMalloc", fn);
  return exports;
}
