/* cmd_load.c -- `workbench load`: calls at a steady rate through the balancer, with
 * instances found in a registry, and the failover timeline when one is killed. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "balancer.h"
#include "commands.h"
#include "consulproc.h"
#include "etcdproc.h"
#include "jsonval.h"
#include "loop.h"
#include "regopt.h"
#include "registry.h"
#include "supervisor.h"

#define MAX_SPAWN 16

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: workbench load --service NAME --codec gob|json|grpc --rate N --duration S\n"
            "                      [--registry URL] [--spawn N] [--kill-after S [--signal KILL|TERM|STOP]]\n"
            "                      [--method M --args JSON] [--policy round-robin|pick-first]\n"
            "Calls METHOD at a steady rate through the client-side balancer, finding the\n"
            "instances of NAME in the registry and following its changes, then prints each\n"
            "instance's share of the calls, failures and latency percentiles.\n\n"
            "Options:\n"
            "      --registry URL  etcd://HOST:PORT, consul://HOST:PORT, or static (no registry:\n"
            "                      the spawned instances are the list), or consul-dev (a private\n"
            "                      `consul agent -dev`, when consul is installed). Default: a\n"
            "                      private etcd started for this run and removed after\n"
            "      --spawn N       start N instances of the codec's server, registered in it\n"
            "      --ttl S         their lease/check TTL (default 5)\n"
            "      --kill-after S  signal the first spawned instance S seconds in, and print the\n"
            "                      failover timeline\n"
            "      --signal SIG    KILL (default), TERM (graceful: it deregisters) or STOP (hung)\n"
            "      --restart-after S  start the killed instance again, on the same port (a\n"
            "                      STOPped one is resumed with SIGCONT)\n"
            "      --registry-down-after S, --registry-up-after S\n"
            "                      stop the private etcd, and start it again: calls go on to the\n"
            "                      instances already known, and the servers register again\n"
            "      --method M      default Arith.Multiply; --args JSON default {\"A\":7,\"B\":8}\n"
            "      --timeout MS    deadline of each call (default 1000)\n"
            "      --no-retry      do not retry a call whose connection failed\n\n"
            "Example: seed 000's experiment, two servers, one killed:\n"
            "  workbench load --service hello --codec json --spawn 2 --rate 200 --duration 8 --kill-after 3\n");
}

int cmd_load(int argc, char **argv)
{
    static const struct option opts[] = {
        {"registry", required_argument, NULL, 'r'}, {"service", required_argument, NULL, 's'},
        {"codec", required_argument, NULL, 'c'},    {"rate", required_argument, NULL, 'R'},
        {"duration", required_argument, NULL, 'd'}, {"method", required_argument, NULL, 'm'},
        {"args", required_argument, NULL, 'a'},     {"spawn", required_argument, NULL, 'n'},
        {"kill-after", required_argument, NULL, 'k'}, {"signal", required_argument, NULL, 'S'},
        {"policy", required_argument, NULL, 'p'},   {"timeout", required_argument, NULL, 't'},
        {"ttl", required_argument, NULL, 'T'},      {"no-retry", no_argument, NULL, 'N'},
        {"restart-after", required_argument, NULL, 'A'},
        {"registry-down-after", required_argument, NULL, 'D'},
        {"registry-up-after", required_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    const char *reg_url = NULL, *service = NULL, *codec = NULL, *method = "Arith.Multiply",
               *args = "{\"A\":7,\"B\":8}";
    double rate = 0, duration = 0, kill_after = -1, restart_after = -1, down_after = -1, up_after = -1;
    int nspawn = 0, timeout = 1000, ttl = 5, sig = SIGKILL;
    bool retry = true;
    pick_policy policy = PICK_ROUND_ROBIN;
    regopt ro = {.kind = REGOPT_PRIVATE_ETCD};
    char err[512];
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (regopt_parse(optarg, &ro, err, sizeof err) < 0) {
                fprintf(stderr, "workbench load: --registry: %s\n", err);
                return EXIT_USAGE;
            }
            break;
        case 's': service = optarg; break;
        case 'c': codec = optarg; break;
        case 'R': rate = atof(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'm': method = optarg; break;
        case 'a': args = optarg; break;
        case 'n': nspawn = atoi(optarg); break;
        case 'k': kill_after = atof(optarg); break;
        case 't': timeout = atoi(optarg); break;
        case 'T': ttl = atoi(optarg); break;
        case 'N': retry = false; break;
        case 'A': restart_after = atof(optarg); break;
        case 'D': down_after = atof(optarg); break;
        case 'U': up_after = atof(optarg); break;
        case 'S':
            sig = strcmp(optarg, "KILL") == 0 ? SIGKILL : strcmp(optarg, "TERM") == 0 ? SIGTERM
                  : strcmp(optarg, "STOP") == 0 ? SIGSTOP : 0;
            if (!sig) {
                fprintf(stderr, "workbench load: --signal wants KILL, TERM or STOP\n");
                return EXIT_USAGE;
            }
            break;
        case 'p':
            if (strcmp(optarg, "round-robin") == 0)
                policy = PICK_ROUND_ROBIN;
            else if (strcmp(optarg, "pick-first") == 0)
                policy = PICK_FIRST;
            else {
                fprintf(stderr, "workbench load: --policy wants round-robin or pick-first\n");
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    rpc_proto proto;
    if (!service || !codec || rate <= 0 || rate > 100000 || duration <= 0 || duration > 3600 ||
        nspawn < 0 || nspawn > MAX_SPAWN || timeout <= 0 || ttl < 1) {
        fprintf(stderr, "workbench load: --service, --codec, --rate (1..100000) and --duration (s) are needed%s\n\n",
                nspawn > MAX_SPAWN ? "; --spawn is at most 16" : "");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(codec, "gob") == 0)
        proto = PROTO_GOB;
    else if (strcmp(codec, "json") == 0)
        proto = PROTO_JSON;
    else if (strcmp(codec, "grpc") == 0)
        proto = PROTO_GRPC;
    else {
        fprintf(stderr, "workbench load: --codec wants gob, json or grpc\n");
        return EXIT_USAGE;
    }
    if (kill_after >= 0 && nspawn == 0) {
        fprintf(stderr, "workbench load: --kill-after needs --spawn (only spawned instances can be killed)\n");
        return EXIT_USAGE;
    }
    if (restart_after >= 0 && (kill_after < 0 || restart_after <= kill_after)) {
        fprintf(stderr, "workbench load: --restart-after needs a --kill-after before it\n");
        return EXIT_USAGE;
    }
    if ((down_after >= 0 || up_after >= 0) && ro.kind != REGOPT_PRIVATE_ETCD) {
        fprintf(stderr, "workbench load: --registry-down-after/--registry-up-after work on the private etcd only\n");
        return EXIT_USAGE;
    }
    value *arg = jsonval_parse(args, strlen(args), err, sizeof err);
    if (!arg) {
        fprintf(stderr, "workbench load: --args is not JSON: %s\n", err);
        return EXIT_USAGE;
    }

    int rc = EXIT_FAILED;
    etcdproc etcd = {0};
    consulproc consul = {0};
    bool own_etcd = false, own_consul = false, is_static = ro.kind == REGOPT_STATIC;
    supervisor *sup = NULL;
    registry *reg = NULL;
    registry_watch *watch = NULL;
    balancer *lb = balancer_new(proto, policy, timeout);
    if (ro.kind == REGOPT_URL)
        reg_url = ro.url;
    if (ro.kind == REGOPT_PRIVATE_ETCD) {
        if (etcdproc_start(&etcd, 10000, err, sizeof err) < 0) {
            fprintf(stderr, "workbench load: %s\n", err);
            goto done;
        }
        own_etcd = true;
        reg_url = etcd.url;
    } else if (ro.kind == REGOPT_CONSUL_DEV) {
        if (consulproc_start(&consul, 15000, err, sizeof err) < 0) {
            fprintf(stderr, "workbench load: %s\n", err);
            goto done;
        }
        own_consul = true;
        reg_url = consul.url;
    }
    sup = supervisor_new(is_static ? "none" : reg_url, service, ttl);
    if (own_etcd)
        supervisor_note(sup, 0, "started a private etcd at %s", etcd.client);
    if (own_consul)
        supervisor_note(sup, 0, "started a private consul agent -dev at %s", consul.http);
    for (int i = 0; i < nspawn; i++) {
        int id = supervisor_spawn(sup, proto, err, sizeof err);
        if (id < 0) {
            fprintf(stderr, "workbench load: %s\n", err);
            goto done;
        }
        if (is_static)
            balancer_add(lb, supervisor_find(sup, id)->addr);
    }
    if (!is_static) {
        if (!(reg = registry_new(reg_url, NULL, err, sizeof err))) {
            fprintf(stderr, "workbench load: %s\n", err);
            rc = EXIT_USAGE;
            goto done;
        }
        /* the spawned instances register in the background: wait until all are listed */
        registry_instance *list = NULL;
        size_t n = 0;
        int64_t rev = 0;
        uint64_t deadline = loop_now_ms() + 5000;
        for (;;) {
            free(list);
            list = NULL;
            if (registry_list(reg, service, &list, &n, &rev, err, sizeof err) < 0) {
                fprintf(stderr, "workbench load: the registry at %s: %s\n", reg_url, err);
                goto done;
            }
            if ((int)n >= nspawn || loop_now_ms() > deadline)
                break;
            usleep(50000);
        }
        for (size_t i = 0; i < n; i++)
            balancer_add(lb, list[i].addr);
        supervisor_note(sup, 0, "the registry lists %zu instance(s) of %s", n, service);
        free(list);
        if (!(watch = registry_watch_start(reg, service, rev, err, sizeof err))) {
            fprintf(stderr, "workbench load: cannot watch the registry: %s\n", err);
            goto done;
        }
    }

    const char *victim = nspawn ? supervisor_find(sup, 1)->addr : NULL;
    char victim_addr[80] = "";
    if (victim)
        snprintf(victim_addr, sizeof victim_addr, "%s", victim);
    victim = nspawn ? victim_addr : NULL;
    bool killed = false, restarted = false, reg_down = false, reg_up = false;
    uint64_t restart_at = 0, after_restart = 0, victim_after_restart = 0, last_dead_call = 0;
    uint64_t kill_at = 0, dropped_at = 0, first_fail_at = 0;
    uint64_t total = 0, failed_calls = 0, retried = 0, remote_errors = 0;
    uint64_t start = loop_now_ms(), end = start + (uint64_t)(duration * 1000);
    for (uint64_t i = 0;; i++) {
        uint64_t due = start + (uint64_t)((double)i * 1000.0 / rate);
        uint64_t now = loop_now_ms();
        if (due >= end)
            break;
        registry_event ev;
        while (watch && registry_watch_next(watch, &ev, due > now ? (int)(due - now) : 0) == 1) {
            if (ev.type == REGISTRY_EV_PUT) {
                balancer_add(lb, ev.inst.addr);
                supervisor_note(sup, 0, "registry: %s registered", ev.inst.addr);
            } else if (ev.type == REGISTRY_EV_DELETE) {
                balancer_remove(lb, ev.inst.addr);
                supervisor_note(sup, 0, "registry: %s removed", ev.inst.addr);
                if (victim && killed && !dropped_at && strcmp(ev.inst.addr, victim) == 0)
                    dropped_at = loop_now_ms();
            } else if (ev.type == REGISTRY_EV_ERROR) {
                supervisor_note(sup, 0, "registry unreachable (%s); calling the instances already known", ev.msg);
            } else if (ev.type == REGISTRY_EV_RESUMED) {
                supervisor_note(sup, 0, "registry reachable again");
            }
            now = loop_now_ms();
        }
        if (!watch && due > now)
            usleep((useconds_t)((due - now) * 1000));
        if (victim && !killed && kill_after >= 0 && loop_now_ms() >= start + (uint64_t)(kill_after * 1000)) {
            supervisor_signal(sup, 1, sig);
            killed = true;
            kill_at = loop_now_ms();
        }
        supervisor_poll(sup);
        if (killed && !restarted && restart_after >= 0 &&
            loop_now_ms() >= start + (uint64_t)(restart_after * 1000)) {
            restarted = true;
            restart_at = loop_now_ms();
            if (sig == SIGSTOP) {
                supervisor_signal(sup, 1, SIGCONT);
            } else {
                if (supervisor_restart(sup, 1, err, sizeof err) < 0)
                    supervisor_note(sup, 1, "could not restart %s: %s", victim, err);
                if (is_static)
                    balancer_add(lb, victim);
            }
        }
        if (own_etcd && !reg_down && down_after >= 0 && loop_now_ms() >= start + (uint64_t)(down_after * 1000)) {
            reg_down = true;
            etcdproc_stop(&etcd, false);
            supervisor_note(sup, 0, "stopped the private etcd");
        }
        if (own_etcd && reg_down && !reg_up && up_after >= 0 && loop_now_ms() >= start + (uint64_t)(up_after * 1000)) {
            reg_up = true;
            if (etcdproc_restart(&etcd, 0, err, sizeof err) < 0)
                supervisor_note(sup, 0, "could not start etcd again: %s", err);
            else
                supervisor_note(sup, 0, "started the private etcd again (same data, same port)");
        }
        value *reply = NULL;
        lb_result res;
        call_status st = balancer_call(lb, method, arg, retry, &reply, &res, err, sizeof err);
        value_free(reply);
        total++;
        size_t nall;
        const lb_instance *insts = balancer_instances(lb, &nall);
        if (killed && !restarted &&
            ((res.instance >= 0 && strcmp(insts[res.instance].addr, victim) == 0) ||
             (res.failed_on >= 0 && strcmp(insts[res.failed_on].addr, victim) == 0)))
            last_dead_call = loop_now_ms();
        if (restarted && st == CALL_OK) {
            after_restart++;
            if (res.instance >= 0 && strcmp(insts[res.instance].addr, victim) == 0)
                victim_after_restart++;
        }
        if (res.failed_on >= 0) {
            retried++;
            size_t ni;
            const lb_instance *all = balancer_instances(lb, &ni);
            if (!first_fail_at && killed) {
                first_fail_at = loop_now_ms();
                supervisor_note(sup, 0, "a call to %s failed (%s); retried on %s", all[res.failed_on].addr,
                     res.first_error, res.instance >= 0 ? all[res.instance].addr : "-");
            }
        }
        if (st == CALL_FAILED) {
            failed_calls++;
            if (killed && !first_fail_at) {
                first_fail_at = loop_now_ms();
                supervisor_note(sup, 0, "a call failed: %s", err);
            }
        } else if (st == CALL_REMOTE_ERROR) {
            remote_errors++;
        }
    }
    double secs = (double)(loop_now_ms() - start) / 1000.0;

    printf("%s %s at %.0f/s for %.1f s, %s, through %s\n\n", codec, method, rate, secs,
           policy == PICK_FIRST ? "pick-first" : "round robin", is_static ? "a static list" : reg_url);
    printf("  %-22s %8s %6s %8s %8s %8s\n", "instance", "calls", "share", "failed", "p50 ms", "p99 ms");
    size_t ni;
    const lb_instance *all = balancer_instances(lb, &ni);
    for (size_t i = 0; i < ni; i++) {
        const lb_instance *in = &all[i];
        printf("  %-22s %8llu %5.1f%% %8llu %8.3f %8.3f%s\n", in->addr, (unsigned long long)in->calls,
               total ? 100.0 * (double)in->calls / (double)total : 0.0, (unsigned long long)in->failures,
               balancer_percentile(in, 50) / 1000.0, balancer_percentile(in, 99) / 1000.0,
               victim && strcmp(in->addr, victim) == 0 && killed ? "  (killed)" : "");
    }
    printf("\n  %llu calls, %llu failed after retries, %llu retried on another instance, "
           "%llu answered with an error\n", (unsigned long long)total, (unsigned long long)failed_calls,
           (unsigned long long)retried, (unsigned long long)remote_errors);
    if (killed) {
        int vi = -1;
        for (size_t i = 0; i < ni; i++)
            if (strcmp(all[i].addr, victim) == 0)
                vi = (int)i;
        uint64_t last = restarted ? last_dead_call : vi >= 0 ? all[vi].last_call_ms : 0;
        printf("\nFailover (SIG%s to %s at +%.3f s):\n", sig == SIGKILL ? "KILL" : sig == SIGTERM ? "TERM" : "STOP",
               victim, (double)(kill_at - start) / 1000.0);
        if (last >= kill_at)
            printf("  last call sent to it:        +%.3f s after the signal%s\n", (double)(last - kill_at) / 1000.0,
                   sig == SIGKILL ? " (after the first failure it is only probed, with backoff, until\n"
                                    "                               the registry drops it; every probe's call is retried)" : "");
        else
            printf("  last call sent to it:        before the signal\n");
        printf("  registry dropped it:         %s", dropped_at ? "" : "not within the run");
        if (dropped_at)
            printf("+%.3f s after the signal (TTL %d s)", (double)(dropped_at - kill_at) / 1000.0, ttl);
        printf("\n  failed calls after retries:  %llu\n", (unsigned long long)failed_calls);
        if (restarted)
            printf("  after it came back (+%.3f s): %llu of %llu calls went to it (%.1f%%)\n",
                   (double)(restart_at - start) / 1000.0, (unsigned long long)victim_after_restart,
                   (unsigned long long)after_restart,
                   after_restart ? 100.0 * (double)victim_after_restart / (double)after_restart : 0.0);
    }
    printf("\nTimeline:\n");
    size_t nev;
    const sup_event *ev = supervisor_timeline(sup, &nev);
    for (size_t i = 0; i < nev; i++) {
        long long d = (long long)ev[i].at_ms - (long long)start;
        printf("  %+8.3f s  %s\n", (double)d / 1000.0, ev[i].what);
    }
    rc = EXIT_OK;
done:
    registry_watch_free(watch);
    registry_free(reg);
    balancer_free(lb);
    supervisor_free(sup);
    if (own_etcd)
        etcdproc_stop(&etcd, true);
    if (own_consul)
        consulproc_stop(&consul);
    value_free(arg);
    return rc;
}
