#include "core/osc_state.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/osc_buf.h"
#include "core/osc_json.h"
#include "core/osc_time.h"

#define STATE_MAX (256u * 1024u * 1024u)

struct load_call {
  struct osc_state *state;
  const char *path;
  struct osc_error *err;
  int rc;
};

static int bad(struct load_call *call, const char *what) {
  return osc_error_set(call->err, OSC_E_RUNTIME,
                       "state file %s is corrupt: %s (fix or move it away; "
                       "octoscale never resets state silently)",
                       call->path, what);
}

static const char *dup(struct osc_state *s, const char *v) {
  return v ? osc_arena_strdup(&s->arena, v) : NULL;
}

static int read_time(lua_State *L, int idx, int64_t *out) {
  if (lua_type(L, idx) != LUA_TSTRING)
    return -1;
  return osc_time_parse_rfc3339(lua_tostring(L, idx), out, NULL) < 0 ? -1 : 0;
}

static int read_set(lua_State *L, int idx, struct load_call *call,
                    struct osc_state_scale_set *set) {
  struct osc_state *s = call->state;
  size_t n = 0;
  size_t k = 0;

  if (lua_type(L, idx) != LUA_TTABLE)
    return bad(call, "a scale set entry is not an object");
  lua_getfield(L, idx, "orphans");
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      n++;
      lua_pop(L, 1);
    }
    set->orphans = osc_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*set->orphans));
    if (set->orphans == NULL)
      return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING ||
          read_time(L, -1, &set->orphans[k].since) < 0) {
        lua_pop(L, 3);
        return bad(call, "an orphans entry is not \"id\": \"RFC 3339 time\"");
      }
      set->orphans[k].target_id = dup(s, lua_tostring(L, -2));
      k++;
      lua_pop(L, 1);
    }
    set->n_orphans = k;
  }
  lua_pop(L, 1);

  if (osc_json_push_path(L, idx, "last_success") == LUA_TTABLE) {
    int ls = lua_gettop(L);

    lua_getfield(L, ls, "at");
    if (read_time(L, -1, &set->last_success_at) < 0) {
      lua_pop(L, 2);
      return bad(call, "last_success.at is not an RFC 3339 time");
    }
    lua_pop(L, 1);
    set->have_last_success = true;
    lua_getfield(L, ls, "targets");
    if (lua_type(L, -1) == LUA_TTABLE) {
      size_t i;

      n = lua_rawlen(L, -1);
      set->last_targets =
          osc_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*set->last_targets));
      if (set->last_targets == NULL) {
        lua_pop(L, 2);
        return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
      }
      for (i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        set->last_targets[i - 1].id = dup(s, osc_json_string(L, -1, "id"));
        set->last_targets[i - 1].name = dup(s, osc_json_string(L, -1, "name"));
        lua_pop(L, 1);
        if (set->last_targets[i - 1].id == NULL) {
          lua_pop(L, 2);
          return bad(call, "a last_success target has no id");
        }
      }
      set->n_last_targets = n;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return OSC_OK;
}

