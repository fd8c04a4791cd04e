/*
 * store-redis.c: the store contract (store.h) on Redis, for several replicas
 * sharing state (DESIGN §5).  Keys, under the prefix P (store.prefix, "aw"):
 *
 *	P:marker:SOURCE		hash: epoch, baselineAt (unix ms)
 *	P:versions:SOURCE	hash: name -> digest ("" when unknown)
 *	P:outbox		stream: one entry per committed event, fields
 *				id, source, json, committedAt, sinks (a, b, ...)
 *	P:dead:SINK		hash: outbox entry id -> "MS REASON"
 *	P:lease:NAME		string "OWNER TOKEN", expiring: a lease
 *	P:leasetoken:NAME	integer: the last fencing token of NAME
 *
 * Each sink is a consumer group on the outbox (consumer "watcher"); a group
 * is created when the first event is routed to the sink or the sink first
 * reads, at the stream's end then, so a new sink gets no history.
 *
 * Everything that must be atomic or would take several round trips is one
 * Lua script (EVALSHA, EVAL on NOSCRIPT).  Scripts name keys they build from
 * the prefix, so the store needs one Redis, not a cluster.  Needs Redis 6.2
 * (XTRIM MINID, exclusive XRANGE).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "redis.h"
#include "store.h"

#define RS_CONSUMER	"watcher"
#define RS_READ_MAX	10000		/* entries per read, at most */

struct redis_store {
	struct redis	*r;
	char		*prefix;
	char		*outbox;	/* P:outbox */
};

/* One operation in flight: its callback and argument. */
struct rs_op {
	union {
		store_done_cb		 done;
		store_load_cb		 load;
		store_read_cb		 read;
		store_history_cb	 history;
		store_lease_cb		 lease;
	} cb;
	void	*arg;
	size_t	 n;		/* lease: requests */
};

/* Arguments of a command: borrowed strings, and some we made and free. */
struct rs_args {
	const char	**v;
	size_t		 *len;
	int		  n;
	int		  size;
	char		**owned;
	int		  nowned;
};

/* Lua helpers shared by the scripts that look at per-sink state. */
#define RS_LUA_COMMON \
	"local function fields(f)\n" \
	"  local h = {}\n" \
	"  if not f then return nil end\n" \
	"  for j = 1, #f, 2 do h[f[j]] = f[j + 1] end\n" \
	"  return h\n" \
	"end\n" \
	"local function routed(sinks, s)\n" \
	"  return string.find(',' .. sinks .. ',', ',' .. s .. ',', 1, true)" \
	" ~= nil\n" \
	"end\n" \
	"local function idparts(id)\n" \
	"  local ms, seq = string.match(id, '^(%d+)-(%d+)$')\n" \
	"  return tonumber(ms), tonumber(seq)\n" \
	"end\n" \
	"local function idle(a, b)\n" \
	"  local am, as = idparts(a)\n" \
	"  local bm, bs = idparts(b)\n" \
	"  return am < bm or (am == bm and as <= bs)\n" \
	"end\n" \
	"local function lastids(stream)\n" \
	"  local last = {}\n" \
	"  local info = redis.pcall('XINFO', 'GROUPS', stream)\n" \
	"  if info.err then return last end\n" \
	"  for _, g in ipairs(info) do\n" \
	"    local h = fields(g)\n" \
	"    last[h['name']] = h['last-delivered-id']\n" \
	"  end\n" \
	"  return last\n" \
	"end\n" \
	"local function state(stream, prefix, last, id, s)\n" \
	"  local dead = redis.call('HGET', prefix .. ':dead:' .. s, id)\n" \
	"  if dead then return 'dead', dead end\n" \
	"  if not last[s] or not idle(id, last[s]) then\n" \
	"    return 'pending', ''\n" \
	"  end\n" \
	"  local p = redis.call('XPENDING', stream, s, id, id, 1)\n" \
	"  if #p > 0 then return 'pending', '' end\n" \
	"  return 'delivered', ''\n" \
	"end\n" \
	"local function now()\n" \
	"  local t = redis.call('TIME')\n" \
	"  return t[1] .. string.format('%03d', math.floor(t[2] / 1000))\n" \
	"end\n" \
	"local function matches(h, since, source, event)\n" \
	"  return tonumber(h['committedAt']) >= since and\n" \
	"    (source == '' or h['source'] == source) and\n" \
	"    (event == '' or h['id'] == event)\n" \
	"end\n"

/* KEYS: marker, versions.  Returns {marker fields, versions fields}. */
static const char rs_lua_load[] =
	"return {redis.call('HGETALL', KEYS[1]),"
	" redis.call('HGETALL', KEYS[2])}\n";

