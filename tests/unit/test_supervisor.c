/* test_supervisor.c -- unit tests for the supervisor: spawn, kill, stop, pause, resume,
 * restart, reaping, and the timeline.
 *
 * The supervisor starts programs that sit next to the running executable, so this test
 * program is its own helper, as libuv's runner is: started with --listen (as every
 * workbench server is), it serves testkit's line codec through server_main instead of
 * running the tests. With --exit-status N it prints an address and exits with N at
 * once, a server that dies by itself. Every test here runs such helpers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testkit.h"

#include "base/clock.h"
#include "proc/supervisor.h"
#include "rpc/server.h"

/* One deadline for every test of this program: Criterion's sandbox (BoxFort 0.1) leaks its
 * record of a deadline when a test that started later is due first, and AddressSanitizer
 * fails the run for that leak. */
#define DEADLINE .timeout = 30
#define HELPER .description = "helper: this program as a line server", DEADLINE

static char self[64]; /* this program's file name: what the supervisor is asked to run */

/* ---- helpers ---- */

static supervisor *new_supervisor(void)
{
    /* Criterion marks its workers in the environment; a helper must start as a plain
     * program, not as a worker. */
    unsetenv("BXFI_MAP");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = '\0';
    snprintf(self, sizeof self, "%s", strrchr(exe, '/') + 1);
    supervisor *s = supervisor_new("none", "svc", 5);
    cr_assert_not_null(s);
    return s;
}

/* Spawns this program as a service; extra arguments may be NULL. */
static int spawn(supervisor *s, const char *const *args)
{
    char err[512] = "";
    int id = supervisor_spawn_service(s, self, "svc", args, err, sizeof err);
    cr_assert_gt(id, 0, "spawn: %s", err);
    return id;
}

/* Polls the supervisor until instance id has been reaped (at most 10 s). */
static const instance *reap(supervisor *s, int id)
{
    uint64_t deadline = clock_now_ms() + 10000;
    for (;;) {
        supervisor_poll(s);
        const instance *in = supervisor_find(s, id);
        if (in->pid == 0)
            return in;
        cr_assert_lt(clock_now_ms(), deadline, "#%d was not reaped within 10 s", id);
        clock_sleep_ms(10);
    }
}

/* Asserts that pid is no child of ours any more: reaped, not left a zombie. */
static void assert_reaped(pid_t pid)
{
    int status;
    errno = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    cr_assert(r == -1 && errno == ECHILD, "pid %d was left unreaped (waitpid gave %d)", (int)pid, (int)r);
}

/* The process state letter in /proc/PID/stat ('T' when stopped), or 0 when it is gone. */
static char proc_state(pid_t pid)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *close_paren = strrchr(text, ')');
    return close_paren && close_paren[1] == ' ' ? close_paren[2] : 0;
}

static bool state_becomes(pid_t pid, bool stopped)
{
    uint64_t deadline = clock_now_ms() + 5000;
    while ((proc_state(pid) == 'T') != stopped) {
        if (clock_now_ms() >= deadline)
            return false;
        clock_sleep_ms(5);
    }
    return true;
}

/* The index of the first timeline event of instance id whose text is want, from `from`;
 * -1 when there is none. */
static int event(const supervisor *s, size_t from, int id, const char *want)
{
    size_t n;
    const sup_event *tl = supervisor_timeline(s, &n);
    for (size_t i = from; i < n; i++)
        if (tl[i].id == id && strcmp(tl[i].what, want) == 0)
            return (int)i;
    return -1;
}

