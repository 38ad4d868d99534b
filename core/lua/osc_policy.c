#include "core/lua/osc_policy.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/lua/osc_bind_common.h"
#include "core/lua/osc_coverage.h"
#include "core/osc_log.h"
#include "core/lua/osc_readonly.h"
#include "core/osc_suggest.h"
#include "core/lua/osc_sandbox.h"
#include "core/lua/osc_schema.h"
#include "core/osc_time.h"

/* The documented defaults (docs/design.md §7; core/osc_engine.h). */
#define GRACE_PROVISIONING_DEFAULT (30 * 60)
#define GRACE_REGISTRATION_DEFAULT (10 * 60)
#define GRACE_ORPHAN_DEFAULT (10 * 60)

#define NAME_MAX_LEN 512
#define WHERE_MAX 600
#define RESULT_MAX 1024
#define REASON_MAX 256

struct hook_spec {
  const char *name;
  const char *expected; /* for messages */
  enum osc_decision allowed[3];
  size_t n_allowed;
};

static const struct hook_spec hook_specs[OSC_HOOK_COUNT] = {
    {"target_name", "a non-empty string", {0}, 0},
    {"on_scale_in",
     "delete, disable or keep",
     {OSC_DECIDE_DELETE, OSC_DECIDE_DISABLE, OSC_DECIDE_KEEP},
     3},
    {"on_failed_vm",
     "delete, disable or keep",
     {OSC_DECIDE_DELETE, OSC_DECIDE_DISABLE, OSC_DECIDE_KEEP},
     3},
    {"on_unregistered",
     "report or ignore",
     {OSC_DECIDE_REPORT, OSC_DECIDE_IGNORE},
     2},
    {"on_in_sync", "keep or enable", {OSC_DECIDE_KEEP, OSC_DECIDE_ENABLE}, 2},
    {"owns", "true or false", {0}, 0},
};

static const char *const grace_names[3] = {"provisioning", "registration",
                                           "orphan"};
static const int64_t grace_defaults[3] = {GRACE_PROVISIONING_DEFAULT,
                                          GRACE_REGISTRATION_DEFAULT,
                                          GRACE_ORPHAN_DEFAULT};

/* Slots in the policy's record table (registry[policy]). */
#define SLOT_TABLE 1
#define SLOT_HOOK(h) (2 + (int)(h))
#define SLOT_GRACE(k) (2 + OSC_HOOK_COUNT + (int)(k))
#define SLOT_SCALE_SET (5 + OSC_HOOK_COUNT)
#define SLOT_SETTINGS (6 + OSC_HOOK_COUNT)
#define SLOT_CTX (7 + OSC_HOOK_COUNT)
#define SLOT_MAX_DELETE (8 + OSC_HOOK_COUNT)
#define SLOT_SCHEMA (9 + OSC_HOOK_COUNT)
#define SLOT_VALIDATE (10 + OSC_HOOK_COUNT)

struct hook_slot {
  bool set;
  bool is_fn;
  enum osc_decision constant; /* is_fn false */
  char where[WHERE_MAX];      /* "policies/x.lua:12" */
};

struct grace_slot {
  bool set;
  bool is_fn;
  int64_t seconds;
  char where[WHERE_MAX];
};

struct osc_policy {
  struct osc_sandbox *sb;
  bool owns_sb;
  bool registered; /* registry[policy] holds the record */
  char name[NAME_MAX_LEN];
  int64_t now;
  const struct osc_config_scale_set *entry; /* NULL: ctx from Lua */
  struct hook_slot hooks[OSC_HOOK_COUNT];
  struct grace_slot graces[3];
  char max_delete_where[WHERE_MAX]; /* set when max_delete is a function */
  char reason[REASON_MAX];          /* of the last decision hook */
  bool have_schema;
  char validate_where[WHERE_MAX]; /* set when validate_settings is given */
  bool explain;                   /* log every hook call */
  struct osc_policy_ops ops;
};

static bool decision_parse(enum osc_policy_hook h, const char *s,
                           enum osc_decision *out) {
  const struct hook_spec *spec = &hook_specs[h];
  size_t i;

  for (i = 0; i < spec->n_allowed; i++) {
    if (strcmp(s, osc_decision_name(spec->allowed[i])) == 0) {
      *out = spec->allowed[i];
      return true;
    }
  }
  return false;
}

/* --- Lua values seen from C ---------------------------------------- */

/* What a hook returned, copied out of Lua (bounded). */
struct result {
  int type;
  bool integer;
  lua_Integer i;
  lua_Number n;
  char s[RESULT_MAX];
  size_t len; /* the full length of a string (may exceed sizeof s) */
  bool nul;   /* the string holds a NUL byte: never read as C text */
};

static void result_capture(lua_State *L, int idx, struct result *r) {
  r->type = lua_type(L, idx);
  r->s[0] = '\0';
  r->len = 0;
  r->integer = false;
  r->nul = false;
  if (r->type == LUA_TSTRING) {
    const char *s = lua_tolstring(L, idx, &r->len);
    size_t n = r->len < sizeof(r->s) - 1 ? r->len : sizeof(r->s) - 1;

    memcpy(r->s, s, n);
    r->s[n] = '\0';
    r->nul = memchr(s, '\0', r->len) != NULL;
  } else if (r->type == LUA_TNUMBER) {
    r->integer = lua_isinteger(L, idx);
    r->i = lua_tointeger(L, idx);
    r->n = lua_tonumber(L, idx);
  } else if (r->type == LUA_TBOOLEAN) {
    r->i = lua_toboolean(L, idx);
  }
}

/* A string result as C text: NULL when it is not a string, is cut short,
 * or holds a NUL byte ("delete\0x" must not read as "delete"). */
static const char *result_text(const struct result *r) {
  if (r->type != LUA_TSTRING || r->nul || r->len >= sizeof(r->s) - 1)
    return NULL;
  return r->s;
}

/* "'delet'", "nil", "42", "a table value" (strings shortened; a NUL byte
 * shows as \0). */
