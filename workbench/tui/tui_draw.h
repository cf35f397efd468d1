/* tui_draw.h -- draws the TUI's panes from the model with ncurses; knows nothing of keys
 * or threads. Each pane is a window; only dirty panes are drawn, then one doupdate. */
#ifndef WB_TUI_DRAW_H
#define WB_TUI_DRAW_H

#include <stdbool.h>
#include <stddef.h>

#include <curses.h>

#include "proc/supervisor.h"
#include "tui_cmdline.h"
#include "tui_lab.h"
#include "tui_lesson.h"
#include "tui_model.h"
#include "tui_sniff.h"
#include "tui_wire.h"

enum { TUI_MIN_COLS = 60, TUI_MIN_ROWS = 16, TUI_LESSON_SIDE_COLS = 120 };
enum { TUI_HELP_LESSONS = -1 }; /* a help_scroll: the help scrolled to its lessons */

/* One line of the help screen and, when bar is set, one hint of the status bar. */
typedef struct tui_key_help {
    const char *label; /* "j", "↑", "+" */
    const char *bar;   /* status bar hint, e.g. "j/b/c spawn"; NULL: not in the bar */
    const char *help;  /* help screen line */
} tui_key_help;

/* A server on its way up: a new one (id 0) or instance id restarting. */
typedef struct tui_starting {
    int id;
    char kind[8]; /* as the Instances pane's first column says it: json, gob, grpc, order... */
} tui_starting;

/* What an instance is, in at most 5 columns: its protocol, or its service program
 * ("order", "user", "gw"). */
const char *tui_instance_kind(const instance *in);

/* What drawing needs; the main loop fills it. */
typedef struct tui_view {
    const tui_model *m;
    const supervisor *sup;
    int selected;            /* index into the supervisor's instances, -1: none */
    const char *message;     /* the result of the last action, shown on the status line
                              * instead of the key hints; "" for none */
    const tui_cmdline *cmd;  /* the ':' line, drawn on the status line while active */
    const tui_wire *wire;    /* the Wire pane's model, drawn when the layout has the pane */
    const tui_sniff_view *sniff; /* the Sniff pane's snapshot, drawn when the layout has it */
    const char *sniff_err;   /* why the last :sniff or :replay could not start, or "" */
    const tui_starting *starting; /* servers being started, shown as "starting" */
    size_t nstarting;
    bool is_static;          /* no registry: the load calls the instances alive */
    int tl_scroll;           /* Timeline lines scrolled back from the newest */
    const char *service;
    const char *registry;    /* e.g. "etcd 127.0.0.1:2379" */
    const char *load_desc;   /* e.g. "Arith.Multiply {\"A\":7,\"B\":8}" */
    const tui_lesson_view *lesson; /* the open lesson's step, NULL for none */
    int *lesson_scroll;      /* rows of its pane scrolled past; drawing keeps it in range */
    bool help;
    int *help_scroll;        /* lines of the help scrolled past; drawing keeps it in range,
                              * and turns TUI_HELP_LESSONS into the lessons' first line */
    const tui_lesson_item *lessons; /* the help's list of lessons (:lesson) */
    size_t nlessons;
    const char *lessons_err; /* what of the lessons could not be read, "" for nothing */
    const tui_key_help *keys;
    size_t nkeys;
    bool hosts;                     /* the :hosts view instead of the panes */
    const tui_lab_info *lab;        /* lab->n 0: no lab */
    const tui_lab_leader *lab_leader;
    int64_t detect_ms;              /* the last fault's detection time; -1: none */
    const char *detect_fault;
} tui_view;

typedef struct tui_screen {
    WINDOW *title, *inst, *traffic, *reg, *timeline, *status, *help;
    WINDOW *wire; /* instead of the other panes while the Wire pane is shown */
    WINDOW *sniff; /* instead of them while the Sniff pane is (and the Wire pane is not) */
    WINDOW *lesson; /* beside the others (wide) or below the step's pane (narrow) */
    char focus[16]; /* the pane the lesson's step is about, marked in its title */
    bool small; /* the terminal is below TUI_MIN_COLS x TUI_MIN_ROWS: help says so */
    bool color, utf8;
    int timeline_shown; /* events the Timeline showed at its last drawing: a page of it */
    int inst_first, inst_shown; /* the instances (supervisor_instances' indexes) on the
                                   Instances pane at its last drawing */
} tui_screen;

/* Sets up colours (none when NO_COLOR is set or the terminal has none; default
 * background when it can) after initscr. */
void tui_draw_init(tui_screen *s);
/* What the screen is cut into: the help screen, the Wire pane (with title and status), the
 * Sniff pane, or the usual panes. With lesson, a lesson pane too: on the right from TUI_LESSON_SIDE_COLS
 * columns, else below only the pane named by focus (instances, traffic, registry,
 * timeline; NULL or "" for instances). The Instances and Traffic panes grow to show ninst
 * and ntraffic rows, taking rows from the Registry and Timeline down to a few. */
typedef struct tui_layout {
    bool help, wire, sniff, lesson;
    const char *focus;
    int ninst, ntraffic;
} tui_layout;

/* (Re)makes the windows for the terminal's current size as l says. */
void tui_draw_layout(tui_screen *s, const tui_layout *l);
/* Draws the panes named by dirty (DIRTY_*), then updates the terminal once. */
void tui_draw(tui_screen *s, const tui_view *v, int dirty);
/* The index (into the supervisor's instances) of the Instances row at screen
 * position y,x, or -1 when there is none there. */
int tui_draw_instance_at(const tui_screen *s, const tui_view *v, int y, int x);
/* Deletes the windows (not endwin). Accepts a zeroed screen. */
void tui_draw_done(tui_screen *s);

#endif