/*
 * KEYS: marker, versions, outbox[, lease].  ARGV: baseline, epoch, source,
 * nchanges, (name, digest)..., nevents, (id, json, sinks)...[, token].
 * Returns 1, or 0 (state lost: nothing written), or -1 (the lease, when
 * given, is gone or has another token: nothing written).  Outside a baseline, a
 * version already recorded with the same digest is not written again, so a
 * poll with nothing new writes nothing (nor reaches the AOF or replicas).
 */
static const char rs_lua_commit[] =
	RS_LUA_COMMON
	"if #KEYS == 4 then\n"
	"  local l = redis.call('GET', KEYS[4])\n"
	"  if not l or string.match(l, ' (%d+)$') ~= ARGV[#ARGV] then\n"
	"    return -1\n"
	"  end\n"
	"end\n"
	"local baseline = ARGV[1] == '1'\n"
	"if not baseline and\n"
	"    redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[2] then\n"
	"  return 0\n"
	"end\n"
	"local t = now()\n"
	"if baseline then\n"
	"  redis.call('DEL', KEYS[2])\n"
	"  redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'baselineAt', t)\n"
	"end\n"
	"local i = 5\n"
	"for k = 1, tonumber(ARGV[4]) do\n"
	"  if baseline or\n"
	"      redis.call('HGET', KEYS[2], ARGV[i]) ~= ARGV[i + 1] then\n"
	"    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])\n"
	"  end\n"
	"  i = i + 2\n"
	"end\n"
	"local n = tonumber(ARGV[i])\n"
	"i = i + 1\n"
	"local made = {}\n"
	"for k = 1, n do\n"
	"  for s in string.gmatch(ARGV[i + 2], '[^,]+') do\n"
	"    if not made[s] then\n"
	"      made[s] = true\n"
	"      redis.pcall('XGROUP', 'CREATE', KEYS[3], s, '$', 'MKSTREAM')\n"
	"    end\n"
	"  end\n"
	"  redis.call('XADD', KEYS[3], '*', 'id', ARGV[i], 'source', ARGV[3],\n"
	"    'json', ARGV[i + 1], 'committedAt', t, 'sinks', ARGV[i + 2])\n"
	"  i = i + 3\n"
	"end\n"
	"return 1\n";

/*
 * KEYS: outbox.  ARGV: sink, consumer, n.  The sink's pending entries first,
 * then new ones; entries not routed to the sink are acked and skipped.
 * Returns (key, id, source, json, committedAt) per entry.
 */
static const char rs_lua_read[] =
	RS_LUA_COMMON
	"local stream, g, c, n = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])\n"
	"redis.pcall('XGROUP', 'CREATE', stream, g, '$', 'MKSTREAM')\n"
	"local out = {}\n"
	"local function take(start)\n"
	"  local want = n - #out / 5\n"
	"  local r = redis.call('XREADGROUP', 'GROUP', g, c, 'COUNT', want,\n"
	"    'STREAMS', stream, start)\n"
	"  if not r or not r[1] then return nil end\n"
	"  local es = r[1][2]\n"
	"  for _, e in ipairs(es) do\n"
	"    local h = fields(e[2])\n"
	"    if h and h['sinks'] and routed(h['sinks'], g) then\n"
	"      for _, v in ipairs({e[1], h['id'], h['source'], h['json'],\n"
	"          h['committedAt']}) do table.insert(out, v) end\n"
	"    else\n"
	"      redis.call('XACK', stream, g, e[1])\n"
	"    end\n"
	"  end\n"
	"  if #es < want then return nil end\n"
	"  return es[#es][1]\n"
	"end\n"
	"local from = '0'\n"
	"while from and #out / 5 < n do from = take(from) end\n"
	"while #out / 5 < n and take('>') do end\n"
	"return out\n";

/* KEYS: outbox, dead.  ARGV: sink, key, reason. */
static const char rs_lua_dead[] =
	RS_LUA_COMMON
	"redis.call('HSET', KEYS[2], ARGV[2], now() .. ' ' .. ARGV[3])\n"
	"redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
	"return 1\n";

/*
 * KEYS: outbox.  ARGV: prefix, since ms, source, event ('' for all).
 * Returns per entry: key, id, source, json, committedAt, nsinks, then
 * (sink, state, reason) per sink.
 */
static const char rs_lua_history[] =
	RS_LUA_COMMON
	"local stream, prefix, since = KEYS[1], ARGV[1], tonumber(ARGV[2])\n"
	"local last = lastids(stream)\n"
	"local out = {}\n"
	"local es = redis.call('XRANGE', stream, since == 0 and '-' or since,"
	" '+')\n"
	"for _, e in ipairs(es) do\n"
	"  local h = fields(e[2])\n"
	"  if matches(h, since, ARGV[3], ARGV[4]) then\n"
	"    local sinks = {}\n"
	"    for s in string.gmatch(h['sinks'], '[^,]+') do\n"
	"      table.insert(sinks, s)\n"
	"    end\n"
	"    for _, v in ipairs({e[1], h['id'], h['source'], h['json'],\n"
	"        h['committedAt'], tostring(#sinks)}) do\n"
	"      table.insert(out, v)\n"
	"    end\n"
	"    for _, s in ipairs(sinks) do\n"
	"      local st, why = state(stream, prefix, last, e[1], s)\n"
	"      table.insert(out, s)\n"
	"      table.insert(out, st)\n"
	"      table.insert(out, why)\n"
	"    end\n"
	"  end\n"
	"end\n"
	"return out\n";