static void result_describe(const struct result *r, char *out, size_t cap) {
  switch (r->type) {
  case LUA_TNIL:
  case LUA_TNONE:
    snprintf(out, cap, "nil");
    break;
  case LUA_TBOOLEAN:
    snprintf(out, cap, "%s", r->i ? "true" : "false");
    break;
  case LUA_TNUMBER:
    if (r->integer)
      snprintf(out, cap, "%lld", (long long)r->i);
    else
      snprintf(out, cap, "%.14g", (double)r->n);
    break;
  case LUA_TSTRING: {
    size_t i;
    size_t used = 0;

    if (cap < 8) {
      out[0] = '\0';
      break;
    }
    out[used++] = '\'';
    for (i = 0; i < r->len && i < 60 && i < sizeof(r->s) - 1 && used + 7 < cap;
         i++) {
      if (r->s[i] == '\0') {
        out[used++] = '\\';
        out[used++] = '0';
      } else {
        out[used++] = isprint((unsigned char)r->s[i]) ? r->s[i] : '?';
      }
    }
    if (i < r->len && used + 6 < cap) {
      memcpy(out + used, "...", 3);
      used += 3;
    }
    out[used++] = '\'';
    out[used] = '\0';
    break;
  }
  default:
    snprintf(out, cap, "a %s value", lua_typename(NULL, r->type));
    break;
  }
}

/* "policies/x.lua:12" for the function at idx. */
static void function_where(lua_State *L, int idx, char *out, size_t cap) {
  lua_Debug ar;

  lua_pushvalue(L, idx);
  if (lua_getinfo(L, ">S", &ar) && ar.linedefined > 0)
    snprintf(out, cap, "%s:%d", ar.short_src, ar.linedefined);
  else
    snprintf(out, cap, "%s", ar.short_src);
}

/* --- validation of the policy table -------------------------------- */

static const char *const known_fields[] = {
    "target_name",       "grace",      "on_scale_in", "on_failed_vm",
    "on_unregistered",   "on_in_sync", "max_delete",  "owns",
    "min_delete_budget",
};

/* max_delete: "N%" (0 <= N <= 100), a count, or a numeric string. */
static int parse_max_delete(const struct result *r, struct osc_budget *out) {
  if (r->type == LUA_TNUMBER) {
    if (!r->integer || r->i < 0)
      return -1;
    out->percent = false;
    out->value = (double)r->i;
    return 0;
  }
  if (result_text(r) != NULL && r->len > 0 && r->len < 32) {
    char *end = NULL;
    double v;

    if (!isdigit((unsigned char)r->s[0]))
      return -1;
    v = strtod(r->s, &end);
    if (end == r->s || !isfinite(v))
      return -1;
    if (strcmp(end, "%") == 0) {
      if (v < 0 || v > 100)
        return -1;
      out->percent = true;
      out->value = v;
      return 0;
    }
    if (*end == '\0' && v == floor(v)) {
      out->percent = false;
      out->value = v;
      return 0;
    }
  }
  return -1;
}

static int parse_seconds(const struct result *r, int64_t *out) {
  if (r->type == LUA_TSTRING) {
    struct osc_error e = OSC_ERROR_INIT;

    if (result_text(r) == NULL)
      return -1;
    return osc_duration_parse(r->s, out, &e) < 0 ? -1 : 0;
  }
  if (r->type == LUA_TNUMBER && r->integer && r->i >= 0) {
    *out = (int64_t)r->i;
    return 0;
  }
  return -1;
}

struct validate_args {
  struct osc_policy *policy;
  struct osc_error *err;
  bool nil_is_default; /* reconcile.plan{policy = nil} */
  int rc;
};

