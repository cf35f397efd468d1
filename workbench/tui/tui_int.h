/* tui_int.h -- private to the TUI's own files: the state the main loop and the actions
 * share, and the functions they call across files. Everything runs on the main thread. */
#ifndef WB_TUI_INT_H
#define WB_TUI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/supervisor.h"
#include "protosrc.h"
#include "registry/consulproc.h"
#include "registry/etcdproc.h"
#include "registry/registry.h"
#include "regopt.h"
#include "tui_cmdline.h"
#include "tui_draw.h"
#include "tui_lab.h"
#include "tui_lesson.h"
#include "tui_model.h"
#include "tui_sniff.h"
#include "tui_wire.h"
#include "tui_work.h"

#define TUI_SERVICE "workbench" /* what the sample servers register as, and the load calls */

enum { TUI_MAX_STARTING = 32 };

typedef struct tui {
    tui_model m;
    supervisor *sup;
    int selected;
    char message[300];            /* the last action's result, on the status line for a while */
    uint64_t message_at;          /* when it was first drawn; 0: not yet */
    bool help, quit;
    int help_scroll;              /* lines of the help scrolled past */
    tui_cmdline cmd;
    tui_wire wire;
    bool show_wire;
    /* the Wire pane's call to any gRPC server (:wire grpc://HOST:PORT METHOD JSON), made
     * instead of the load's while server is set */
    char wire_server[80], wire_method[128], wire_args[1024];
    protosrc src;                 /* --proto, -I, --protoset: types for that call */
    char method[128], args[1024]; /* what the load calls */
    etcdproc *etcd;               /* the private registry, which `e` stops and starts */
    registry_creds creds;         /* for every registry it opens (--registry-user...) */
    /* the registry in use: the watch feeds the model (none when static) */
    regopt reg;
    char reg_url[256];            /* what the watch follows; "none" when static */
    char reg_label[96];           /* "etcd 127.0.0.1:2379", "static list (no registry)" */
    registry_watch *watch;
    bool switching;               /* a registry job is on the worker */
    bool etcd_busy;               /* a job is stopping or starting the private etcd */
    consulproc consul;            /* the consul agent -dev of :registry consul, once started */
    bool own_consul;
    tui_work *ops;                /* spawns, restarts and registry switches, in order */
    tui_work *side;               /* lease TTL queries and freeing old watches */
    tui_starting starting[TUI_MAX_STARTING]; /* servers on their way up, for the Instances pane */
    size_t nstarting;
    bool mouse;
    int tl_scroll;                /* Timeline lines scrolled back from the newest */
    int tl_page;                  /* Timeline events shown at once (PgUp/PgDn move so many) */
    bool ttl_pending;             /* a lease TTL query is on the side worker */
    int inst_first, inst_shown;   /* the instances on screen (tui_screen's), whose TTLs it asks */
    int rolling[TUI_MAX_STARTING]; /* instances to restart into the new registry, one at a time */
    size_t nrolling;
    int draining;                 /* the next of them, leaving the load's list first */
    int wire_jobs;                /* Wire captures on the side worker */
    char dbdir[64];               /* the order and user services' SQLite files, made on first use */
    tui_lesson *lesson;           /* the open lesson (:lesson N), or NULL */
    tui_lesson_view lesson_view;  /* its snapshot, taken when it changes */
    char lesson_pane[16];         /* the pane its step is about, for the layout */
    bool lesson_wire;             /* the lesson opened the Wire pane */
    int lesson_scroll;            /* rows of the lesson's pane scrolled past (PgDn) */
    size_t lesson_step;           /* the step it shows, to scroll back to the top on a new one */
    tui_lesson_item lessons[LESSON_CATALOG_MAX]; /* the help's list, read when the help opens */
    size_t nlessons;
    char lessons_err[600];        /* what of them could not be read */
    /* the lab of :hosts N; the worker owns lab, the main thread its snapshot */
    tui_lab *lab;
    tui_lab_info lab_info;        /* n 0: no lab */
    tui_lab_leader lab_leader;
    bool lab_busy;                /* a lab job is on the ops worker */
    bool lab_reading;             /* a read of its timeline is on the side worker */
    uint64_t lab_read_at, lab_leader_at;
    size_t lab_seen;              /* lines of its timeline shown */
    int64_t detect_ms;            /* the last fault's detection time; -1: none measured */
    char detect_fault[96];
    int orig_netfd;               /* the TUI's own network namespace */
    regopt lab_prev;              /* the registry before the lab, to go back to */
    bool show_hosts;              /* the :hosts view is open */
    int ttl, lb_deadline_ms, lb_eject_after, lb_backoff_min, lb_backoff_max; /* :set */
    /* the Sniff pane: calls between other programs, live (:sniff) or replayed (:replay) */
    tui_sniff *sniff;             /* made on first use */
    bool show_sniff;              /* shown instead of the other panes (the Wire pane over it) */
    uint64_t sniff_sel;           /* the selected call's id; 0: the newest, followed */
    unsigned sniff_gen;           /* the model's generation the snapshot was taken at */
    tui_sniff_view sniff_view;    /* the snapshot the pane draws */
    char sniff_err[600];          /* why the last :sniff or :replay could not start, or "" */
    bool wire_sniffed;            /* the Wire pane shows a sniffed call: older captures
                                     coming back from the worker are not shown */
} tui;

/* ---- the actions: what a key or a command does ----
 * Each runs from a key (arg as the key table gives it, often NULL: the selected
 * instance) or from the `:` line (arg: the rest of the line, NULL when empty) and
 * returns the DIRTY_ flags of what to draw again. */