/*
 * KEYS: outbox.  ARGV: sink, since ms, source, event.  Appends a copy of
 * each matching event (its first entry) routed to the sink only.
 */
static const char rs_lua_replay[] =
	RS_LUA_COMMON
	"local stream, sink, since = KEYS[1], ARGV[1], tonumber(ARGV[2])\n"
	"local es = redis.call('XRANGE', stream, since == 0 and '-' or since,"
	" '+')\n"
	"local seen, copies = {}, {}\n"
	"for _, e in ipairs(es) do\n"
	"  local h = fields(e[2])\n"
	"  if matches(h, since, ARGV[3], ARGV[4]) and not seen[h['id']] then\n"
	"    seen[h['id']] = true\n"
	"    table.insert(copies, h)\n"
	"  end\n"
	"end\n"
	"redis.pcall('XGROUP', 'CREATE', stream, sink, '$', 'MKSTREAM')\n"
	"for _, h in ipairs(copies) do\n"
	"  redis.call('XADD', stream, '*', 'id', h['id'],\n"
	"    'source', h['source'], 'json', h['json'],\n"
	"    'committedAt', h['committedAt'], 'sinks', sink)\n"
	"end\n"
	"return #copies\n";

/*
 * KEYS: outbox.  ARGV: prefix, before ms.  Drops the oldest entries while
 * each was committed before the cut-off and every sink it is routed to is
 * done with it (delivered or dead); stops at the first one that is not.
 */
static const char rs_lua_trim[] =
	RS_LUA_COMMON
	"local stream, prefix, before = KEYS[1], ARGV[1], tonumber(ARGV[2])\n"
	"local last = lastids(stream)\n"
	"local gone, keep, start = {}, nil, '-'\n"
	"while not keep do\n"
	"  local es = redis.call('XRANGE', stream, start, '+', 'COUNT', 100)\n"
	"  if #es == 0 then break end\n"
	"  for _, e in ipairs(es) do\n"
	"    local h = fields(e[2])\n"
	"    local done = tonumber(h['committedAt']) < before\n"
	"    if done then\n"
	"      for s in string.gmatch(h['sinks'], '[^,]+') do\n"
	"        if state(stream, prefix, last, e[1], s) == 'pending' then\n"
	"          done = false\n"
	"        end\n"
	"      end\n"
	"    end\n"
	"    if not done then keep = e[1] break end\n"
	"    table.insert(gone, {e[1], h['sinks']})\n"
	"  end\n"
	"  start = '(' .. es[#es][1]\n"
	"end\n"
	"if #gone == 0 then return 0 end\n"
	"if not keep then\n"
	"  local ms, seq = idparts(gone[#gone][1])\n"
	"  keep = string.format('%d-%d', ms, seq + 1)\n"
	"end\n"
	"redis.call('XTRIM', stream, 'MINID', keep)\n"
	"for _, g in ipairs(gone) do\n"
	"  for s in string.gmatch(g[2], '[^,]+') do\n"
	"    redis.call('HDEL', prefix .. ':dead:' .. s, g[1])\n"
	"  end\n"
	"end\n"
	"return #gone\n";

/*
 * ARGV: prefix, owner, then (name, ttl ms, dead owner or '') per lease.
 * Renews each of the owner's leases, or takes a free one (or the dead
 * owner's) with the next token of P:leasetoken:NAME, which starts at the
 * time in microseconds so that tokens keep growing even after Redis lost
 * its data (in ms, a wipe and a take in the same ms gave one token twice).
 * Tokens stay strings in Lua: 16 digits print as 1.7e+15 as numbers.
 * Returns one string
 * of tokens, one per lease and each followed by ',' (0: refused), then the
 * holder of each refused lease: two array elements per call, not three per
 * lease, keep a batch of renewals cheap to read.
 */