static int vfail(struct validate_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int vfail(struct validate_args *a, const char *fmt, ...) {
  char msg[OSC_ERROR_MAX];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  a->rc = osc_error_set(a->err, OSC_E_POLICY, "%s: %s", a->policy->name, msg);
  return 0;
}

static int validate_hook(lua_State *L, struct validate_args *a,
                         enum osc_policy_hook h, int rec) {
  struct osc_policy *p = a->policy;
  struct hook_slot *slot = &p->hooks[h];
  struct result r;
  char desc[128];

  /* [..., value] */
  if (lua_type(L, -1) == LUA_TFUNCTION) {
    slot->set = true;
    slot->is_fn = true;
    function_where(L, -1, slot->where, sizeof(slot->where));
    lua_pushvalue(L, -1);
    lua_rawseti(L, rec, SLOT_HOOK(h));
    return 0;
  }
  result_capture(L, -1, &r);
  if (h != OSC_HOOK_TARGET_NAME && result_text(&r) != NULL &&
      decision_parse(h, r.s, &slot->constant)) {
    slot->set = true;
    slot->is_fn = false;
    snprintf(slot->where, sizeof(slot->where), "%s", p->name);
    return 0;
  }
  result_describe(&r, desc, sizeof(desc));
  if (h == OSC_HOOK_TARGET_NAME || h == OSC_HOOK_OWNS)
    return vfail(a, "%s is %s (expected a function)", hook_specs[h].name, desc);
  return vfail(a, "%s is %s (expected a function, or %s)", hook_specs[h].name,
               desc, hook_specs[h].expected);
}

static int validate_grace(lua_State *L, struct validate_args *a, int rec) {
  struct osc_policy *p = a->policy;
  int t = lua_gettop(L);

  if (lua_type(L, t) != LUA_TTABLE)
    return vfail(a,
                 "grace is a %s value (expected a table such as "
                 "{ orphan = \"10m\" })",
                 luaL_typename(L, t));
  lua_pushnil(L);
  while (lua_next(L, t) != 0) { /* [..., grace, key, value] */
    const char *key =
        lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    struct grace_slot *slot = NULL;
    struct result r;
    char desc[128];
    size_t k;

    for (k = 0; key != NULL && k < 3; k++) {
      if (strcmp(key, grace_names[k]) == 0)
        slot = &p->graces[k];
    }
    if (slot == NULL) {
      const char *hint = key ? osc_suggest(key, grace_names, 3) : NULL;

      return vfail(a,
                   "unknown grace '%s'%s%s%s (expected provisioning, "
                   "registration or orphan)",
                   key ? key : luaL_typename(L, -2),
                   hint ? " (did you mean '" : "", hint ? hint : "",
                   hint ? "'?)" : "");
    }
    k = (size_t)(slot - p->graces);
    slot->set = true;
    if (lua_type(L, -1) == LUA_TFUNCTION) {
      slot->is_fn = true;
      function_where(L, -1, slot->where, sizeof(slot->where));
      lua_pushvalue(L, -1);
      lua_rawseti(L, rec, SLOT_GRACE(k));
    } else {
      result_capture(L, -1, &r);
      if (parse_seconds(&r, &slot->seconds) < 0) {
        result_describe(&r, desc, sizeof(desc));
        return vfail(a,
                     "grace.%s is %s (expected a duration such as 10m "
                     "or 1h30m, a number of seconds, or a function)",
                     grace_names[k], desc);
      }
    }
    lua_pop(L, 1);
  }
  return 0;
}

static void validate_max_delete(lua_State *L, struct validate_args *a,
                                int rec) {
  struct osc_policy *p = a->policy;
  struct result r;
  char desc[128];

  if (lua_type(L, -1) == LUA_TFUNCTION) {
    function_where(L, -1, p->max_delete_where, sizeof(p->max_delete_where));
    lua_pushvalue(L, -1);
    lua_rawseti(L, rec, SLOT_MAX_DELETE);
    return;
  }
  result_capture(L, -1, &r);
  if (parse_max_delete(&r, &p->ops.max_delete) < 0) {
    result_describe(&r, desc, sizeof(desc));
    vfail(a,
          "max_delete is %s (expected a percentage such as \"10%%\", a "
          "count, or a function)",
          desc);
  }
}

static void validate_min_delete(lua_State *L, struct validate_args *a) {
  struct osc_policy *p = a->policy;
  struct result r;
  char desc[128];

  result_capture(L, -1, &r);
  if (r.type == LUA_TNUMBER && r.integer && r.i >= 0) {
    p->ops.max_delete.min_set = true;
    p->ops.max_delete.min = (size_t)r.i;
    return;
  }
  result_describe(&r, desc, sizeof(desc));
  vfail(a, "min_delete_budget is %s (expected a count, 0 or more)", desc);
}

/* settings_schema: a table of field specs (core/lua/osc_schema.h), checked
 * here so a typo in a type name fails at load, not at the first setting. */
static void validate_schema(lua_State *L, struct validate_args *a, int rec) {
  char msg[OSC_ERROR_MAX];

  if (lua_type(L, -1) != LUA_TTABLE) {
    vfail(a,
          "settings_schema is a %s value (expected a table such as "
          "{ team = \"string\" })",
          luaL_typename(L, -1));
    return;
  }
  if (osc_schema_check(L, -1, msg, sizeof(msg)) < 0) {
    vfail(a, "%s", msg);
    return;
  }
  a->policy->have_schema = true;
  lua_pushvalue(L, -1);
  lua_rawseti(L, rec, SLOT_SCHEMA);
}

/* [ud, policy-value, record] */
static int validate_table(lua_State *L) {
  struct validate_args *a = lua_touserdata(L, 1);
  const int rec = 3;

  if (lua_type(L, 2) != LUA_TTABLE)
    return vfail(a, "the policy returned %s (expected a table of hooks)",
                 lua_type(L, 2) == LUA_TNIL ? "nil"
                                            : lua_typename(L, lua_type(L, 2)));
  lua_pushvalue(L, 2);
  lua_rawseti(L, rec, SLOT_TABLE);
  if (osc_coverage_on(L)) /* octoscale test --coverage */
    osc_coverage_add(L, 2);
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) { /* [..., key, value] */
    const char *key =
        lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    size_t h;

    if (key == NULL)
      return vfail(a,
                   "unexpected %s key in the policy table (fields are "
                   "named)",
                   luaL_typename(L, -2));
    for (h = 0; h < OSC_HOOK_COUNT; h++) {
      if (strcmp(key, hook_specs[h].name) == 0)
        break;
    }
    if (h < OSC_HOOK_COUNT) {
      validate_hook(L, a, (enum osc_policy_hook)h, rec);
    } else if (strcmp(key, "grace") == 0) {
      validate_grace(L, a, rec);
    } else if (strcmp(key, "max_delete") == 0) {
      validate_max_delete(L, a, rec);
    } else if (strcmp(key, "min_delete_budget") == 0) {
      validate_min_delete(L, a);
    } else if (strcmp(key, "settings_schema") == 0) {
      validate_schema(L, a, rec);
    } else if (strcmp(key, "validate_settings") == 0) {
      if (lua_type(L, -1) != LUA_TFUNCTION) {
        vfail(a, "validate_settings is a %s value (expected a function)",
              luaL_typename(L, -1));
      } else {
        function_where(L, -1, a->policy->validate_where,
                       sizeof(a->policy->validate_where));
        lua_pushvalue(L, -1);
        lua_rawseti(L, rec, SLOT_VALIDATE);
      }
    } else if (strcmp(key, "enable_any_disabled") == 0) {
      if (lua_type(L, -1) != LUA_TBOOLEAN)
        vfail(a, "enable_any_disabled is a %s value (expected true or false)",
              luaL_typename(L, -1));
      a->policy->ops.enable_any_disabled = lua_toboolean(L, -1);
    } else {
      const char *hint = osc_suggest(
          key, known_fields, sizeof(known_fields) / sizeof(known_fields[0]));

      if (hint != NULL)
        vfail(a,
              "unknown field '%s' in the policy table (did you mean "
              "'%s'?)",
              key, hint);
      else
        vfail(a, "unknown field '%s' in the policy table", key);
    }
    if (a->rc < 0)
      return 0;
    lua_pop(L, 1);
  }
  return 0;
}

/* --- the contract for the octoscale.policy library ----------------- */

/* Is r an answer the engine takes from hook h? */
static bool answer_ok(enum osc_policy_hook h, const struct result *r) {
  enum osc_decision d;

  if (h == OSC_HOOK_TARGET_NAME)
    return r->type == LUA_TSTRING && r->len > 0 && !r->nul;
  if (h == OSC_HOOK_OWNS)
    return r->type == LUA_TBOOLEAN;
  return result_text(r) != NULL && decision_parse(h, r->s, &d);
}

/* "on_scale_in returned 'delet' (expected delete, disable or keep)" */
static void answer_refused(enum osc_policy_hook h, const struct result *r,
                           char *msg, size_t cap) {
  char desc[128];

  result_describe(r, desc, sizeof(desc));
  snprintf(msg, cap, "%s returned %s (expected %s)", hook_specs[h].name, desc,
           hook_specs[h].expected);
}

int osc_policy_answer(struct lua_State *L, int idx, const char *hook, char *msg,
                      size_t cap) {
  struct result r;
  size_t h;

  for (h = 0; h < OSC_HOOK_COUNT; h++) {
    if (strcmp(hook, hook_specs[h].name) == 0)
      break;
  }
  if (h == OSC_HOOK_COUNT) {
    snprintf(msg, cap, "unknown hook '%.64s'", hook);
    return -1;
  }
  result_capture(L, idx, &r);
  if (answer_ok((enum osc_policy_hook)h, &r))
    return 0;
  answer_refused((enum osc_policy_hook)h, &r, msg, cap);
  return -1;
}

