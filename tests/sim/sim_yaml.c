#include "tests/sim/sim_yaml.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Nesting deeper than this is a mistake in a scenario, not data. */
#define SIM_YAML_MAX_DEPTH 64

/* The parser, its file and the event being looked at live in a userdata
 * with __gc, so a Lua error (out of memory, a bad alias) raised while we
 * build tables cannot leak libyaml's heap state. */
struct yaml_box {
  yaml_parser_t parser;
  int parser_ok;
  FILE *file;
  yaml_event_t event;
  int has_event;
  const char *path;
  int positions; /* stack index of the positions table */
  int anchors;   /* stack index of the anchors table */
};

static int box_gc(lua_State *L) {
  struct yaml_box *b = luaL_checkudata(L, 1, "sim.yaml_box");
  if (b->has_event) {
    yaml_event_delete(&b->event);
    b->has_event = 0;
  }
  if (b->parser_ok) {
    yaml_parser_delete(&b->parser);
    b->parser_ok = 0;
  }
  if (b->file != NULL) {
    fclose(b->file);
    b->file = NULL;
  }
  return 0;
}

static void drop_event(struct yaml_box *b) {
  if (b->has_event) {
    yaml_event_delete(&b->event);
    b->has_event = 0;
  }
}

/* Raises "path:line:col: msg"; the box's __gc cleans up. */
static int fail_at(lua_State *L, struct yaml_box *b, const yaml_mark_t *m,
                   const char *msg) {
  return luaL_error(L, "%s:%d:%d: %s", b->path, (int)m->line + 1,
                    (int)m->column + 1, msg);
}

static void next_event(lua_State *L, struct yaml_box *b) {
  drop_event(b);
  if (!yaml_parser_parse(&b->parser, &b->event)) {
    const char *problem =
        b->parser.problem != NULL ? b->parser.problem : "parse error";
    fail_at(L, b, &b->parser.problem_mark, problem);
  }
  b->has_event = 1;
}

static int is_plain(const yaml_event_t *ev) {
  return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         (ev->data.scalar.tag == NULL ||
          strcmp((const char *)ev->data.scalar.tag, "!") != 0);
}

/* Pushes a plain scalar with its resolved type; returns 0 for null (nothing
 * pushed). */
static int push_plain(lua_State *L, const char *s, size_t len) {
  if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
      strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
    return 0;
  if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
      strcmp(s, "TRUE") == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
      strcmp(s, "FALSE") == 0) {
    lua_pushboolean(L, 0);
    return 1;
  }
  /* Numbers: only decimal digits, sign, point and exponent, so hex, inf and
   * nan (which strtod accepts) stay strings. */
  if (strspn(s, "0123456789+-.eE") == len && strpbrk(s, "0123456789")) {
    char *end = NULL;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (errno == 0 && end == s + len) {
      lua_pushinteger(L, (lua_Integer)i);
      return 1;
    }
    errno = 0;
    double d = strtod(s, &end);
    if (errno == 0 && end == s + len) {
      lua_pushnumber(L, d);
      return 1;
    }
  }
  lua_pushlstring(L, s, len);
  return 1;
}