static const char rs_lua_lease[] =
	RS_LUA_COMMON
	"local prefix, owner, tokens, out = ARGV[1], ARGV[2], {}, {''}\n"
	"for i = 3, #ARGV - 2, 3 do\n"
	"  local key = prefix .. ':lease:' .. ARGV[i]\n"
	"  local ttl, dead = ARGV[i + 1], ARGV[i + 2]\n"
	"  local l = redis.call('GET', key)\n"
	"  local granted, token, holder = 0, 0, ''\n"
	"  if l then\n"
	"    local o, t = string.match(l, '^(.*) (%d+)$')\n"
	"    if o == owner then\n"
	"      redis.call('PEXPIRE', key, ttl)\n"
	"      granted, token = 1, t\n"
	"    elseif dead == '' or o ~= dead then\n"
	"      holder = o or l\n"
	"    end\n"
	"  end\n"
	"  if granted == 0 and holder == '' then\n"
	"    local tk = prefix .. ':leasetoken:' .. ARGV[i]\n"
	"    token = redis.call('INCR', tk)\n"
	"    if token == 1 then\n"
	"      local t = redis.call('TIME')\n"
	"      token = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
	"      redis.call('SET', tk, string.format('%d', token))\n"
	"    end\n"
	"    token = string.format('%d', token)\n"
	"    redis.call('SET', key, owner .. ' ' .. token, 'PX', ttl)\n"
	"    granted = 1\n"
	"  end\n"
	"  if granted == 1 then\n"
	"    table.insert(tokens, token)\n"
	"  else\n"
	"    table.insert(tokens, 0)\n"
	"    table.insert(out, holder)\n"
	"  end\n"
	"end\n"
	"if #tokens > 0 then out[1] = table.concat(tokens, ',') .. ',' end\n"
	"return out\n";

/* KEYS: lease.  ARGV: owner.  Deletes the lease if owner holds it. */
static const char rs_lua_release[] =
	"local l = redis.call('GET', KEYS[1])\n"
	"if l and string.match(l, '^(.*) %d+$') == ARGV[1] then\n"
	"  return redis.call('DEL', KEYS[1])\n"
	"end\n"
	"return 0\n";

static void
rs_args_add(struct rs_args *a, const char *s, size_t len)
{
	if (a->n == a->size) {
		a->size = a->size == 0 ? 16 : a->size * 2;
		a->v = xreallocarray(a->v, a->size, sizeof *a->v);
		a->len = xreallocarray(a->len, a->size, sizeof *a->len);
	}
	a->v[a->n] = s;
	a->len[a->n++] = len;
}

static void
rs_args_adds(struct rs_args *a, const char *s)
{
	rs_args_add(a, s, strlen(s));
}

/* Add s, which the arguments now own. */
static void
rs_args_own(struct rs_args *a, char *s)
{
	a->owned = xreallocarray(a->owned, a->nowned + 1, sizeof *a->owned);
	a->owned[a->nowned++] = s;
	rs_args_adds(a, s);
}

static void printflike(2, 3)
rs_args_addf(struct rs_args *a, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	rs_args_own(a, s);
}

static void
rs_args_free(struct rs_args *a)
{
	int	 i;

	for (i = 0; i < a->nowned; i++)
		free(a->owned[i]);
	free(a->owned);
	free(a->v);
	free(a->len);
	memset(a, 0, sizeof *a);
}

static struct rs_op *
rs_op_new(void *arg)
{
	struct rs_op	*op = xcalloc(1, sizeof *op);

	op->arg = arg;
	return (op);
}

static void
rs_eval(struct store *st, const char *script, int nkeys, struct rs_args *a,
    redis_cb cb, struct rs_op *op)
{
	struct redis_store	*rs = st->data;

	redis_eval(rs->r, script, nkeys, a->n, a->v, a->len, cb, op);
	rs_args_free(a);
}

/*
 * The reply's problem, or NULL when it is of the wanted type.  The cause is
 * valid until the next call (it lives in buf).
 */
static const char *
rs_check(redisReply *reply, const char *cause, int type, char *buf,
    size_t len)
{
	if (reply == NULL)
		return (cause);
	if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(buf, len, "redis: %.*s", (int)reply->len, reply->str);
		return (buf);
	}
	if (reply->type != type) {
		snprintf(buf, len, "redis: unexpected reply type %d",
		    reply->type);
		return (buf);
	}
	return (NULL);
}

/* Is every element of an array reply a string? */
static int
rs_all_strings(const redisReply *a)
{
	size_t	 i;

	for (i = 0; i < a->elements; i++) {
		if (a->element[i]->type != REDIS_REPLY_STRING)
			return (0);
	}
	return (1);
}

static int
rs_parse_ms(const redisReply *s, int64_t *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s->str, &end, 10);
	if (errno != 0 || end == s->str || *end != '\0')
		return (-1);
	*out = v;
	return (0);
}

/* Sink names end up in a comma list and in key names. */
static int
rs_bad_sink(const char *sink)
{
	return (sink == NULL || *sink == '\0' || strchr(sink, ',') != NULL);
}