int osc_policy_max_delete(struct lua_State *L, int idx,
                          struct osc_budget *out) {
  struct result r;

  result_capture(L, idx, &r);
  return parse_max_delete(&r, out);
}

void osc_policy_set_contract(struct lua_State *L, int table) {
  size_t h;
  size_t i;

  table = lua_absindex(L, table);
  lua_createtable(L, 0, OSC_HOOK_COUNT);
  for (h = 0; h < OSC_HOOK_COUNT; h++) {
    const struct hook_spec *spec = &hook_specs[h];

    if (spec->n_allowed == 0) {
      lua_pushboolean(L, 0); /* not a word: a name, or true or false */
    } else {
      lua_createtable(L, (int)spec->n_allowed, 0);
      for (i = 0; i < spec->n_allowed; i++) {
        lua_pushstring(L, osc_decision_name(spec->allowed[i]));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
    }
    lua_setfield(L, -2, spec->name);
  }
  lua_setfield(L, table, "hooks");
  lua_createtable(L, 3, 0);
  for (i = 0; i < 3; i++) {
    lua_pushstring(L, grace_names[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, table, "graces");
}

/* --- building ctx, vm and target tables ---------------------------- */

/* The ctx table, built once per policy and kept in the record. */
static void push_ctx(lua_State *L, struct osc_policy *p, int rec) {
  if (lua_rawgeti(L, rec, SLOT_CTX) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 4); /* [ctx] */
  lua_pushinteger(L, (lua_Integer)p->now);
  lua_setfield(L, -2, "now");
  if (p->entry != NULL) {
    osc_bind_push_entry(L, p->entry);
    lua_getfield(L, -1, "settings");
    osc_readonly_view(L, "ctx.settings"); /* hooks read, never write */
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "settings");
    lua_setfield(L, -3, "settings");
    lua_pushstring(L, p->entry->name ? p->entry->name : "");
  } else {
    if (lua_rawgeti(L, rec, SLOT_SCALE_SET) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
    }
    if (lua_rawgeti(L, rec, SLOT_SETTINGS) != LUA_TTABLE) {
      lua_pop(L, 1);
      if (lua_getfield(L, -1, "settings") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
      }
    }
    osc_readonly_view(L, "ctx.settings");
    lua_setfield(L, -3, "settings");
    if (lua_getfield(L, -1, "name") != LUA_TSTRING) {
      lua_pop(L, 1);
      lua_pushstring(L, p->name);
    }
  }
  /* [ctx, scale_set, tag] */
  lua_pushcclosure(L, osc_sandbox_lua_print, 1);
  lua_setfield(L, -3, "log");
  lua_setfield(L, -2, "scale_set");
  lua_pushvalue(L, -1);
  lua_rawseti(L, rec, SLOT_CTX);
}

/* Policies and scripts see the same vm and target tables
 * (core/lua/osc_bind_common.c builds them); a hook without that subject gets an
 * empty table. */
static void push_vm(lua_State *L, const struct osc_vm *vm) {
  if (vm == NULL)
    lua_newtable(L);
  else
    osc_bind_push_vm(L, vm);
}

static void push_target(lua_State *L, const struct osc_target *t,
                        int64_t orphaned_since) {
  if (t == NULL) {
    lua_newtable(L);
    return;
  }
  osc_bind_push_target(L, t);
  if (orphaned_since > 0) {
    lua_pushinteger(L, (lua_Integer)orphaned_since);
    lua_setfield(L, -2, "orphaned_since");
  }
  /* Policy memory: set only for targets octoscale disabled. */
  if (t->disabled_since > 0) {
    lua_pushinteger(L, (lua_Integer)t->disabled_since);
    lua_setfield(L, -2, "disabled_since");
  }
  lua_pushboolean(L, t->disabled_since > 0);
  lua_setfield(L, -2, "disabled_by_octoscale");
}

/* --- calling hooks ------------------------------------------------- */

enum subject { SUBJ_VM, SUBJ_TARGET, SUBJ_VM_TARGET, SUBJ_CTX };

struct call_args {
  struct osc_policy *policy;
  int slot;
  enum subject subject;
  const struct osc_vm *vm;
  const struct osc_target *target;
  int64_t orphaned_since;
  struct result result;
  struct result reason;     /* the optional second value */
  char returned[WHERE_MAX]; /* explain: "file:LINE" of the answering return */
};

/* [ud] -> calls the hook with its arguments, captures the result. */
static int call_hook(lua_State *L) {
  struct call_args *c = lua_touserdata(L, 1);
  int rec;
  int nargs = 0;

  lua_rawgetp(L, LUA_REGISTRYINDEX, c->policy); /* [ud, rec] */
  rec = lua_gettop(L);
  lua_rawgeti(L, rec, c->slot); /* [ud, rec, fn] */
  if (c->subject == SUBJ_VM || c->subject == SUBJ_VM_TARGET) {
    push_vm(L, c->vm);
    nargs++;
  }
  if (c->subject == SUBJ_TARGET || c->subject == SUBJ_VM_TARGET) {
    push_target(L, c->target, c->orphaned_since);
    nargs++;
  }
  push_ctx(L, c->policy, rec);
  nargs++;
  lua_call(L, nargs, 2);
  result_capture(L, -2, &c->result);
  result_capture(L, -1, &c->reason);
  return 0;
}

/* Runs one hook; a raised error becomes "x.lua:LINE: <label>: message". */
static int run_hook(struct call_args *c, const char *label,
                    struct osc_error *err) {
  struct osc_policy *p = c->policy;
  bool explain = p->explain || osc_log_enabled(OSC_LOG_DEBUG);
  int rc;

  if (explain) /* which `return` answered, for the explain line */
    osc_sandbox_track_returns(p->sb, true);
  rc = osc_sandbox_cpcall(p->sb, call_hook, c, 0, err);
  if (explain) {
    snprintf(c->returned, sizeof(c->returned), "%s",
             osc_sandbox_last_return(p->sb));
    osc_sandbox_track_returns(p->sb, false);
  }

  if (rc < 0 && err != NULL) {
    char msg[OSC_ERROR_MAX];

    osc_sandbox_tag_message(err->msg, label, msg, sizeof(msg));
    osc_error_set(err, rc, "%s", msg);
  }
  return rc;
}

/* The reason a decision hook returned beside its answer: a string or nil. */
static int take_reason(struct osc_policy *p, enum osc_policy_hook h,
                       const struct call_args *c, struct osc_error *err) {
  const struct result *r = &c->reason;
  char desc[128];

  if (r->type == LUA_TNIL || r->type == LUA_TNONE)
    return OSC_OK;
  if (r->type == LUA_TSTRING) {
    size_t i;

    snprintf(p->reason, sizeof(p->reason), "%s", r->s);
    for (i = 0; p->reason[i] != '\0'; i++) {
      if (!isprint((unsigned char)p->reason[i]))
        p->reason[i] = ' '; /* one line in the plan */
    }
    return OSC_OK;
  }
  result_describe(r, desc, sizeof(desc));
  return osc_error_set(err, OSC_E_POLICY,
                       "%s: %s returned the reason %s (expected a string)",
                       p->hooks[h].where, hook_specs[h].name, desc);
}

static const char *op_last_reason(void *ud) {
  struct osc_policy *p = ud;

  return p->reason[0] != '\0' ? p->reason : NULL;
}

/* "target web000009 (Machines-9, disabled, orphaned 1h ago)" */
static void describe_subject(const struct osc_policy *p,
                             const struct call_args *c, char *out, size_t cap) {
  size_t used = 0;

  out[0] = '\0';
  if (c->vm != NULL && (c->subject == SUBJ_VM || c->subject == SUBJ_VM_TARGET))
    used +=
        (size_t)snprintf(out, cap, "vm %s", c->vm->name ? c->vm->name : "?");
  if (used < cap && c->target != NULL && c->subject != SUBJ_VM) {
    char age[32] = "";

    if (c->orphaned_since > 0)
      osc_duration_format(p->now - c->orphaned_since, age, sizeof(age));
    used += (size_t)snprintf(
        out + used, cap - used, "%starget %s (%s%s%s%s%s)", used ? ", " : "",
        c->target->name ? c->target->name : "?",
        c->target->id ? c->target->id : "?",
        c->target->disabled ? ", disabled" : "", age[0] ? ", orphaned " : "",
        age, age[0] ? " ago" : "");
  }
  if (used == 0)
    snprintf(out, cap, "ctx");
}

/* plan --explain and -v: one line per hook call. */
static void explain_call(struct osc_policy *p, const char *hook,
                         const struct call_args *c, const char *where) {
  char subject[400];
  char answer[128];
  char reason[REASON_MAX + 16] = "";

  if (!p->explain && !osc_log_enabled(OSC_LOG_DEBUG))
    return;
  describe_subject(p, c, subject, sizeof(subject));
  result_describe(&c->result, answer, sizeof(answer));
  if (c->reason.type == LUA_TSTRING)
    snprintf(reason, sizeof(reason), ", reason \"%.*s\"", REASON_MAX - 1,
             c->reason.s);
  osc_log(p->explain ? OSC_LOG_INFO : OSC_LOG_DEBUG,
          p->entry != NULL ? p->entry->name : NULL,
          "explain: %s(%s) -> %s%s at %s", hook, subject, answer, reason,
          c->returned[0] != '\0' ? c->returned : where);
}

static int decide(struct osc_policy *p, enum osc_policy_hook h,
                  struct call_args *c, enum osc_decision *out,
                  struct osc_error *err) {
  struct hook_slot *slot = &p->hooks[h];
  char msg[OSC_ERROR_MAX];
  int rc;

  p->reason[0] = '\0';
  if (!slot->is_fn) {
    *out = slot->constant;
    return OSC_OK;
  }
  c->policy = p;
  c->slot = SLOT_HOOK(h);
  rc = run_hook(c, hook_specs[h].name, err);
  if (rc < 0)
    return rc;
  explain_call(p, hook_specs[h].name, c, slot->where);
  if (result_text(&c->result) != NULL && decision_parse(h, c->result.s, out))
    return take_reason(p, h, c, err);
  answer_refused(h, &c->result, msg, sizeof(msg));
  return osc_error_set(err, OSC_E_POLICY, "%s: %s", slot->where, msg);
}

static int op_target_name(void *ud, const struct osc_vm *vm, char *out,
                          size_t cap, struct osc_error *err) {
  struct osc_policy *p = ud;
  struct hook_slot *slot = &p->hooks[OSC_HOOK_TARGET_NAME];
  struct call_args c;
  char msg[OSC_ERROR_MAX];
  int rc;

  memset(&c, 0, sizeof(c));
  c.policy = p;
  c.slot = SLOT_HOOK(OSC_HOOK_TARGET_NAME);
  c.subject = SUBJ_VM;
  c.vm = vm;
  rc = run_hook(&c, "target_name", err);
  if (rc < 0)
    return rc;
  explain_call(p, "target_name", &c, slot->where);
  if (c.result.type == LUA_TSTRING && c.result.len > 0 && !c.result.nul) {
    if (c.result.len >= cap || c.result.len >= sizeof(c.result.s))
      return osc_error_set(
          err, OSC_E_POLICY,
          "%s: target_name returned a name of %zu bytes "
          "(the limit is %zu)",
          slot->where, c.result.len,
          (cap < sizeof(c.result.s) ? cap : sizeof(c.result.s)) - 1);
    memcpy(out, c.result.s, c.result.len + 1);
    return OSC_OK;
  }
  answer_refused(OSC_HOOK_TARGET_NAME, &c.result, msg, sizeof(msg));
  return osc_error_set(err, OSC_E_POLICY, "%s: %s", slot->where, msg);
}

static int grace_value(struct osc_policy *p, enum osc_grace_kind kind,
                       const struct osc_vm *vm, const struct osc_target *target,
                       int64_t *out, struct osc_error *err) {
  struct grace_slot *slot = &p->graces[kind];
  struct call_args c;
  char label[64];
  char desc[128];
  int rc;

  if (!slot->set) {
    *out = grace_defaults[kind];
    return OSC_OK;
  }
  if (!slot->is_fn) {
    *out = slot->seconds;
    return OSC_OK;
  }
  memset(&c, 0, sizeof(c));
  c.policy = p;
  c.slot = SLOT_GRACE(kind);
  c.subject = kind == OSC_GRACE_ORPHAN ? SUBJ_TARGET : SUBJ_VM;
  c.vm = vm;
  c.target = target;
  snprintf(label, sizeof(label), "grace.%s", grace_names[kind]);
  rc = run_hook(&c, label, err);
  if (rc < 0)
    return rc;
  explain_call(p, label, &c, slot->where);
  if (parse_seconds(&c.result, out) == 0)
    return OSC_OK;
  result_describe(&c.result, desc, sizeof(desc));
  return osc_error_set(err, OSC_E_POLICY,
                       "%s: %s returned %s (expected a duration such as 10m "
                       "or 1h30m, or a number of seconds)",
                       slot->where, label, desc);
}

static int op_grace(void *ud, enum osc_grace_kind kind, const struct osc_vm *vm,
                    const struct osc_target *target, int64_t *out,
                    struct osc_error *err) {
  if ((unsigned)kind > OSC_GRACE_ORPHAN)
    return osc_error_set(err, OSC_E_POLICY, "unknown grace kind %d", (int)kind);
  return grace_value(ud, kind, vm, target, out, err);
}

static int op_on_scale_in(void *ud, const struct osc_target *target,
                          int64_t orphaned_since, enum osc_decision *out,
                          struct osc_error *err) {
  struct call_args c;

  memset(&c, 0, sizeof(c));
  c.subject = SUBJ_TARGET;
  c.target = target;
  c.orphaned_since = orphaned_since;
  return decide(ud, OSC_HOOK_ON_SCALE_IN, &c, out, err);
}

static int op_on_failed_vm(void *ud, const struct osc_vm *vm,
                           const struct osc_target *target,
                           enum osc_decision *out, struct osc_error *err) {
  struct call_args c;

  memset(&c, 0, sizeof(c));
  c.subject = SUBJ_VM_TARGET;
  c.vm = vm;
  c.target = target;
  return decide(ud, OSC_HOOK_ON_FAILED_VM, &c, out, err);
}

static int op_on_unregistered(void *ud, const struct osc_vm *vm,
                              enum osc_decision *out, struct osc_error *err) {
  struct call_args c;

  memset(&c, 0, sizeof(c));
  c.subject = SUBJ_VM;
  c.vm = vm;
  return decide(ud, OSC_HOOK_ON_UNREGISTERED, &c, out, err);
}

static int op_on_in_sync(void *ud, const struct osc_vm *vm,
                         const struct osc_target *target,
                         enum osc_decision *out, struct osc_error *err) {
  struct call_args c;

  memset(&c, 0, sizeof(c));
  c.subject = SUBJ_VM_TARGET;
  c.vm = vm;
  c.target = target;
  return decide(ud, OSC_HOOK_ON_IN_SYNC, &c, out, err);
}

static int op_owns(void *ud, const struct osc_target *target, bool *out,
                   struct osc_error *err) {
  struct osc_policy *p = ud;
  struct call_args c;
  char msg[OSC_ERROR_MAX];
  int rc;

  memset(&c, 0, sizeof(c));
  c.policy = p;
  c.slot = SLOT_HOOK(OSC_HOOK_OWNS);
  c.subject = SUBJ_TARGET;
  c.target = target;
  rc = run_hook(&c, "owns", err);
  if (rc < 0)
    return rc;
  if (c.result.type == LUA_TBOOLEAN) {
    *out = c.result.i != 0;
    return OSC_OK;
  }
  answer_refused(OSC_HOOK_OWNS, &c.result, msg, sizeof(msg));
  return osc_error_set(err, OSC_E_POLICY, "%s: %s",
                       p->hooks[OSC_HOOK_OWNS].where, msg);
}

static int op_max_delete(void *ud, struct osc_budget *out,
                         struct osc_error *err) {
  struct osc_policy *p = ud;
  struct call_args c;
  char desc[128];
  int rc;

  memset(&c, 0, sizeof(c));
  c.policy = p;
  c.slot = SLOT_MAX_DELETE;
  c.subject = SUBJ_CTX;
  rc = run_hook(&c, "max_delete", err);
  if (rc < 0)
    return rc;
  explain_call(p, "max_delete", &c, p->max_delete_where);
  if (parse_max_delete(&c.result, out) == 0)
    return OSC_OK;
  result_describe(&c.result, desc, sizeof(desc));
  return osc_error_set(err, OSC_E_POLICY,
                       "%s: max_delete returned %s (expected a percentage "
                       "such as \"10%%\" or a count)",
                       p->max_delete_where, desc);
}

static void fill_ops(struct osc_policy *p) {
  bool any_grace = p->graces[0].set || p->graces[1].set || p->graces[2].set;

  p->ops.ud = p;
  p->ops.target_name =
      p->hooks[OSC_HOOK_TARGET_NAME].set ? op_target_name : NULL;
  p->ops.grace = any_grace ? op_grace : NULL;
  p->ops.on_scale_in =
      p->hooks[OSC_HOOK_ON_SCALE_IN].set ? op_on_scale_in : NULL;
  p->ops.on_failed_vm =
      p->hooks[OSC_HOOK_ON_FAILED_VM].set ? op_on_failed_vm : NULL;
  p->ops.on_unregistered =
      p->hooks[OSC_HOOK_ON_UNREGISTERED].set ? op_on_unregistered : NULL;
  p->ops.on_in_sync = p->hooks[OSC_HOOK_ON_IN_SYNC].set ? op_on_in_sync : NULL;
  p->ops.owns = p->hooks[OSC_HOOK_OWNS].set ? op_owns : NULL;
  p->ops.max_delete_fn = p->max_delete_where[0] ? op_max_delete : NULL;
  p->ops.last_reason = op_last_reason;
}

bool osc_policy_has_hook(const struct osc_policy *policy,
                         enum osc_policy_hook h) {
  return policy != NULL && (unsigned)h < OSC_HOOK_COUNT && policy->hooks[h].set;
}

/* --- checked settings ---------------------------------------------- */

/* The config line of the settings value at path (the deepest part of it
 * that exists), else of the settings, else of the entry. */
static int settings_line(const struct osc_config_scale_set *entry,
                         const struct osc_schema_path *path) {
  const struct osc_value *v = &entry->settings;
  int line = v->line > 0 ? v->line : entry->line;
  size_t i, k;

  for (i = 0; i < path->n && v != NULL; i++) {
    const struct osc_value *next = NULL;

    if (path->seg[i].key != NULL && v->type == OSC_VALUE_MAP) {
      for (k = 0; k < v->n && next == NULL; k++) {
        if (v->keys[k] != NULL && strcmp(v->keys[k], path->seg[i].key) == 0)
          next = &v->items[k];
      }
    } else if (path->seg[i].key == NULL && v->type == OSC_VALUE_LIST &&
               path->seg[i].index >= 1 && (size_t)path->seg[i].index <= v->n) {
      next = &v->items[path->seg[i].index - 1];
    }
    v = next;
    if (v != NULL && v->line > 0)
      line = v->line;
  }
  return line;
}

struct settings_check {
  struct osc_policy *policy;
  int line;                /* of the failing value (entry: config line) */
  char msg[OSC_ERROR_MAX]; /* schema failure; empty when it passed */
};

/* [ud] -> checks ctx.settings against settings_schema, then calls
 * validate_settings(settings, scale_set); a raise is the hook's answer. */
static int settings_check_l(lua_State *L) {
  struct settings_check *c = lua_touserdata(L, 1);
  struct osc_policy *p = c->policy;
  struct osc_schema_failure f;
  int rec;
  int ctx;

  lua_rawgetp(L, LUA_REGISTRYINDEX, p); /* [ud, rec] */
  rec = lua_gettop(L);
  push_ctx(L, p, rec); /* [ud, rec, ctx] */
  ctx = lua_gettop(L);
  lua_getfield(L, ctx, "settings"); /* [.., settings (a view)] */
  if (p->have_schema) {
    osc_readonly_push_real(L, -1); /* the schema iterates the table */
    lua_rawgeti(L, rec, SLOT_SCHEMA);
    if (osc_schema_validate(L, -1, -2, &f) < 0) {
      snprintf(c->msg, sizeof(c->msg), "%s", f.msg);
      c->line = p->entry != NULL ? settings_line(p->entry, &f.path) : 0;
      return 0;
    }
    lua_pop(L, 2);
  }
  if (p->validate_where[0] != '\0') {
    lua_rawgeti(L, rec, SLOT_VALIDATE);
    lua_pushvalue(L, -2);
    lua_getfield(L, ctx, "scale_set");
    lua_call(L, 2, 0);
  }
  return 0;
}

/* The line of the policy file where `field = ...` is first written (the
 * table value of settings_schema carries no line of its own); 0 when the
 * policy is no file or the field is not found. */
static int source_line_of(const char *path, const char *field) {
  char line[1024];
  size_t len = strlen(field);
  FILE *f = fopen(path, "r");
  int n = 0;
  int found = 0;

  while (f != NULL && found == 0 && fgets(line, sizeof(line), f) != NULL) {
    const char *s = line;

    n++;
    while (*s == ' ' || *s == '\t')
      s++;
    if (strncmp(s, field, len) != 0)
      continue;
    s += len;
    while (*s == ' ' || *s == '\t')
      s++;
    if (*s == '=' && s[1] != '=')
      found = n;
  }
  if (f != NULL)
    fclose(f);
  return found;
}

/* `check` and `plan`: the entry's settings against the policy's
 * settings_schema and validate_settings. Errors name the config file:line
 * of the value and the policy. */
static int check_settings(struct osc_policy *p, struct osc_error *err) {
  const struct osc_config_scale_set *e = p->entry;
  struct settings_check c;
  char where[NAME_MAX_LEN + 32] = "";
  char msg[OSC_ERROR_MAX];
  int rc;

  if (!p->have_schema && p->validate_where[0] == '\0')
    return OSC_OK;
  memset(&c, 0, sizeof(c));
  c.policy = p;
  rc = osc_sandbox_cpcall(p->sb, settings_check_l, &c, 0, err);
  if (e != NULL && e->config_path != NULL)
    snprintf(where, sizeof(where), "%s:%d: ", e->config_path,
             c.line > 0             ? c.line
             : e->settings.line > 0 ? e->settings.line
                                    : e->line);
  if (rc < 0 && err != NULL) {
    osc_sandbox_tag_message(err->msg, "validate_settings", msg, sizeof(msg));
    /* a raise with no position of its own (error(msg, 0)) still names
     * the policy's line: where validate_settings is */
    if (strstr(msg, p->name) == NULL && p->validate_where[0] != '\0')
      return osc_error_set(err, rc == OSC_E_NOMEM ? rc : OSC_E_CONFIG,
                           "%ssettings rejected by %s (validate_settings at "
                           "%s)",
                           where, msg, p->validate_where);
    return osc_error_set(err, rc == OSC_E_NOMEM ? rc : OSC_E_CONFIG,
                         "%ssettings rejected by %s", where, msg);
  }
  if (c.msg[0] != '\0') {
    size_t n = strlen(p->name);
    int line = n > 4 && strcmp(p->name + n - 4, ".lua") == 0
                   ? source_line_of(p->name, "settings_schema")
                   : 0;

    if (line > 0)
      return osc_error_set(err, OSC_E_CONFIG, "%s%s (settings_schema at %s:%d)",
                           where, c.msg, p->name, line);
    return osc_error_set(err, OSC_E_CONFIG, "%s%s (settings_schema of %s)",
                         where, c.msg, p->name);
  }
  return OSC_OK;
}

/* --- life cycle ---------------------------------------------------- */

static struct osc_policy *policy_alloc(struct osc_sandbox *sb, bool owns,
                                       const char *name, int64_t now) {
  static const struct osc_budget budget = OSC_BUDGET_DEFAULT;
  struct osc_policy *p = calloc(1, sizeof(*p));

  if (p == NULL)
    return NULL;
  p->sb = sb;
  p->owns_sb = owns;
  p->now = now;
  p->ops.max_delete = budget;
  snprintf(p->name, sizeof(p->name), "%s", name);
  return p;
}

/* [ud, value, scale_set, settings] -> registry[policy] = record; validates
 * the value (a table, or nil for the defaults). */
static int register_policy(lua_State *L) {
  struct validate_args *a = lua_touserdata(L, 1);

  lua_settop(L, 4);
  lua_createtable(L, SLOT_CTX, 0); /* [ud, value, ss, settings, rec] */
  lua_pushvalue(L, 3);
  lua_rawseti(L, 5, SLOT_SCALE_SET);
  lua_pushvalue(L, 4);
  lua_rawseti(L, 5, SLOT_SETTINGS);
  lua_pushvalue(L, 5);
  lua_rawsetp(L, LUA_REGISTRYINDEX, a->policy);
  a->policy->registered = true;
  if (lua_isnil(L, 2) && a->nil_is_default)
    return 0;
  lua_pushcfunction(L, validate_table);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 5);
  lua_call(L, 3, 0);
  return 0;
}

static int unregister_policy(lua_State *L) {
  struct osc_policy *p = lua_touserdata(L, 1);

  lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, p);
  return 0;
}