static int read_runs(lua_State *L, struct load_call *call) {
  struct osc_state *s = call->state;
  size_t n;
  size_t i;

  if (osc_json_push_path(L, 1, "runs") != LUA_TTABLE) {
    lua_pop(L, 1);
    return OSC_OK;
  }
  n = lua_rawlen(L, -1);
  s->runs = osc_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*s->runs));
  if (s->runs == NULL)
    return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
  for (i = 1; i <= n; i++) {
    struct osc_state_run *r = &s->runs[s->n_runs];
    int item;

    lua_rawgeti(L, -1, (lua_Integer)i);
    item = lua_gettop(L);
    lua_getfield(L, item, "at");
    if (read_time(L, -1, &r->at) == 0) {
      r->command = dup(s, osc_json_string(L, item, "command"));
      r->scale_set = dup(s, osc_json_string(L, item, "scale_set"));
      r->status = dup(s, osc_json_string(L, item, "status"));
      osc_json_path_int(L, item, "deleted", &r->deleted);
      osc_json_path_int(L, item, "disabled", &r->disabled);
      s->n_runs++;
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return OSC_OK;
}

static int do_load(lua_State *L) {
  struct load_call *call = lua_touserdata(L, 2);
  struct osc_state *s = call->state;
  int64_t version = 0;
  size_t n = 0;
  size_t k = 0;
  int rc;

  lua_settop(L, 1);
  if (lua_type(L, 1) != LUA_TTABLE ||
      !osc_json_path_int(L, 1, "format_version", &version)) {
    call->rc = bad(call, "no format_version");
    return 0;
  }
  if (version != OSC_STATE_VERSION) {
    call->rc = osc_error_set(call->err, OSC_E_RUNTIME,
                             "state file %s has format_version %lld; this "
                             "octoscale reads %d",
                             call->path, (long long)version,
                             OSC_STATE_VERSION);
    return 0;
  }
  lua_getfield(L, 1, "updated_at");
  read_time(L, -1, &s->updated_at);
  lua_pop(L, 1);
  lua_getfield(L, 1, "scale_sets");
  if (lua_type(L, -1) != LUA_TTABLE) {
    call->rc = lua_isnil(L, -1) ? OSC_OK : bad(call, "scale_sets is not an object");
    return 0;
  }
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    n++;
    lua_pop(L, 1);
  }
  s->sets = osc_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*s->sets));
  if (s->sets == NULL) {
    call->rc = osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
    return 0;
  }
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      call->rc = bad(call, "a scale set key is not a string");
      return 0;
    }
    s->sets[k].name = dup(s, lua_tostring(L, -2));
    rc = read_set(L, lua_gettop(L), call, &s->sets[k]);
    if (rc < 0) {
      call->rc = rc;
      return 0;
    }
    k++;
    lua_pop(L, 1);
  }
  s->n_sets = k;
  lua_pop(L, 1);
  call->rc = read_runs(L, call);
  return 0;
}

int osc_state_load(const char *path, struct osc_state **out,
                   struct osc_error *err) {
  struct osc_state *state = NULL;
  struct load_call call;
  struct osc_buf buf;
  lua_State *L = NULL;
  struct stat st;
  int rc;

  *out = NULL;
  osc_buf_init(&buf, STATE_MAX);
  state = calloc(1, sizeof(*state));
  if (state == NULL) {
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  if (stat(path, &st) != 0 && errno == ENOENT) {
    rc = OSC_OK; /* first run: empty state */
    goto ok;
  }
  rc = osc_buf_read_file(&buf, path, err);
  if (rc < 0) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot read state file: %s",
                       err->msg);
    goto done;
  }
  rc = osc_json_state_new(&L, err);
  if (rc < 0)
    goto done;
  rc = osc_json_decode(L, buf.data, buf.len, path, err);
  if (rc < 0) {
    rc = osc_error_set(err, OSC_E_RUNTIME,
                       "state file %s is corrupt: %s (fix or move it away; "
                       "octoscale never resets state silently)",
                       path, err->msg);
    goto done;
  }
  call.state = state;
  call.path = path;
  call.err = err;
  call.rc = OSC_OK;
  lua_pushcfunction(L, do_load);
  lua_insert(L, -2);
  lua_pushlightuserdata(L, &call);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    rc = osc_error_set(err, OSC_E_NOMEM, "reading state file %s: %s", path,
                       lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
    goto done;
  }
  rc = call.rc;
  if (rc < 0)
    goto done;
ok:
  *out = state;
  state = NULL;
done:
  if (L != NULL)
    lua_close(L);
  osc_buf_free(&buf);
  osc_state_free(state);
  return rc;
}

void osc_state_free(struct osc_state *state) {
  if (state == NULL)
    return;
  osc_arena_free(&state->arena);
  free(state);
}

const struct osc_state_scale_set *osc_state_find(const struct osc_state *state,
                                                 const char *name) {
  size_t i;

  if (state == NULL || name == NULL)
    return NULL;
  for (i = 0; i < state->n_sets; i++) {
    if (strcasecmp(state->sets[i].name, name) == 0)
      return &state->sets[i];
  }
  return NULL;
}
