/* The paged-list loop guard: repeated links and tokens, repeated items,
 * empty pages with a next link, changing totals and the page caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/osc_paging.h"

#define ARM "https://management.azure.com/subscriptions/s/vms?api-version=1"

static void test_paging__self_pointing_next_link(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_paging pg;

  (void)state;
  osc_paging_init(&pg);
  assert_int_equal(osc_paging_begin(&pg, ARM, &err), 0);
  assert_int_equal(osc_paging_item(&pg, "vm-0", &err), 0);
  assert_int_equal(osc_paging_end(&pg, 1, ARM, &err), OSC_E_SAFETY);
  assert_non_null(strstr(err.msg, "repeats an earlier one"));
  osc_paging_free(&pg);
}

static void test_paging__repeated_skiptoken(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_paging pg;

  (void)state;
  osc_paging_init(&pg);
  assert_int_equal(osc_paging_begin(&pg, ARM, &err), 0);
  assert_int_equal(osc_paging_item(&pg, "vm-0", &err), 0);
  assert_int_equal(osc_paging_end(&pg, 1, ARM "&$skiptoken=abc", &err), 0);
  assert_int_equal(osc_paging_begin(&pg, ARM "&%24skiptoken=abc", &err), 0);
  assert_int_equal(osc_paging_item(&pg, "vm-1", &err), 0);
  /* another link, same token: the server is handing out page 2 again */
  assert_int_equal(osc_paging_end(&pg, 1, ARM "&x=1&$skiptoken=abc", &err),
                   OSC_E_SAFETY);
  osc_paging_free(&pg);
}

static void test_paging__octopus_skip_repeats(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_paging pg;

  (void)state;
  osc_paging_init(&pg);
  assert_int_equal(osc_paging_begin(&pg, "/api/machines?skip=0&take=2", &err),
                   0);
  assert_int_equal(osc_paging_total(&pg, 6, 2, &err), 0);
  assert_int_equal(osc_paging_item(&pg, "Machines-1", &err), 0);
  assert_int_equal(osc_paging_item(&pg, "Machines-2", &err), 0);
  assert_int_equal(
      osc_paging_end(&pg, 2, "/api/machines?take=2&skip=0&x=y", &err),
      OSC_E_SAFETY);
  osc_paging_free(&pg);
}

static void test_paging__item_listed_twice(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_paging pg;

  (void)state;
  osc_paging_init(&pg);
  assert_int_equal(osc_paging_item(&pg, "/subs/X/vms/1", &err), 0);
  assert_int_equal(osc_paging_item(&pg, "/SUBS/x/VMS/1", &err), OSC_E_SAFETY);
  assert_non_null(strstr(err.msg, "already listed"));
  osc_paging_free(&pg);
}

static void test_paging__empty_page_with_next(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_paging pg;

  (void)state;
  osc_paging_init(&pg);
  assert_int_equal(osc_paging_begin(&pg, ARM, &err), 0);
  assert_int_equal(osc_paging_end(&pg, 0, ARM "&$skiptoken=1", &err),
                   OSC_E_SAFETY);
  /* the last page may be empty (an empty list) */
  assert_int_equal(osc_paging_end(&pg, 0, NULL, &err), 0);
  osc_paging_free(&pg);
}

static void test_paging__total_changes_and_caps_pages(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_paging pg;
  char url[64];
  int i;

  (void)state;
  osc_paging_init(&pg);
  assert_int_equal(osc_paging_total(&pg, 5, 2, &err), 0);
  assert_int_equal(osc_paging_total(&pg, 5, 2, &err), 0);
  assert_int_equal(osc_paging_total(&pg, 6, 2, &err), OSC_E_SAFETY);
  assert_non_null(strstr(err.msg, "changed from 5 to 6"));
  assert_int_equal(osc_paging_total(&pg, -1, 2, &err), OSC_E_SAFETY);
  /* 5 items at 2 a page: 3 pages, plus one of slack */
  for (i = 0; i < 4; i++) {
    snprintf(url, sizeof(url), "/m?skip=%d", i * 2);
    assert_int_equal(osc_paging_begin(&pg, url, &err), 0);
  }
  assert_int_equal(osc_paging_begin(&pg, "/m?skip=8", &err), OSC_E_SAFETY);
  assert_non_null(strstr(err.msg, "reported total"));
  osc_paging_free(&pg);
}

static void test_paging__more_items_than_total(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_paging pg;

  (void)state;
  osc_paging_init(&pg);
  assert_int_equal(osc_paging_total(&pg, 1, 30, &err), 0);
  assert_int_equal(osc_paging_item(&pg, "Machines-1", &err), 0);
  assert_int_equal(osc_paging_item(&pg, "Machines-2", &err), 0);
  assert_int_equal(osc_paging_end(&pg, 2, NULL, &err), OSC_E_SAFETY);
  osc_paging_free(&pg);
}

static void test_paging__capacity_and_hard_caps(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_paging pg;
  char url[64];
  int i;

  (void)state;
  osc_paging_init(&pg);
  osc_paging_expect(&pg, 2); /* 2 * 2 + 16 = 20 pages */
  for (i = 0; i < 20; i++) {
    snprintf(url, sizeof(url), "/v?$skiptoken=%d", i);
    assert_int_equal(osc_paging_begin(&pg, url, &err), 0);
  }
  assert_int_equal(osc_paging_begin(&pg, "/v?$skiptoken=x", &err),
                   OSC_E_SAFETY);
  assert_non_null(strstr(err.msg, "capacity"));
  osc_paging_free(&pg);

  osc_paging_init(&pg);
  osc_paging_expect(&pg, -1); /* unknown: the hard limit only */
  for (i = 0; i < OSC_PAGING_MAX_PAGES; i++) {
    snprintf(url, sizeof(url), "/v?$skiptoken=%d", i);
    assert_int_equal(osc_paging_begin(&pg, url, &err), 0);
  }
  assert_int_equal(osc_paging_begin(&pg, "/v?$skiptoken=x", &err),
                   OSC_E_SAFETY);
  assert_non_null(strstr(err.msg, "hard limit"));
  osc_paging_free(&pg);
}

/* 100,000 distinct items: memory stays a few MiB of hashes. */
static void test_paging__many_items(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_paging pg;
  char id[32];
  int i;

  (void)state;
  osc_paging_init(&pg);
  for (i = 0; i < 100000; i++) {
    snprintf(id, sizeof(id), "Machines-%d", i);
    assert_int_equal(osc_paging_item(&pg, id, &err), 0);
  }
  assert_int_equal(pg.items, 100000);
  assert_true(pg.ids.cap <= 262144);
  osc_paging_free(&pg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_paging__self_pointing_next_link),
      cmocka_unit_test(test_paging__repeated_skiptoken),
      cmocka_unit_test(test_paging__octopus_skip_repeats),
      cmocka_unit_test(test_paging__item_listed_twice),
      cmocka_unit_test(test_paging__empty_page_with_next),
      cmocka_unit_test(test_paging__total_changes_and_caps_pages),
      cmocka_unit_test(test_paging__more_items_than_total),
      cmocka_unit_test(test_paging__capacity_and_hard_caps),
      cmocka_unit_test(test_paging__many_items),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