/* Stack: [..., value, scale_set, settings] (popped). */
static int finish_policy(struct osc_policy *p, bool nil_is_default,
                         struct osc_error *err) {
  lua_State *L = osc_sandbox_state(p->sb);
  struct validate_args a;
  int rc;

  a.policy = p;
  a.err = err;
  a.nil_is_default = nil_is_default;
  a.rc = OSC_OK;
  lua_pushcfunction(L, register_policy);
  lua_insert(L, -4);
  lua_pushlightuserdata(L, &a);
  lua_insert(L, -4); /* [..., fn, ud, value, ss, settings] */
  rc = osc_sandbox_pcall(p->sb, 4, 0, err);
  if (rc < 0)
    return rc;
  if (a.rc < 0)
    return a.rc;
  fill_ops(p);
  return check_settings(p, err);
}

int osc_policy_load(const char *path, const struct osc_config_scale_set *entry,
                    int64_t now, struct osc_policy **out,
                    struct osc_error *err) {
  struct osc_sandbox_options opts = {NULL, OSC_SANDBOX_LIMITS_DEFAULT};
  struct osc_sandbox *sb = NULL;
  struct osc_policy *p = NULL;
  char display[NAME_MAX_LEN];
  lua_State *L;
  int rc;

  *out = NULL;
  osc_sandbox_display_name(path, display, sizeof(display));
  opts.tag = display;
  rc = osc_sandbox_new(&opts, &sb, err);
  if (rc < 0)
    goto done;
  p = policy_alloc(sb, true, display, now);
  if (p == NULL) {
    osc_sandbox_free(sb);
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  p->entry = entry;
  L = osc_sandbox_state(sb);
  rc = osc_sandbox_load_file(sb, path, err);
  if (rc < 0)
    goto done;
  rc = osc_sandbox_pcall(sb, 0, 1, err); /* [policy-value] */
  if (rc < 0)
    goto done;
  lua_pushnil(L);
  lua_pushnil(L);
  rc = finish_policy(p, false, err);
done:
  if (rc < 0) {
    osc_policy_free(p);
    return rc;
  }
  *out = p;
  return OSC_OK;
}

int osc_policy_from_lua(struct lua_State *L, int64_t now,
                        struct osc_policy **out, struct osc_error *err) {
  struct osc_sandbox *sb = osc_sandbox_from_state(L);
  struct osc_policy *p = NULL;
  char display[NAME_MAX_LEN];
  bool nil_is_default = lua_isnil(L, -3);
  int rc;

  *out = NULL;
  if (sb == NULL) {
    lua_pop(L, 3);
    return osc_error_set(err, OSC_E_POLICY, "not a sandbox state");
  }
  if (lua_type(L, -3) == LUA_TSTRING) {
    osc_sandbox_display_name(lua_tostring(L, -3), display, sizeof(display));
  } else {
    snprintf(display, sizeof(display), "policy");
  }
  p = policy_alloc(sb, false, display, now);
  if (p == NULL) {
    lua_pop(L, 3);
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  }
  if (lua_type(L, -3) == LUA_TSTRING) {
    /* Load the file in place of the path: [path, ss, settings] ->
     * [value, ss, settings]. */
    char path[NAME_MAX_LEN];

    snprintf(path, sizeof(path), "%s", lua_tostring(L, -3));
    rc = osc_sandbox_load_file(sb, path, err);
    if (rc == OSC_OK)
      rc = osc_sandbox_pcall(sb, 0, 1, err);
    if (rc < 0) {
      lua_pop(L, 3);
      goto done;
    }
    lua_replace(L, -4);
  } else if (!lua_isnil(L, -3) && lua_type(L, -3) != LUA_TTABLE) {
    const char *tn = luaL_typename(L, -3);

    lua_pop(L, 3);
    rc = osc_error_set(err, OSC_E_POLICY,
                       "policy must be a table or a path (got a %s value)", tn);
    goto done;
  }
  rc = finish_policy(p, nil_is_default, err);
done:
  if (rc < 0) {
    osc_policy_free(p);
    return rc;
  }
  *out = p;
  return OSC_OK;
}

int osc_policy_check(struct lua_State *L, struct osc_error *err) {
  struct osc_sandbox *sb = osc_sandbox_from_state(L);
  struct osc_error clock_err = OSC_ERROR_INIT;
  struct osc_policy *p = NULL;
  int64_t now = 0;
  int rc;

  lua_pushnil(L); /* scale_set, before C owns memory */
  lua_pushnil(L); /* settings */
  if (osc_time_now(&now, &clock_err) < 0)
    now = 0; /* ctx.now only matters to validate_settings */
  if (sb != NULL)
    p = policy_alloc(sb, false, "policy", now);
  if (p == NULL) {
    lua_pop(L, 3);
    return sb == NULL ? osc_error_set(err, OSC_E_POLICY, "not a sandbox state")
                      : osc_error_set(err, OSC_E_NOMEM, "out of memory");
  }
  rc = finish_policy(p, false, err);
  osc_policy_free(p);
  return rc;
}

void osc_policy_set_explain(struct osc_policy *policy, bool explain) {
  policy->explain = explain;
}

const struct osc_policy_ops *osc_policy_get_ops(struct osc_policy *policy) {
  return &policy->ops;
}

const char *osc_policy_name(const struct osc_policy *policy) {
  return policy->name;
}

int osc_policy_provisioning_grace(struct osc_policy *policy, int64_t *out,
                                  struct osc_error *err) {
  struct osc_vm vm;

  memset(&vm, 0, sizeof(vm));
  vm.scale_set = policy->entry != NULL ? policy->entry->vmss : NULL;
  return grace_value(policy, OSC_GRACE_PROVISIONING, &vm, NULL, out, err);
}

void osc_policy_free(struct osc_policy *policy) {
  if (policy == NULL)
    return;
  if (policy->owns_sb) {
    osc_sandbox_free(policy->sb);
  } else if (policy->registered) {
    struct osc_error ignored = OSC_ERROR_INIT;

    /* Clearing an existing registry key does not allocate. */
    osc_sandbox_cpcall(policy->sb, unregister_policy, policy, 0, &ignored);
  }
  free(policy);
}
