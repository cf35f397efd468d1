/* gateway_throttle.c -- what keeps password guessing slow and password hashing off the
 * request threads: failed-login budgets per user name and per client address, and the
 * few threads that make the calls which hash a password. */
#include "gateway_int.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

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

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
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
    pthread_mutex_lock(&mu);
    slot *u = users.burst ? find(&users, ukey, now, false) : NULL;
    slot *a = addrs.burst ? find(&addrs, akey, now, false) : NULL;
    if (u && u->tokens < 1.0) {
        v = THROTTLE_USER;
        *retry_after_s = wait_s(&users, u);
    } else if (a && a->tokens < 1.0) {
        v = THROTTLE_ADDR;
        *retry_after_s = wait_s(&addrs, a);
    }
    pthread_mutex_unlock(&mu);
    return v;
}

void gateway_throttle_settle(const char *user, const struct sockaddr *addr, bool failed)
{
    uint64_t now = clock_now_ms(), ukey = hash_bytes(seed, user, strlen(user)), akey = addr_key(addr);
    pthread_mutex_lock(&mu);
    slot *u = users.burst ? find(&users, ukey, now, failed) : NULL;
    if (u && failed)
        u->tokens -= 1.0;
    else if (u)
        *u = (slot){0}; /* a success clears the user's count */
    slot *a = addrs.burst && failed ? find(&addrs, akey, now, true) : NULL;
    if (a)
        a->tokens -= 1.0; /* and not the address's: its guesses stay counted */
    pthread_mutex_unlock(&mu);
}

/* ---- the threads that make the slow calls ----
 * The request's connection is suspended (it holds no libmicrohttpd thread) while its
 * job waits here and runs; the job resumes it. */

typedef struct job {
    gateway_slow_fn fn;
    void *arg;
    uint64_t queued_ms;
} job;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *ring;
    size_t cap, head, len; /* the ring of jobs waiting for a thread */
    int busy;              /* jobs running */
    bool stopping;
    int nthreads;
    pthread_t *threads;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *pool_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (!pool.len && !pool.stopping)
            pthread_cond_wait(&pool.cv, &pool.mu);
        if (!pool.len)
            break; /* stopping, and nothing left */
        job j = pool.ring[pool.head];
        pool.head = (pool.head + 1) % pool.cap;
        pool.len--;
        pool.busy++;
        bool cancelled = pool.stopping;
        pthread_mutex_unlock(&pool.mu);
        j.fn(j.arg, clock_now_ms() - j.queued_ms, cancelled);
        pthread_mutex_lock(&pool.mu);
        pool.busy--;
    }
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

bool gateway_throttle_submit(gateway_slow_fn fn, void *arg)
{
    pthread_mutex_lock(&pool.mu);
    bool room = !pool.stopping && pool.len + (size_t)pool.busy < pool.cap;
    if (room) {
        pool.ring[(pool.head + pool.len) % pool.cap] = (job){fn, arg, clock_now_ms()};
        pool.len++;
        pthread_cond_signal(&pool.cv);
    }
    pthread_mutex_unlock(&pool.mu);
    return room;
}

int gateway_throttle_start(char *err, size_t errlen)
{
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)clock_now_us() * 0x9e3779b97f4a7c15ull;
    users.burst = gw.login_burst, users.rate = gw.login_rate;
    addrs.burst = gw.login_addr_burst, addrs.rate = gw.login_addr_rate;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pool.cv, &ca);
    pthread_condattr_destroy(&ca);
    /* at most --login-queue jobs wait while every thread is busy */
    pool.cap = (size_t)gw.login_queue + (size_t)gw.login_concurrency;
    pool.ring = calloc(pool.cap, sizeof *pool.ring);
    pool.threads = calloc((size_t)gw.login_concurrency, sizeof *pool.threads);
    if (!pool.ring || !pool.threads) {
        err_set(err, errlen, "out of memory for the login threads");
        return -1;
    }
    for (pool.nthreads = 0; pool.nthreads < gw.login_concurrency; pool.nthreads++)
        if (pthread_create(&pool.threads[pool.nthreads], NULL, pool_main, NULL) != 0)
            break;
    if (pool.nthreads == 0) {
        err_set(err, errlen, "cannot start the login threads");
        return -1;
    }
    if (pool.nthreads < gw.login_concurrency)
        log_msg("only %d of %d login threads started", pool.nthreads, gw.login_concurrency);
    return 0;
}

void gateway_throttle_stop(void)
{
    pthread_mutex_lock(&pool.mu);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 0; i < pool.nthreads; i++)
        pthread_join(pool.threads[i], NULL);
    free(pool.threads);
    free(pool.ring);
    pool.threads = NULL, pool.ring = NULL, pool.nthreads = 0;
}
