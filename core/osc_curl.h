/* libcurl, loaded on first use.
 *
 * Linking libcurl makes the dynamic loader map and relocate it and its ~30
 * dependencies (TLS, Kerberos, LDAP, ...) before main() runs: about 3.5 ms
 * a start here, which the offline commands (version, check, test, plan
 * --snapshot) never need. So the binary does not link it: osc_curl_load()
 * dlopen()s libcurl.so.4 and runs curl_global_init() once, the first time
 * an HTTP client is created (core/osc_http.h).
 *
 * Including this header (instead of <curl/curl.h>) makes the curl_*
 * calls the HTTP layer uses go through the loaded table; call them only
 * after osc_curl_load() succeeded. */
#ifndef OSC_CURL_H
#define OSC_CURL_H

/* curl's type-checking macros would wrap the names redefined below. */
#ifndef CURL_DISABLE_TYPECHECK
#define CURL_DISABLE_TYPECHECK
#endif
#include <curl/curl.h>
#include <stdbool.h>

#include "core/osc_error.h"

struct osc_curl_api {
  CURLcode (*global_init)(long flags);
  CURL *(*easy_init)(void);
  void (*easy_cleanup)(CURL *e);
  void (*easy_reset)(CURL *e);
  CURLcode (*easy_setopt)(CURL *e, CURLoption opt, ...);
  CURLcode (*easy_getinfo)(CURL *e, CURLINFO info, ...);
  const char *(*easy_strerror)(CURLcode cc);
  void (*free)(void *p);
  time_t (*getdate)(const char *s, const time_t *unused);
  CURLM *(*multi_init)(void);
  CURLMcode (*multi_cleanup)(CURLM *m);
  CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
  CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
  CURLMcode (*multi_perform)(CURLM *m, int *running);
  CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd *fds, unsigned n,
                          int timeout_ms, int *ret);
  CURLMsg *(*multi_info_read)(CURLM *m, int *left);
  CURLMcode (*multi_setopt)(CURLM *m, CURLMoption opt, ...);
  const char *(*multi_strerror)(CURLMcode mc);
  CURLSH *(*share_init)(void);
  CURLSHcode (*share_cleanup)(CURLSH *s);
  CURLSHcode (*share_setopt)(CURLSH *s, CURLSHoption opt, ...);
  struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
  void (*slist_free_all)(struct curl_slist *l);
  CURLU *(*url)(void);
  void (*url_cleanup)(CURLU *u);
  CURLUcode (*url_get)(CURLU *u, CURLUPart what, char **part, unsigned flags);
  CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part,
                       unsigned flags);
  const char *(*url_strerror)(CURLUcode uc);
};

extern struct osc_curl_api osc_curl_api;

/* Loads libcurl and initialises it, once per process (thread-safe). Fails
 * with one line naming the library when it cannot be loaded. */
int osc_curl_load(struct osc_error *err);

/* Whether osc_curl_load() ran (for tests: offline commands never do). */
bool osc_curl_loaded(void);

/* libcurl's version as built against, with its TLS library when the build
 * knows it: "7.88.1 (OpenSSL/3.0.15)". Loads nothing (`version` stays
 * offline and quick). */
const char *osc_curl_version(void);

/* curl.h defines these four as macros (fixing their argument count). */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#undef curl_share_setopt
#define curl_easy_init osc_curl_api.easy_init
#define curl_easy_cleanup osc_curl_api.easy_cleanup
#define curl_easy_reset osc_curl_api.easy_reset
#define curl_easy_setopt osc_curl_api.easy_setopt
#define curl_easy_getinfo osc_curl_api.easy_getinfo
#define curl_easy_strerror osc_curl_api.easy_strerror
#define curl_free osc_curl_api.free
#define curl_getdate osc_curl_api.getdate
#define curl_multi_init osc_curl_api.multi_init
#define curl_multi_cleanup osc_curl_api.multi_cleanup
#define curl_multi_add_handle osc_curl_api.multi_add_handle
#define curl_multi_remove_handle osc_curl_api.multi_remove_handle
#define curl_multi_perform osc_curl_api.multi_perform
#define curl_multi_poll osc_curl_api.multi_poll
#define curl_multi_info_read osc_curl_api.multi_info_read
#define curl_multi_setopt osc_curl_api.multi_setopt
#define curl_multi_strerror osc_curl_api.multi_strerror
#define curl_share_init osc_curl_api.share_init
#define curl_share_cleanup osc_curl_api.share_cleanup
#define curl_share_setopt osc_curl_api.share_setopt
#define curl_slist_append osc_curl_api.slist_append
#define curl_slist_free_all osc_curl_api.slist_free_all
#define curl_url osc_curl_api.url
#define curl_url_cleanup osc_curl_api.url_cleanup
#define curl_url_get osc_curl_api.url_get
#define curl_url_set osc_curl_api.url_set
#define curl_url_strerror osc_curl_api.url_strerror

#endif