static void record_position(lua_State *L, struct yaml_box *b, int table,
                            int key, const yaml_mark_t *m) {
  /* positions[table][key] = "line:col" */
  lua_pushvalue(L, table);
  if (lua_rawget(L, b->positions) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, table);
    lua_pushvalue(L, -2);
    lua_rawset(L, b->positions);
  }
  lua_pushvalue(L, key);
  lua_pushfstring(L, "%d:%d", (int)m->line + 1, (int)m->column + 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

static void remember_anchor(lua_State *L, struct yaml_box *b,
                            const char *anchor) {
  if (anchor == NULL)
    return;
  lua_pushstring(L, anchor);
  lua_pushvalue(L, -2);
  lua_rawset(L, b->anchors);
}

/* Pushes the node whose first event is the current one; returns 0 when the
 * node is null (nothing pushed). */
static int parse_node(lua_State *L, struct yaml_box *b, int depth) {
  yaml_event_t *ev = &b->event;
  yaml_mark_t mark = ev->start_mark;
  if (depth > SIM_YAML_MAX_DEPTH)
    return fail_at(L, b, &mark, "nesting too deep");
  luaL_checkstack(L, 8, "yaml nesting");
  switch (ev->type) {
  case YAML_SCALAR_EVENT: {
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    int pushed = 1;
    if (is_plain(ev))
      pushed = push_plain(L, s, len);
    else
      lua_pushlstring(L, s, len);
    if (pushed)
      remember_anchor(L, b, (const char *)ev->data.scalar.anchor);
    return pushed;
  }
  case YAML_ALIAS_EVENT:
    lua_pushstring(L, (const char *)ev->data.alias.anchor);
    if (lua_rawget(L, b->anchors) == LUA_TNIL)
      return fail_at(L, b, &mark, "unknown alias");
    return 1;
  case YAML_SEQUENCE_START_EVENT: {
    const char *anchor = (const char *)ev->data.sequence_start.anchor;
    lua_newtable(L);
    int t = lua_gettop(L);
    /* Stored before the children (which replace the current event and so
     * free the anchor string) so that an alias inside still resolves. */
    if (anchor != NULL) {
      lua_pushstring(L, anchor);
      lua_pushvalue(L, t);
      lua_rawset(L, b->anchors);
    }
    lua_Integer i = 0;
    for (;;) {
      next_event(L, b);
      if (b->event.type == YAML_SEQUENCE_END_EVENT)
        break;
      yaml_mark_t item_mark = b->event.start_mark;
      if (!parse_node(L, b, depth + 1))
        return fail_at(L, b, &item_mark, "null list item");
      i++;
      lua_rawseti(L, t, i);
      lua_pushinteger(L, i);
      record_position(L, b, t, lua_gettop(L), &item_mark);
      lua_pop(L, 1);
    }
    return 1;
  }
  case YAML_MAPPING_START_EVENT: {
    const char *anchor = (const char *)ev->data.mapping_start.anchor;
    lua_newtable(L);
    int t = lua_gettop(L);
    if (anchor != NULL) {
      lua_pushstring(L, anchor);
      lua_pushvalue(L, t);
      lua_rawset(L, b->anchors);
    }
    for (;;) {
      next_event(L, b);
      if (b->event.type == YAML_MAPPING_END_EVENT)
        break;
      yaml_mark_t key_mark = b->event.start_mark;
      if (b->event.type != YAML_SCALAR_EVENT)
        return fail_at(L, b, &key_mark, "mapping keys must be scalars");
      lua_pushlstring(L, (const char *)b->event.data.scalar.value,
                      b->event.data.scalar.length);
      int key = lua_gettop(L);
      if (strcmp(lua_tostring(L, key), "<<") == 0)
        return fail_at(L, b, &key_mark, "merge keys (<<) are not supported");
      lua_pushvalue(L, key);
      if (lua_rawget(L, t) != LUA_TNIL)
        return fail_at(L, b, &key_mark, "duplicate key");
      lua_pop(L, 1);
      record_position(L, b, t, key, &key_mark);
      next_event(L, b);
      if (parse_node(L, b, depth + 1))
        lua_rawset(L, t); /* t[key] = value */
      else
        lua_pop(L, 1); /* null value: the key is absent */
    }
    return 1;
  }
  default:
    return fail_at(L, b, &mark, "unexpected YAML event");
  }
}

/* Runs inside lua_pcall (see sim_yaml_lua_load) so any error becomes the
 * "nil, message" result. Stack: path. */
static int load_protected(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct yaml_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  b->path = path;
  if (luaL_newmetatable(L, "sim.yaml_box")) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_newtable(L);
  b->positions = lua_gettop(L);
  lua_newtable(L);
  b->anchors = lua_gettop(L);

  b->file = fopen(path, "rb");
  if (b->file == NULL)
    return luaL_error(L, "%s: %s", path, strerror(errno));
  if (!yaml_parser_initialize(&b->parser))
    return luaL_error(L, "%s: cannot initialise the YAML parser", path);
  b->parser_ok = 1;
  yaml_parser_set_input_file(&b->parser, b->file);

  int have_root = 0;
  for (;;) {
    next_event(L, b);
    yaml_event_type_t type = b->event.type;
    if (type == YAML_STREAM_END_EVENT)
      break;
    if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_END_EVENT)
      continue;
    if (type == YAML_DOCUMENT_START_EVENT) {
      if (have_root)
        return fail_at(L, b, &b->event.start_mark,
                       "only one YAML document per scenario");
      continue;
    }
    if (!parse_node(L, b, 0)) {
      lua_newtable(L); /* an empty document is an empty mapping */
    }
    have_root = 1;
  }
  if (!have_root)
    lua_newtable(L);
  drop_event(b);
  lua_pushvalue(L, b->positions);
  return 2;
}

int sim_yaml_lua_load(lua_State *L) {
  luaL_checkstring(L, 1);
  lua_pushcfunction(L, load_protected);
  lua_pushvalue(L, 1);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 2;
}