/* A done callback for scripts and commands whose answer is not needed. */
static void
rs_done_reply(redisReply *reply, const char *cause, void *arg)
{
	struct rs_op	*op = arg;
	char		 buf[256];
	const char	*why = cause;

	if (reply != NULL) {
		why = NULL;
		if (reply->type == REDIS_REPLY_ERROR) {
			snprintf(buf, sizeof buf, "redis: %.*s",
			    (int)reply->len, reply->str);
			why = buf;
		}
	}
	op->cb.done(why == NULL ? STORE_OK : STORE_ERROR, why, op->arg);
	free(op);
}

/* Fail an operation from the loop, never before its call returns. */
static void
rs_fail_later(struct store *st, const char *cause, redis_cb cb,
    struct rs_op *op)
{
	struct redis_store	*rs = st->data;

	redis_defer_error(rs->r, cause, cb, op);
}

static void
rs_load_reply(redisReply *reply, const char *cause, void *arg)
{
	struct rs_op		*op = arg;
	struct store_state	 s;
	struct version		*v;
	redisReply		*m, *vs;
	char			 buf[256];
	const char		*why;
	size_t			 i;

	memset(&s, 0, sizeof s);
	why = rs_check(reply, cause, REDIS_REPLY_ARRAY, buf, sizeof buf);
	if (why == NULL && (reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_ARRAY ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY ||
	    !rs_all_strings(reply->element[0]) ||
	    !rs_all_strings(reply->element[1]) ||
	    reply->element[0]->elements % 2 != 0 ||
	    reply->element[1]->elements % 2 != 0))
		why = "redis: malformed state";
	m = why == NULL ? reply->element[0] : NULL;
	for (i = 0; m != NULL && i < m->elements && why == NULL; i += 2) {
		if (strcmp(m->element[i]->str, "epoch") == 0 &&
		    s.epoch == NULL) {
			s.present = 1;
			s.epoch = xstrdup(m->element[i + 1]->str);
		} else if (strcmp(m->element[i]->str, "baselineAt") == 0 &&
		    rs_parse_ms(m->element[i + 1], &s.baseline_at) != 0)
			why = "redis: malformed state marker";
	}
	if (why != NULL) {
		op->cb.load(STORE_ERROR, NULL, why, op->arg);
		store_state_clear(&s);
		free(op);
		return;
	}
	vs = reply->element[1];
	for (i = 0; i < vs->elements; i += 2) {
		v = versions_add(&s.versions, vs->element[i]->str);
		if (vs->element[i + 1]->len > 0)
			v->digest = xstrdup(vs->element[i + 1]->str);
	}
	op->cb.load(STORE_OK, &s, NULL, op->arg);
	store_state_clear(&s);
	free(op);
}

static void
rs_load(struct store *st, const char *source, store_load_cb cb, void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	struct rs_args		 a = { 0 };

	op->cb.load = cb;
	rs_args_addf(&a, "%s:marker:%s", rs->prefix, source);
	rs_args_addf(&a, "%s:versions:%s", rs->prefix, source);
	rs_eval(st, rs_lua_load, 2, &a, rs_load_reply, op);
}

static void
rs_commit_reply(redisReply *reply, const char *cause, void *arg)
{
	struct rs_op	*op = arg;
	char		 buf[256];
	const char	*why;

	why = rs_check(reply, cause, REDIS_REPLY_INTEGER, buf, sizeof buf);
	if (why != NULL)
		op->cb.done(STORE_ERROR, why, op->arg);
	else if (reply->integer == 0)
		op->cb.done(STORE_STATE_LOST, "state marker lost", op->arg);
	else if (reply->integer == -1)
		op->cb.done(STORE_LEASE_LOST, "lease lost: another replica "
		    "holds it now, or it expired; nothing written", op->arg);
	else
		op->cb.done(STORE_OK, NULL, op->arg);
	free(op);
}

static void
rs_commit(struct store *st, const struct store_commit *c, store_done_cb cb,
    void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	struct rs_args		 a = { 0 };
	struct buf		 sinks = { 0 };
	size_t			 i, j;

	op->cb.done = cb;
	for (i = 0; i < c->nevents; i++) {
		for (j = 0; j < c->events[i].nsinks; j++) {
			if (rs_bad_sink(c->events[i].sinks[j])) {
				rs_fail_later(st, "bad sink name",
				    rs_done_reply, op);
				return;
			}
		}
	}
	rs_args_addf(&a, "%s:marker:%s", rs->prefix, c->source);
	rs_args_addf(&a, "%s:versions:%s", rs->prefix, c->source);
	rs_args_adds(&a, rs->outbox);
	if (c->lease != NULL)
		rs_args_addf(&a, "%s:lease:%s", rs->prefix, c->lease);
	rs_args_adds(&a, c->baseline ? "1" : "0");
	rs_args_adds(&a, c->epoch);
	rs_args_adds(&a, c->source);
	rs_args_addf(&a, "%zu", c->nchanges);
	for (i = 0; i < c->nchanges; i++) {
		rs_args_adds(&a, c->changes[i].name);
		rs_args_adds(&a, c->changes[i].digest != NULL ?
		    c->changes[i].digest : "");
	}
	rs_args_addf(&a, "%zu", c->nevents);
	for (i = 0; i < c->nevents; i++) {
		rs_args_adds(&a, c->events[i].id);
		rs_args_adds(&a, c->events[i].json);
		for (j = 0; j < c->events[i].nsinks; j++) {
			if (j > 0)
				buf_adds(&sinks, ",");
			buf_adds(&sinks, c->events[i].sinks[j]);
		}
		rs_args_own(&a, buf_take(&sinks));
	}
	if (c->lease != NULL)
		rs_args_addf(&a, "%llu", (unsigned long long)c->token);
	rs_eval(st, rs_lua_commit, c->lease != NULL ? 4 : 3, &a,
	    rs_commit_reply, op);
}

