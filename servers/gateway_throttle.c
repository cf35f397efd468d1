/* gateway_throttle.c -- what keeps password guessing slow and password hashing in
 * bounds: failed-login budgets per user name and per client address, and the turns of
 * the calls that hash a password. Loop thread only. */
#include "gateway_int.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"

/* ---- failure budgets ----
 * A budget is a token bucket of failures: it holds at most `burst`, a failed login
 * takes one, and `rate` come back per minute. Each table is set-associative: a key's
 * hash (seeded at random, so a client cannot aim names at one set) picks a set of WAYS
 * entries, and a new key replaces the entry of its set that is least in debt. Memory is
 * fixed: 2 x SETS x WAYS entries. */

#define SETS 1024
#define WAYS 8

typedef struct slot {
    uint64_t key;   /* 0: empty */
    double tokens;  /* failures still allowed */
    uint64_t at_ms; /* when tokens was last brought up to date */
} slot;

typedef struct table {
    int burst, rate; /* rate: per minute; burst 0: no budget */
    slot s[SETS][WAYS];
} table;

static table users, addrs;
static uint64_t seed;

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h ? h : 1;
}

/* The address's key: IPv4 whole (an IPv4-mapped IPv6 address counts as IPv4), IPv6 by
 * its /64, which one host usually owns whole. */
static uint64_t addr_key(const struct sockaddr *sa)
{
    if (!sa)
        return hash_bytes(seed ^ 0xa5, "?", 1);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return hash_bytes(seed ^ 4, &in->sin_addr, 4);
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            return hash_bytes(seed ^ 4, a->s6_addr + 12, 4);
        return hash_bytes(seed ^ 6, a->s6_addr, 8);
    }
    return hash_bytes(seed ^ 0xa5, &sa->sa_family, sizeof sa->sa_family);
}

static void refill(const table *t, slot *e, uint64_t now)
{
    if (now > e->at_ms) {
        e->tokens += (double)(now - e->at_ms) * t->rate / 60000.0;
        if (e->tokens > t->burst)
            e->tokens = t->burst;
    }
    e->at_ms = now;
}

/* The key's entry, brought up to date; made (replacing the entry least in debt) when
 * create is set, else NULL when absent. */
static slot *find(table *t, uint64_t key, uint64_t now, bool create)
{
    slot *set = t->s[key % SETS], *victim = NULL;
    for (int i = 0; i < WAYS; i++) {
        slot *e = &set[i];
        if (e->key == key) {
            refill(t, e, now);
            return e;
        }
        if (e->key)
            refill(t, e, now);
        if (!victim || !e->key || (victim->key && e->tokens > victim->tokens))
            victim = e;
    }
    if (!create)
        return NULL;
    *victim = (slot){.key = key, .tokens = t->burst, .at_ms = now};
    return victim;
}

/* Seconds until the entry has a whole token again (at least 1). */
static int wait_s(const table *t, const slot *e)
{
    if (t->rate <= 0)
        return 3600;
    double ms = (1.0 - e->tokens) * 60000.0 / t->rate;
    int s = (int)(ms / 1000.0) + 1;
    return s > 3600 ? 3600 : s;
}

throttle_verdict gateway_throttle_check(const char *user, const struct sockaddr *addr, int *retry_after_s)
{
    uint64_t now = clock_now_ms(), ukey = hash_bytes(seed, user, strlen(user)), akey = addr_key(addr);
    throttle_verdict v = THROTTLE_OK;
    slot *u = users.burst ? find(&users, ukey, now, false) : NULL;
    slot *a = addrs.burst ? find(&addrs, akey, now, false) : NULL;
    if (u && u->tokens < 1.0) {
        v = THROTTLE_USER;
        *retry_after_s = wait_s(&users, u);
    } else if (a && a->tokens < 1.0) {
        v = THROTTLE_ADDR;
        *retry_after_s = wait_s(&addrs, a);
    }
    return v;
}

