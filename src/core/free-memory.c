// Hands the C heap's free pages back to the kernel. glibc keeps what the daemon's process freed (V8's
// parser and compiler zones, Buffers of video that went by, werift's DTLS handshakes) in its arenas for
// reuse, and returns only what sits at the top of the main heap; on Node 24 that was 3.5-4 MB of an idle
// daemon's RSS (docs/deployment.md, "Freed memory returned, a certificate of its own, lazy MQTT
// transports"). malloc_trim(0) also releases the free pages in the middle of every arena. musl, which
// some camera BSPs use, returns free memory by itself and has no malloc_trim: there the function answers
// false.
//
// It also hands back the executable's and libraries' pages the daemon touched only while starting
// (drop_file_pages below).
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

// A read-only mapping of a file whose every resident page is still the file's own: unmapping it loses
// nothing, since a later access maps the page again from the page cache (or reads it from the file).
// Pages that were ever written (a library's relocated RELRO, made read-only after the loader wrote it)
// are anonymous copies; discarding them would bring back the unrelocated bytes, so such a mapping is
// left alone, as are locked mappings and device memory.
struct mapping {
  unsigned long start, end;
  bool candidate;
  unsigned long rss_kb, anonymous_kb, dirty_kb;
};

static bool is_header(const char *line) {
  return (line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f');
}

static void read_header(const char *line, struct mapping *m) {
  char perms[5] = {0};
  int path_at = 0;
  memset(m, 0, sizeof *m);
  if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &m->start, &m->end, perms, &path_at) < 3) return;
  const char *path = line + path_at;
  m->candidate = path_at > 0 && path[0] == '/' && strncmp(path, "/dev/", 5) != 0 && perms[0] == 'r' &&
                 perms[1] == '-' && perms[3] == 'p';
}

static bool has_flag(const char *flags, const char *flag) {
  for (const char *at = flags; (at = strstr(at, flag)) != NULL; at += 2)
    if ((at == flags || at[-1] == ' ') && (at[2] == ' ' || at[2] == '\n' || at[2] == '\0')) return true;
  return false;
}

// The page cache keeps what is unmapped, so pages still in use come back as minor faults; what the
// daemon touched only while starting (V8's and Node's bootstrap, the loader's symbol lookups) stays
// out of its RSS and is the first memory the kernel reclaims. On Node 24 that was 22 of the executable's
// 37 resident MB (docs/deployment.md). Android's app compaction does much the same to
// cached apps, from outside them (process_madvise).
// dropFilePages(): the kB of resident pages unmapped, or -1 when /proc/self/smaps cannot be read.
static napi_value drop_file_pages(napi_env env, napi_callback_info info) {
  (void)info;
  double dropped_kb = -1;
  FILE *smaps = fopen("/proc/self/smaps", "re");
  if (smaps != NULL) {
    // Decided per mapping first and unmapped after, so that /proc is never read while it changes.
    enum { MAX_MAPPINGS = 4096 };
    static struct mapping chosen[MAX_MAPPINGS];
    size_t count = 0;
    struct mapping current = {0};
    char *line = NULL;
    size_t size = 0;
    unsigned long value;
    while (getline(&line, &size, smaps) > 0) {
      if (is_header(line)) read_header(line, &current);
      else if (sscanf(line, "Rss: %lu kB", &value) == 1) current.rss_kb = value;
      else if (sscanf(line, "Anonymous: %lu kB", &value) == 1) current.anonymous_kb = value;
      else if (sscanf(line, "Private_Dirty: %lu kB", &value) == 1) current.dirty_kb += value;
      else if (sscanf(line, "Shared_Dirty: %lu kB", &value) == 1) current.dirty_kb += value;
      else if (strncmp(line, "VmFlags:", 8) == 0) {
        bool untouchable = has_flag(line + 8, "lo") || has_flag(line + 8, "io") || has_flag(line + 8, "pf");
        if (current.candidate && !untouchable && current.rss_kb > 0 && current.anonymous_kb == 0 &&
            current.dirty_kb == 0 && count < MAX_MAPPINGS)
          chosen[count++] = current;
      }
    }
    free(line);
    fclose(smaps);
    dropped_kb = 0;
    for (size_t i = 0; i < count; i++)
      if (madvise((void *)chosen[i].start, chosen[i].end - chosen[i].start, MADV_DONTNEED) == 0)
        dropped_kb += (double)chosen[i].rss_kb;
  }
  napi_value result;
  napi_create_double(env, dropped_kb, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "returnFreeMemory", NAPI_AUTO_LENGTH, return_free_memory, NULL, &fn);
  napi_set_named_property(env, exports, "returnFreeMemory", fn);
  napi_create_function(env, "whichMalloc", NAPI_AUTO_LENGTH, which_malloc, NULL, &fn);
  napi_set_named_property(env, exports, "whichMalloc", fn);
  napi_create_function(env, "dropFilePages", NAPI_AUTO_LENGTH, drop_file_pages, NULL, &fn);
  napi_set_named_property(env, exports, "dropFilePages", fn);
  return exports;
}
