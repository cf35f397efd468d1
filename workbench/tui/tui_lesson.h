/* tui_lesson.h -- a lesson inside the TUI (`:lesson N`): its steps run on a worker thread,
 * so the panes keep moving while a step's commands run; the main thread draws from a
 * snapshot it takes when something changed. */
#ifndef WB_TUI_LESSON_H
#define WB_TUI_LESSON_H

#include <stdbool.h>
#include <stddef.h>

#include "lesson/lesson.h"
#include "registry/registry.h"

typedef enum lesson_phase {
    PHASE_STARTING, /* starting the lesson's servers */
    PHASE_RUNNING,  /* a step's commands are running */
    PHASE_SHOWN,    /* a step's result is on screen, waiting for the learner */
    PHASE_SKIPPED,  /* something it needs is not installed (why says what) */
    PHASE_FAILED,   /* could not start (why says why) */
} lesson_phase;

typedef struct tui_lesson tui_lesson;

enum { TUI_LESSON_MAX_REG = 32 }; /* registry entries a view keeps */

typedef enum lesson_proc_state { PROC_RUNNING, PROC_STOPPED, PROC_GONE } lesson_proc_state;

/* One server of the lesson's header, as the lesson started it. */
typedef struct tui_lesson_server {
    char kind[8];  /* json, gob, grpc, user, order, gateway, etcd, consul */
    char name[24]; /* the variable that holds its address: J1, JSON, ETCD_ADDR */
    char addr[64];
    int pid;       /* 0: not known */
    lesson_proc_state state;
} tui_lesson_server;

/* What the lesson pane draws; strings are owned by the snapshot (tui_lesson_view_done). */
typedef struct tui_lesson_view {
    const lesson *l;    /* valid until tui_lesson_close */
    lesson_lang lang;
    size_t step;        /* 0-based */
    lesson_phase phase;
    char *commands;     /* the step's commands as the learner would type them */
    char *say, *look;   /* the step's texts in lang, variables filled in */
    char *output;
    bool met[LESSON_MAX_LINES];
    bool ok;
    bool finished;      /* the learner went past the last step */
    char why[512];
    /* the lesson's own servers and registry, once they are up (mine: the panes show them) */
    bool mine;
    tui_lesson_server server[LESSON_MAX_LINES];
    size_t nserver;
    char registry[128];  /* its etcd's or Consul's address ("etcd 127.0.0.1:PORT"), "" for none */
    bool reg_ok;         /* the last listing worked */
    registry_instance reg[TUI_LESSON_MAX_REG];
    size_t nreg, reg_total;
} tui_lesson_view;

/* One lesson of the list the help shows (:lesson), as text. */
typedef struct tui_lesson_item {
    int number;
    char title[200]; /* in the list's language */
    char why[300];   /* "(cannot run: curl is not installed)", "" when it can run here */
} tui_lesson_item;

/* The lessons of the lessons directory, by number, into items (at most max), titles in
 * lang. Returns how many; err says what could not be read, "" when everything could. */
size_t tui_lesson_list(tui_lesson_item *items, size_t max, lesson_lang lang, char *err, size_t errlen);

/* Finds lesson number in the lessons directory and starts it (its servers start on the
 * worker). Returns NULL with a reason in err. */
tui_lesson *tui_lesson_open(int number, lesson_lang lang, char *err, size_t errlen);
/* Stops a running step and tells the worker to stop the lesson's servers and free t; it
 * returns at once (t is gone for the caller). Accepts NULL. */
void tui_lesson_close(tui_lesson *t);
/* Waits at most timeout_ms for closed lessons to finish stopping their servers: before
 * the program exits. */
void tui_lesson_wait_closed(int timeout_ms);

typedef enum lesson_move { LESSON_NEXT, LESSON_BACK, LESSON_AGAIN } lesson_move;
/* Runs the next or previous step, or this one again; ignored while a step runs. */
void tui_lesson_move(tui_lesson *t, lesson_move move);
/* Whether the view changed since the last snapshot. */
bool tui_lesson_changed(tui_lesson *t);
void tui_lesson_view_get(tui_lesson *t, tui_lesson_view *v);
void tui_lesson_view_done(tui_lesson_view *v);
/* The pane the current step is about ("wire", ...), or NULL. */
const char *tui_lesson_pane(tui_lesson *t);

#endif