static void assert_event(const supervisor *s, int id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void assert_event(const supervisor *s, int id, const char *fmt, ...)
{
    char want[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof want, fmt, ap);
    va_end(ap);
    cr_assert_geq(event(s, 0, id, want), 0, "no event \"%s\" for #%d", want, id);
}

/* ---- spawning ---- */

Test(supervisor, a_spawned_service_runs_and_answers, HELPER)
{
    supervisor *s = new_supervisor();
    int id = spawn(s, NULL);
    cr_assert_eq(id, 1);
    const instance *in = supervisor_find(s, id);
    cr_assert_eq(in->state, INST_RUNNING);
    cr_assert_gt(in->pid, 0);
    cr_assert_str_eq(in->service, "svc");
    cr_assert_str_eq(supervisor_instance_program(in), self);
    cr_assert_eq(strncmp(in->addr, "127.0.0.1:", 10), 0, "address %s", in->addr);
    int fd = tk_connect(in->addr);
    tk_echo(fd, "are you there?\n");
    close(fd);
    assert_event(s, id, "spawned %s #1 at %s as svc (pid %d)", self, in->addr, (int)in->pid);
    size_t n;
    cr_assert_eq(supervisor_instances(s, &n), in);
    cr_assert_eq(n, 1);
    cr_assert_null(supervisor_find(s, 0));
    cr_assert_null(supervisor_find(s, 2));
    pid_t pid = in->pid;
    supervisor_free(s);
    assert_reaped(pid);
}

Test(supervisor, instances_are_numbered_in_the_order_spawned, HELPER)
{
    supervisor *s = new_supervisor();
    for (int i = 1; i <= 3; i++)
        cr_assert_eq(spawn(s, NULL), i);
    size_t n;
    const instance *in = supervisor_instances(s, &n);
    cr_assert_eq(n, 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(in[i].id, i + 1);
        for (int k = 0; k < i; k++)
            cr_assert_str_neq(in[i].addr, in[k].addr, "two instances on one address");
    }
    supervisor_free(s);
}

Test(supervisor, a_failed_spawn_records_nothing, DEADLINE)
{
    supervisor *s = new_supervisor();
    char err[512] = "";
    cr_assert_eq(supervisor_spawn_service(s, "no-such-server", NULL, NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "no-such-server"), "err: %s", err);
    const char *many[SUP_MAX_ARGS + 2];
    for (int i = 0; i <= SUP_MAX_ARGS; i++)
        many[i] = "--quiet";
    many[SUP_MAX_ARGS + 1] = NULL;
    cr_assert_eq(supervisor_spawn_service(s, self, NULL, many, err, sizeof err), -1);
    cr_assert(strstr(err, "at most"), "err: %s", err);
    size_t n;
    supervisor_instances(s, &n);
    cr_assert_eq(n, 0);
    supervisor_timeline(s, &n);
    cr_assert_eq(n, 0);
    supervisor_free(s);
}

/* ---- signals and reaping ---- */

Test(supervisor, a_killed_instance_is_reaped_and_noted, HELPER)
{
    supervisor *s = new_supervisor();
    int id = spawn(s, NULL);
    char addr[80];
    snprintf(addr, sizeof addr, "%s", supervisor_find(s, id)->addr);
    pid_t pid = supervisor_find(s, id)->pid;
    cr_assert_eq(supervisor_signal(s, id, SIGKILL), 0);
    cr_assert_eq(supervisor_find(s, id)->state, INST_KILLED);
    const instance *in = reap(s, id);
    cr_assert_eq(in->state, INST_KILLED);
    cr_assert(WIFSIGNALED(in->exit_status) && WTERMSIG(in->exit_status) == SIGKILL);
    assert_reaped(pid);
    assert_event(s, id, "sent SIGKILL to #1 %s", addr);
    assert_event(s, id, "#1 %s died of SIGKILL", addr);
    cr_assert_eq(supervisor_signal(s, id, SIGTERM), -1, "a signal to a reaped instance");
    supervisor_poll(s); /* nothing more to reap or note */
    size_t n;
    supervisor_timeline(s, &n);
    cr_assert_eq(n, 3);
    supervisor_free(s);
}

Test(supervisor, a_stopped_instance_shuts_down_cleanly, HELPER)
{
    supervisor *s = new_supervisor();
    int id = spawn(s, NULL);
    pid_t pid = supervisor_find(s, id)->pid;
    cr_assert_eq(supervisor_signal(s, id, SIGTERM), 0);
    cr_assert_eq(supervisor_find(s, id)->state, INST_STOPPED);
    const instance *in = reap(s, id);
    cr_assert_eq(in->state, INST_STOPPED);
    cr_assert(WIFEXITED(in->exit_status) && WEXITSTATUS(in->exit_status) == 0,
              "wait status 0x%x", in->exit_status);
    assert_reaped(pid);
    assert_event(s, id, "#1 %s exited with status 0", in->addr);
    supervisor_free(s);
}

Test(supervisor, a_paused_instance_answers_once_resumed, HELPER)
{
    supervisor *s = new_supervisor();
    int id = spawn(s, NULL);
    const instance *in = supervisor_find(s, id);
    int fd = tk_connect(in->addr);
    tk_echo(fd, "before\n");
    cr_assert_eq(supervisor_signal(s, id, SIGSTOP), 0);
    cr_assert_eq(in->state, INST_PAUSED);
    cr_assert(state_becomes(in->pid, true), "the process did not stop");
    tk_send(fd, "while paused\n", 13);
    buf got;
    buf_init(&got, 0);
    cr_assert_eq(tk_read_until(fd, &got, 13, clock_now_ms() + 200), 0, "a paused server answered");
    supervisor_poll(s);
    cr_assert_gt(in->pid, 0, "a paused instance is not reaped");
    cr_assert_eq(supervisor_signal(s, id, SIGCONT), 0);
    cr_assert_eq(in->state, INST_RUNNING);
    cr_assert(state_becomes(in->pid, false), "the process did not resume");
    tk_read_until(fd, &got, 13, clock_now_ms() + 5000);
    cr_assert_eq(buf_size(&got), 13);
    cr_assert(memcmp(buf_data(&got), "while paused\n", 13) == 0);
    assert_event(s, id, "sent SIGSTOP to #1 %s", in->addr);
    assert_event(s, id, "sent SIGCONT to #1 %s", in->addr);
    buf_done(&got);
    close(fd);
    supervisor_free(s);
}

/* ---- restarting ---- */

Test(supervisor, a_restart_keeps_the_number_and_the_address, HELPER)
{
    supervisor *s = new_supervisor();
    int id = spawn(s, NULL);
    const instance *in = supervisor_find(s, id);
    char addr[80];
    snprintf(addr, sizeof addr, "%s", in->addr);
    pid_t old = in->pid;
    supervisor_signal(s, id, SIGKILL);
    reap(s, id);
    char err[512] = "";
    cr_assert_eq(supervisor_restart(s, id, err, sizeof err), 0, "restart: %s", err);
    cr_assert_str_eq(in->addr, addr);
    cr_assert_eq(in->state, INST_RUNNING);
    cr_assert_gt(in->pid, 0);
    cr_assert_neq(in->pid, old);
    assert_reaped(old);
    int fd = tk_connect(addr);
    tk_echo(fd, "back again\n");
    close(fd);
    assert_event(s, id, "restarted #1 at %s (pid %d)", addr, (int)in->pid);
    size_t n;
    supervisor_instances(s, &n);
    cr_assert_eq(n, 1, "a restart adds no instance");
    cr_assert_eq(supervisor_restart(s, 7, err, sizeof err), -1);
    cr_assert_str_eq(err, "no instance #7");
    supervisor_free(s);
}

Test(supervisor, restarting_a_paused_instance_replaces_its_process, HELPER)
{
    supervisor *s = new_supervisor();
    int id = spawn(s, NULL);
    const instance *in = supervisor_find(s, id);
    pid_t old = in->pid;
    supervisor_signal(s, id, SIGSTOP);
    char err[512] = "";
    cr_assert_eq(supervisor_restart(s, id, err, sizeof err), 0, "restart: %s", err);
    assert_reaped(old);
    cr_assert_neq(in->pid, old);
    cr_assert_eq(in->state, INST_RUNNING);
    int fd = tk_connect(in->addr);
    tk_echo(fd, "fresh\n");
    close(fd);
    supervisor_free(s);
}

Test(supervisor, an_instance_that_exits_by_itself_is_reaped_and_its_arguments_kept, HELPER)
{
    supervisor *s = new_supervisor();
    int id = spawn(s, (const char *[]){"--exit-status", "3", NULL});
    const instance *in = reap(s, id);
    cr_assert_eq(in->state, INST_EXITED);
    cr_assert(WIFEXITED(in->exit_status) && WEXITSTATUS(in->exit_status) == 3);
    assert_event(s, id, "#1 %s exited with status 3", in->addr);
    char err[512] = "";
    cr_assert_eq(supervisor_restart(s, id, err, sizeof err), 0, "restart: %s", err);
    in = reap(s, id);
    cr_assert(WIFEXITED(in->exit_status) && WEXITSTATUS(in->exit_status) == 3,
              "the restart was not given the same arguments");
    supervisor_free(s);
}

/* ---- the owner that starts servers on another thread (the TUI) ---- */

Test(supervisor, a_launched_server_is_adopted_as_new_or_in_place_of_a_dead_one, HELPER)
{
    supervisor *s = new_supervisor();
    int id = spawn(s, NULL);
    instance out;
    char err[512] = "";
    cr_assert_eq(supervisor_launch_like(s, supervisor_find(s, id), NULL, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(supervisor_adopt(s, id, &out), -1, "#1 is still alive");
    cr_assert_eq(supervisor_adopt(s, 0, &out), 2);
    cr_assert_str_eq(supervisor_find(s, 2)->program, self);
    supervisor_signal(s, id, SIGKILL);
    reap(s, id);
    char addr[80];
    snprintf(addr, sizeof addr, "%s", supervisor_find(s, id)->addr);
    cr_assert_eq(supervisor_launch_like(s, supervisor_find(s, id), addr, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(supervisor_adopt(s, id, &out), id);
    cr_assert_eq(supervisor_find(s, id)->state, INST_RUNNING);
    int fd = tk_connect(addr);
    tk_echo(fd, "adopted\n");
    close(fd);
    assert_event(s, id, "restarted %s #1 at %s (pid %d)", self, addr, (int)out.pid);
    supervisor_free(s);
}

/* ---- freeing ---- */

Test(supervisor, free_reaps_every_instance_paused_killed_or_running, HELPER)
{
    supervisor *s = new_supervisor();
    pid_t pid[3];
    for (int i = 0; i < 3; i++)
        pid[i] = supervisor_find(s, spawn(s, NULL))->pid;
    supervisor_signal(s, 1, SIGSTOP);
    supervisor_signal(s, 2, SIGKILL); /* not polled: still in the table */
    cr_assert(state_becomes(pid[0], true));
    uint64_t t0 = clock_now_ms();
    supervisor_free(s);
    cr_assert_lt(clock_now_ms() - t0, 3000, "a paused instance held free up until its deadline");
    for (int i = 0; i < 3; i++)
        assert_reaped(pid[i]);
    supervisor_free(NULL);
}

/* ---- the timeline ---- */

Test(supervisor, the_timeline_keeps_the_latest_1024_events_oldest_first, DEADLINE)
{
    supervisor *s = new_supervisor();
    for (int i = 0; i < 1100; i++)
        supervisor_note(s, i % 3, "note %d", i);
    size_t n;
    const sup_event *tl = supervisor_timeline(s, &n);
    cr_assert_eq(n, 1024);
    cr_assert_str_eq(tl[0].what, "note 76");
    cr_assert_eq(tl[0].id, 76 % 3);
    cr_assert_str_eq(tl[n - 1].what, "note 1099");
    for (size_t i = 1; i < n; i++)
        cr_assert_geq(tl[i].at_ms, tl[i - 1].at_ms);
    supervisor_free(s);
}

Test(supervisor, names, DEADLINE)
{
    cr_assert_str_eq(supervisor_instance_program(&(instance){.proto = PROTO_JSON}), "jsonrpc-server");
    cr_assert_str_eq(supervisor_instance_program(&(instance){.proto = PROTO_GOB}), "gob-server");
    cr_assert_str_eq(supervisor_instance_program(&(instance){.proto = PROTO_GRPC}), "grpc-server");
    cr_assert_str_eq(supervisor_state_name(INST_PAUSED), "paused");
    cr_assert_str_eq(supervisor_state_name(INST_EXITED), "exited");
    cr_assert_str_eq(supervisor_state_name((inst_state)99), "?");
}

/* ---- the helper, and the test runner ---- */

/* This program as a server, started by the supervisor with --listen first. */
static int helper_main(int argc, char **argv)
{
    bool missing;
    const char *status = server_take_option(&argc, argv, "exit-status", &missing);
    if (status) {
        printf("127.0.0.1:1\n"); /* an address, then gone */
        fflush(stdout);
        return atoi(status);
    }
    return server_main(tk_line_codec(), "test_supervisor", "a server for the supervisor's tests", argc, argv);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--listen") == 0)
        return helper_main(argc, argv);
    struct criterion_test_set *tests = criterion_initialize();
    int rc = 0;
    if (criterion_handle_args(argc, argv, true))
        rc = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return rc;
}