static void
rs_read_reply(redisReply *reply, const char *cause, void *arg)
{
	struct rs_op		*op = arg;
	struct outbox_entry	*e = NULL;
	char			 buf[256];
	const char		*why;
	size_t			 i, n = 0;

	why = rs_check(reply, cause, REDIS_REPLY_ARRAY, buf, sizeof buf);
	if (why == NULL && (reply->elements % 5 != 0 ||
	    !rs_all_strings(reply)))
		why = "redis: malformed outbox entry";
	if (why == NULL) {
		n = reply->elements / 5;
		e = xcalloc(n + 1, sizeof *e);
		for (i = 0; i < n && why == NULL; i++) {
			e[i].key = xstrdup(reply->element[5 * i]->str);
			e[i].id = xstrdup(reply->element[5 * i + 1]->str);
			e[i].source = xstrdup(reply->element[5 * i + 2]->str);
			e[i].json = xstrdup(reply->element[5 * i + 3]->str);
			if (rs_parse_ms(reply->element[5 * i + 4],
			    &e[i].committed_at) != 0)
				why = "redis: malformed outbox entry";
		}
	}
	if (why != NULL)
		op->cb.read(STORE_ERROR, NULL, 0, why, op->arg);
	else
		op->cb.read(STORE_OK, e, n, NULL, op->arg);
	outbox_entries_free(e, n);
	free(op);
}

static void
rs_read(struct store *st, const char *sink, size_t n, store_read_cb cb,
    void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	struct rs_args		 a = { 0 };

	op->cb.read = cb;
	if (rs_bad_sink(sink)) {
		rs_fail_later(st, "bad sink name", rs_read_reply, op);
		return;
	}
	rs_args_adds(&a, rs->outbox);
	rs_args_adds(&a, sink);
	rs_args_adds(&a, RS_CONSUMER);
	rs_args_addf(&a, "%zu", n > RS_READ_MAX ? RS_READ_MAX : n);
	rs_eval(st, rs_lua_read, 1, &a, rs_read_reply, op);
}

static void
rs_ack(struct store *st, const char *sink, const char *key, store_done_cb cb,
    void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	const char		*argv[] = { "XACK", rs->outbox, sink, key };

	op->cb.done = cb;
	if (rs_bad_sink(sink)) {
		rs_fail_later(st, "bad sink name", rs_done_reply, op);
		return;
	}
	redis_command(rs->r, nitems(argv), argv, NULL, rs_done_reply, op);
}

/* One XACK of every key. */
static void
rs_ack_many(struct store *st, const char *sink, const char *const *keys,
    size_t n, store_done_cb cb, void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	const char		**argv;
	size_t			 i;

	op->cb.done = cb;
	if (rs_bad_sink(sink)) {
		rs_fail_later(st, "bad sink name", rs_done_reply, op);
		return;
	}
	argv = xcalloc(n + 3, sizeof *argv);
	argv[0] = "XACK";
	argv[1] = rs->outbox;
	argv[2] = sink;
	for (i = 0; i < n; i++)
		argv[3 + i] = keys[i];
	redis_command(rs->r, (int)(n + 3), argv, NULL, rs_done_reply, op);
	free(argv);
}

static void
rs_dead(struct store *st, const char *sink, const char *key,
    const char *reason, store_done_cb cb, void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	struct rs_args		 a = { 0 };

	op->cb.done = cb;
	if (rs_bad_sink(sink)) {
		rs_fail_later(st, "bad sink name", rs_done_reply, op);
		return;
	}
	rs_args_adds(&a, rs->outbox);
	rs_args_addf(&a, "%s:dead:%s", rs->prefix, sink);
	rs_args_adds(&a, sink);
	rs_args_adds(&a, key);
	rs_args_adds(&a, reason != NULL ? reason : "");
	rs_eval(st, rs_lua_dead, 2, &a, rs_done_reply, op);
}

