/* libcurl loaded with dlopen (see core/osc_curl.h). */
#include "core/osc_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The SONAME the build linked against (libcurl4-openssl-dev). */
#define OSC_CURL_LIBRARY "libcurl.so.4"

struct osc_curl_api osc_curl_api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[512];

struct symbol {
  const char *name;
  void **slot;
};

/* ISO C has no conversion from void * to a function pointer; POSIX
 * guarantees it for dlsym, and memcpy keeps -Wpedantic quiet. */
#define SYM(field, name)                                                       \
  { name, (void **)&osc_curl_api.field }

static void load(void) {
  const struct symbol symbols[] = {
      SYM(global_init, "curl_global_init"),
      SYM(easy_init, "curl_easy_init"),
      SYM(easy_cleanup, "curl_easy_cleanup"),
      SYM(easy_reset, "curl_easy_reset"),
      SYM(easy_setopt, "curl_easy_setopt"),
      SYM(easy_getinfo, "curl_easy_getinfo"),
      SYM(easy_strerror, "curl_easy_strerror"),
      SYM(free, "curl_free"),
      SYM(getdate, "curl_getdate"),
      SYM(multi_init, "curl_multi_init"),
      SYM(multi_cleanup, "curl_multi_cleanup"),
      SYM(multi_add_handle, "curl_multi_add_handle"),
      SYM(multi_remove_handle, "curl_multi_remove_handle"),
      SYM(multi_perform, "curl_multi_perform"),
      SYM(multi_poll, "curl_multi_poll"),
      SYM(multi_info_read, "curl_multi_info_read"),
      SYM(multi_setopt, "curl_multi_setopt"),
      SYM(multi_strerror, "curl_multi_strerror"),
      SYM(share_init, "curl_share_init"),
      SYM(share_cleanup, "curl_share_cleanup"),
      SYM(share_setopt, "curl_share_setopt"),
      SYM(slist_append, "curl_slist_append"),
      SYM(slist_free_all, "curl_slist_free_all"),
      SYM(url, "curl_url"),
      SYM(url_cleanup, "curl_url_cleanup"),
      SYM(url_get, "curl_url_get"),
      SYM(url_set, "curl_url_set"),
      SYM(url_strerror, "curl_url_strerror"),
  };
  /* Never closed: curl keeps global state for the life of the process. */
  void *lib = dlopen(OSC_CURL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  CURLcode cc;
  size_t i;

  if (lib == NULL) {
    snprintf(load_error, sizeof(load_error), "cannot load %s: %s",
             OSC_CURL_LIBRARY, dlerror());
    return;
  }
  for (i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
    void *p = dlsym(lib, symbols[i].name);

    if (p == NULL) {
      snprintf(load_error, sizeof(load_error),
               "%s has no %s (libcurl %s or "
               "newer is needed)",
               OSC_CURL_LIBRARY, symbols[i].name, LIBCURL_VERSION);
      return;
    }
    memcpy(symbols[i].slot, &p, sizeof(p));
  }
  cc = osc_curl_api.global_init(CURL_GLOBAL_DEFAULT);
  if (cc != CURLE_OK) {
    snprintf(load_error, sizeof(load_error), "curl_global_init: %s",
             osc_curl_api.easy_strerror(cc));
    return;
  }
  loaded = true;
}

int osc_curl_load(struct osc_error *err) {
  pthread_once(&load_once, load);
  if (!loaded)
    return osc_error_set(err, OSC_E_RUNTIME, "http: %s", load_error);
  return OSC_OK;
}

bool osc_curl_loaded(void) {
  return loaded;
}

const char *osc_curl_version(void) {
#ifdef OSC_CURL_TLS /* from CMake: libcurl4-openssl-dev uses OpenSSL */
  return LIBCURL_VERSION " (" OSC_CURL_TLS ")";
#else
  return LIBCURL_VERSION;
#endif
}