typedef int (*tui_action)(tui *t, const char *arg);

/* tui_act.c: instances, load, selection, the view */
int act_spawn(tui *t, const char *arg);
int act_select(tui *t, const char *arg);
int act_kill(tui *t, const char *arg);
int act_term(tui *t, const char *arg);
int act_pause(tui *t, const char *arg);
int act_resume(tui *t, const char *arg);
int act_restart(tui *t, const char *arg);
int act_load(tui *t, const char *arg);
int act_rate(tui *t, const char *arg);
int act_call(tui *t, const char *arg);
int act_edit_call(tui *t, const char *arg);
int act_command(tui *t, const char *arg);
int act_scroll(tui *t, const char *arg);
int act_mouse(tui *t, const char *arg);
int act_help(tui *t, const char *arg);
int act_quit(tui *t, const char *arg);
/* tui_act_reg.c: the registry and the private etcd */
int act_registry(tui *t, const char *arg);
int act_registry_prompt(tui *t, const char *arg);
/* tui_act_pane.c: the Wire pane and lessons */
int act_wire(tui *t, const char *arg);
int act_cursor(tui *t, const char *arg);
int act_lane(tui *t, const char *arg);
int act_direction(tui *t, const char *arg);
int act_recapture(tui *t, const char *arg);
int act_lesson(tui *t, const char *arg);
int act_lesson_key(tui *t, const char *arg);
/* tui_act_sniff.c: the Sniff pane, replay, and the Wire pane's pcap */
int act_sniff_pane(tui *t, const char *arg);
int act_sniff(tui *t, const char *arg);
int act_replay(tui *t, const char *arg);
int act_sniff_open(tui *t, const char *arg);
int act_pcap(tui *t, const char *arg);
/* tui_act_lab.c: the lab, its faults and the knobs */
int act_hosts(tui *t, const char *arg);
int act_cut(tui *t, const char *arg);
int act_heal(tui *t, const char *arg);
int act_kill_host(tui *t, const char *arg);
int act_loss(tui *t, const char *arg);
int act_partition(tui *t, const char *arg);
int act_kill_leader(tui *t, const char *arg);
int act_set(tui *t, const char *arg);

/* ---- servers on their way up, below every action file (tui_act_start.c) ---- */

/* Sets the message the status line shows instead of the key hints for a few seconds (or
 * until the next key). */
void tui_say(tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether instance id is on its way up (or leaving the load's list to restart). */
bool tui_is_starting(const tui *t, int id);
/* Queues a start on the ops worker: a new server like `like` (id 0), or instance id again
 * on addr once old_pid (signalled already, or 0) has exited; the Instances pane shows it
 * as starting meanwhile. Returns 0, or -1 (said why) when too many are starting. */
int tui_start_server(tui *t, int id, const instance *like, pid_t old_pid, const char *addr);
/* Restarts instance in on its address, sending sig first if it is alive (a paused one is
 * resumed so that it can take it). Returns 0, or -1 (said why). */
int tui_restart_instance(tui *t, const instance *in, int sig);
/* Restarts the next instance waiting to move into a new registry, when none is starting. */
void tui_roll_on(tui *t);
/* With no registry: makes the load's list the servers alive here. Returns DIRTY_ flags. */
int tui_sync_static(tui *t);

/* ---- shared between the main loop and the actions ---- */

/* Queues a lease TTL query on the side worker (one at a time) for the etcd entries of the
 * instances on screen (inst_first, inst_shown; at most TUI_TTL_BATCH), the only ones whose
 * TTL is shown: its cost does not grow with the registry's entries. */
void tui_poll_ttls(tui *t);
/* What the Registry pane watches in registry o: every service, or one (Consul). */
const char *tui_watched_service(const regopt *o);
/* The finish of a registry job: the model follows the registry it opened from now on. */
int tui_finish_registry(tui_job *j, void *ctx);
/* Makes the Wire pane's call on the side worker: the load's, once per protocol, or the
 * one to any gRPC server (wire_server). */
void tui_capture(tui *t);
/* Takes a new snapshot of the open lesson when it changed. Returns DIRTY_ flags. */
int tui_sync_lesson(tui *t);
/* Opens the help with the list of lessons, titles in lang; scrolled to the list when
 * at_list is set, else at the top. Returns DIRTY_ flags. */
int tui_open_help(tui *t, lesson_lang lang, bool at_list);
/* Switches to registry o (its servers restart into it). Returns DIRTY_ flags. */
int tui_switch_registry(tui *t, const regopt *o);
/* The lab's part of a loop turn: reads its timeline, asks who leads. Returns DIRTY_ flags. */
int tui_lab_poll(tui *t, uint64_t now);
/* At quit: the lab ends (on the ops worker, stopped already: on this thread). */
void tui_lab_end(tui *t);
/* Closes the open lesson, if any. Returns DIRTY_ flags. */
int tui_close_lesson(tui *t);
/* The Sniff pane's part of a loop turn: a new snapshot when the model changed. Returns
 * DIRTY_ flags. */
int tui_sniff_poll(tui *t);
/* Moves the Sniff pane's selection delta calls (0: to the newest, followed). Returns
 * DIRTY_ flags. */
int tui_sniff_select(tui *t, int delta);
/* A mouse event from getch: selects a row or scrolls. Returns DIRTY_ flags. */
int tui_on_mouse(tui *t, const tui_screen *scr, const tui_view *v);

#endif