static int
rs_delivery_state(const char *s, enum delivery_state *out)
{
	if (strcmp(s, "pending") == 0)
		*out = DELIVERY_PENDING;
	else if (strcmp(s, "delivered") == 0)
		*out = DELIVERY_DELIVERED;
	else if (strcmp(s, "dead") == 0)
		*out = DELIVERY_DEAD;
	else
		return (-1);
	return (0);
}

/* Parse the history script's flat answer; -1 if it is not one. */
static int
rs_history_parse(redisReply *reply, struct history_entry **out, size_t *nout)
{
	struct history_entry	*h = NULL, *e;
	struct history_sink	*hs;
	redisReply		**el = reply->element;
	size_t			 i = 0, j, n = 0, size = 0;
	int64_t			 nsinks;
	const char		*why;

	*out = NULL;
	*nout = 0;
	while (i < reply->elements) {
		if (reply->elements - i < 6)
			goto bad;
		if (n == size) {
			size = size == 0 ? 16 : size * 2;
			h = xreallocarray(h, size, sizeof *h);
		}
		e = &h[n++];
		memset(e, 0, sizeof *e);
		e->e.key = xstrdup(el[i]->str);
		e->e.id = xstrdup(el[i + 1]->str);
		e->e.source = xstrdup(el[i + 2]->str);
		e->e.json = xstrdup(el[i + 3]->str);
		if (rs_parse_ms(el[i + 4], &e->e.committed_at) != 0 ||
		    rs_parse_ms(el[i + 5], &nsinks) != 0 || nsinks < 0 ||
		    (uint64_t)nsinks > (reply->elements - i - 6) / 3)
			goto bad;
		i += 6;
		e->sinks = xcalloc(nsinks + 1, sizeof *e->sinks);
		for (j = 0; j < (size_t)nsinks; j++, i += 3) {
			hs = &e->sinks[e->nsinks++];
			hs->sink = xstrdup(el[i]->str);
			if (rs_delivery_state(el[i + 1]->str, &hs->state) != 0)
				goto bad;
			if (hs->state == DELIVERY_DEAD) {
				why = strchr(el[i + 2]->str, ' ');
				hs->reason = xstrdup(why != NULL ? why + 1 :
				    "");
			}
		}
	}
	*out = h;
	*nout = n;
	return (0);

bad:
	history_entries_free(h, n);
	return (-1);
}

static void
rs_history_reply(redisReply *reply, const char *cause, void *arg)
{
	struct rs_op		*op = arg;
	struct history_entry	*h = NULL;
	size_t			 n = 0;
	char			 buf[256];
	const char		*why;

	why = rs_check(reply, cause, REDIS_REPLY_ARRAY, buf, sizeof buf);
	if (why == NULL && (!rs_all_strings(reply) ||
	    rs_history_parse(reply, &h, &n) != 0))
		why = "redis: malformed history";
	if (why != NULL)
		op->cb.history(STORE_ERROR, NULL, 0, why, op->arg);
	else
		op->cb.history(STORE_OK, h, n, NULL, op->arg);
	history_entries_free(h, n);
	free(op);
}

static void
rs_query_args(struct rs_args *a, const struct history_query *q)
{
	rs_args_addf(a, "%lld", (long long)(q->since_ms > 0 ? q->since_ms :
	    0));
	rs_args_adds(a, q->source != NULL ? q->source : "");
	rs_args_adds(a, q->event_id != NULL ? q->event_id : "");
}

static void
rs_history(struct store *st, const struct history_query *q,
    store_history_cb cb, void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	struct rs_args		 a = { 0 };

	op->cb.history = cb;
	rs_args_adds(&a, rs->outbox);
	rs_args_adds(&a, rs->prefix);
	rs_query_args(&a, q);
	rs_eval(st, rs_lua_history, 1, &a, rs_history_reply, op);
}

static void
rs_replay(struct store *st, const char *sink, const struct history_query *q,
    store_done_cb cb, void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	struct rs_args		 a = { 0 };

	op->cb.done = cb;
	if (rs_bad_sink(sink)) {
		rs_fail_later(st, "bad sink name", rs_done_reply, op);
		return;
	}
	rs_args_adds(&a, rs->outbox);
	rs_args_adds(&a, sink);
	rs_query_args(&a, q);
	rs_eval(st, rs_lua_replay, 1, &a, rs_done_reply, op);
}

static void
rs_trim(struct store *st, int64_t before_ms, store_done_cb cb, void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	struct rs_args		 a = { 0 };

	op->cb.done = cb;
	rs_args_adds(&a, rs->outbox);
	rs_args_adds(&a, rs->prefix);
	rs_args_addf(&a, "%lld", (long long)before_ms);
	rs_eval(st, rs_lua_trim, 1, &a, rs_done_reply, op);
}