void gateway_throttle_settle(const char *user, const struct sockaddr *addr, bool failed)
{
    uint64_t now = clock_now_ms(), ukey = hash_bytes(seed, user, strlen(user)), akey = addr_key(addr);
    slot *u = users.burst ? find(&users, ukey, now, failed) : NULL;
    if (u && failed)
        u->tokens -= 1.0;
    else if (u)
        *u = (slot){0}; /* a success clears the user's count */
    slot *a = addrs.burst && failed ? find(&addrs, akey, now, true) : NULL;
    if (a)
        a->tokens -= 1.0; /* and not the address's: its guesses stay counted */
}

/* ---- turns for the calls that hash a password ----
 * A sign-up or login is a call in flight like any other, on the loop; only
 * gw.login_concurrency of them are at once, so a flood of them cannot pile work on the
 * user service's hashing threads. The rest wait here, in order, each at most
 * --timeout. */

typedef struct waiter {
    gateway_turn_fn fn;
    void *arg;
    uint64_t timer;
    struct waiter *prev, *next;
} waiter;

static struct {
    loop *l;
    waiter *head, *tail;
    int waiting, running;
    bool stopping;
} turns;

static void too_busy(outcome *o, const char *why)
{
    *o = (outcome){.http = 429, .code = "RESOURCE_EXHAUSTED", .retry_after = 1};
    snprintf(o->msg, sizeof o->msg, "%s: try again in a second", why);
}

static void unlink_waiter(waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        turns.head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        turns.tail = w->prev;
    turns.waiting--;
}

/* A waiter's --timeout is up: it is refused. */
static void waited_too_long(loop *l, void *ud)
{
    (void)l;
    waiter *w = ud;
    unlink_waiter(w);
    outcome o;
    too_busy(&o, "sign-ups and logins were all busy for longer than --timeout");
    gateway_turn_fn fn = w->fn;
    void *arg = w->arg;
    free(w);
    fn(arg, &o);
}

bool gateway_turn_ask(loop *l, gateway_turn_fn fn, void *arg)
{
    turns.l = l;
    if (turns.stopping) {
        outcome o = {.http = 503, .code = "UNAVAILABLE"};
        snprintf(o.msg, sizeof o.msg, "the gateway is stopping");
        fn(arg, &o);
        return true;
    }
    if (turns.running < gw.login_concurrency) {
        turns.running++;
        fn(arg, NULL);
        return true;
    }
    waiter *w = turns.waiting < gw.login_queue ? calloc(1, sizeof *w) : NULL;
    if (!w)
        return false;
    *w = (waiter){.fn = fn, .arg = arg, .prev = turns.tail};
    if (!(w->timer = loop_timer(l, (uint64_t)gw.timeout_ms, waited_too_long, w))) {
        free(w);
        return false;
    }
    if (turns.tail)
        turns.tail->next = w;
    else
        turns.head = w;
    turns.tail = w;
    turns.waiting++;
    return true;
}

void gateway_turn_end(void)
{
    turns.running--;
    waiter *w = turns.head;
    if (!w || turns.stopping)
        return;
    unlink_waiter(w);
    loop_timer_cancel(turns.l, w->timer);
    turns.running++;
    gateway_turn_fn fn = w->fn;
    void *arg = w->arg;
    free(w);
    fn(arg, NULL);
}

void gateway_turns_stop(void)
{
    turns.stopping = true;
    while (turns.head) {
        waiter *w = turns.head;
        unlink_waiter(w);
        loop_timer_cancel(turns.l, w->timer);
        outcome o = {.http = 503, .code = "UNAVAILABLE"};
        snprintf(o.msg, sizeof o.msg, "the gateway is stopping");
        gateway_turn_fn fn = w->fn;
        void *arg = w->arg;
        free(w);
        fn(arg, &o);
    }
}

void gateway_throttle_init(void)
{
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)clock_now_us() * 0x9e3779b97f4a7c15ull;
    users.burst = gw.login_burst, users.rate = gw.login_rate;
    addrs.burst = gw.login_addr_burst, addrs.rate = gw.login_addr_rate;
}