static void
rs_lease_reply(redisReply *reply, const char *cause, void *arg)
{
	struct rs_op			*op = arg;
	struct store_lease_answer	*ans = NULL;
	char				 buf[256], *end;
	const char			*why, *p;
	size_t				 i, n = op->n, refused = 0;

	why = rs_check(reply, cause, REDIS_REPLY_ARRAY, buf, sizeof buf);
	if (why == NULL && (reply->elements == 0 || !rs_all_strings(reply)))
		why = "redis: malformed lease answer";
	if (why == NULL) {
		ans = xcalloc(n + 1, sizeof *ans);
		p = reply->element[0]->str;
	}
	for (i = 0; why == NULL && i < n; i++) {
		errno = 0;
		ans[i].token = strtoull(p, &end, 10);
		if (errno != 0 || end == p || *end != ',') {
			why = "redis: malformed lease answer";
			break;
		}
		p = end + 1;
		ans[i].granted = ans[i].token != 0;
		if (!ans[i].granted) {
			if (++refused >= reply->elements) {
				why = "redis: malformed lease answer";
				break;
			}
			ans[i].holder = reply->element[refused]->str;
		}
	}
	if (why == NULL && (*p != '\0' || refused + 1 != reply->elements))
		why = "redis: malformed lease answer";
	if (why != NULL)
		op->cb.lease(STORE_ERROR, NULL, 0, why, op->arg);
	else
		op->cb.lease(STORE_OK, ans, n, NULL, op->arg);
	free(ans);
	free(op);
}

static void
rs_lease(struct store *st, const char *owner,
    const struct store_lease_req *req, size_t n, store_lease_cb cb,
    void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	struct rs_args		 a = { 0 };
	size_t			 i;

	op->cb.lease = cb;
	op->n = n;
	if (owner == NULL || *owner == '\0' || strchr(owner, ' ') != NULL) {
		rs_fail_later(st, "lease: bad owner", rs_lease_reply, op);
		return;
	}
	rs_args_adds(&a, rs->prefix);
	rs_args_adds(&a, owner);
	for (i = 0; i < n; i++) {
		if (req[i].ttl_ms <= 0 || req[i].name == NULL) {
			rs_args_free(&a);
			rs_fail_later(st, "lease: no name or a bad ttl",
			    rs_lease_reply, op);
			return;
		}
		rs_args_adds(&a, req[i].name);
		/* Leases share a few TTLs: format each once. */
		if (i == 0 || req[i].ttl_ms != req[i - 1].ttl_ms)
			rs_args_addf(&a, "%lld", (long long)req[i].ttl_ms);
		else
			rs_args_adds(&a, a.v[a.n - 3]);
		rs_args_adds(&a, req[i].dead != NULL ? req[i].dead : "");
	}
	rs_eval(st, rs_lua_lease, 0, &a, rs_lease_reply, op);
}

static void
rs_release(struct store *st, const char *name, const char *owner,
    store_done_cb cb, void *arg)
{
	struct redis_store	*rs = st->data;
	struct rs_op		*op = rs_op_new(arg);
	struct rs_args		 a = { 0 };

	op->cb.done = cb;
	rs_args_addf(&a, "%s:lease:%s", rs->prefix, name);
	rs_args_adds(&a, owner);
	rs_eval(st, rs_lua_release, 1, &a, rs_done_reply, op);
}

static int
rs_open(struct store *st, char **cause)
{
	const struct store_conf	*conf = st->conf;
	struct redis_store	*rs;
	const char		*url, *prefix;

	if (conf->password != NULL && st->password == NULL)
		return (fail(cause, "store.password names secret %s, but it "
		    "was not resolved: open with store_open_with_password()",
		    conf->password));
	url = conf->url != NULL ? conf->url : "redis://127.0.0.1:6379/0";
	prefix = conf->prefix != NULL && *conf->prefix != '\0' ?
	    conf->prefix : "aw";
	rs = xcalloc(1, sizeof *rs);
	rs->r = redis_open(st->base, url, st->password, cause);
	if (rs->r == NULL) {
		free(rs);
		return (-1);
	}
	rs->prefix = xstrdup(prefix);
	xasprintf(&rs->outbox, "%s:outbox", prefix);
	st->data = rs;
	return (0);
}

static void
rs_close(struct store *st)
{
	struct redis_store	*rs = st->data;

	if (rs == NULL)
		return;
	redis_close(rs->r);
	free(rs->outbox);
	free(rs->prefix);
	free(rs);
	st->data = NULL;
}

const struct store_entry store_redis_entry = {
	.name = "redis",
	.open = rs_open,
	.load = rs_load,
	.commit = rs_commit,
	.read = rs_read,
	.ack = rs_ack,
	.ack_many = rs_ack_many,
	.dead = rs_dead,
	.history = rs_history,
	.replay = rs_replay,
	.trim = rs_trim,
	.close = rs_close,
	.lease = rs_lease,
	.release = rs_release,
	.shared = 1,
};
