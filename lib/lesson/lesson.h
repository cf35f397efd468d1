/* lesson.h -- lessons: plain-text scripts of explained, runnable, checked steps.
 *
 * A lesson file (lessons/NN-name.txt, format in lessons/README.md) has a header (number,
 * title, programs it needs, servers to start) and steps. Each step says something, runs
 * shell commands, tells the learner what to look at, and states what the output must
 * show. Every text exists in English and Chinese ("say:" and "say.zh:"). Commands and
 * checks that depend on the language the programs print in have Chinese twins too
 * ("run.zh:", "expect.zh:"), put in effect when the commands print Chinese.
 *
 * lesson_load parses; a lesson_run starts the lesson's servers, runs steps one at a time
 * (each under a deadline, output capped, background helpers stopped and reaped at the end
 * of the step) and checks their expectations. Both the terminal runner and the TUI use it. */
#ifndef WB_LESSON_H
#define WB_LESSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum lesson_lang { LANG_EN, LANG_ZH } lesson_lang;

typedef enum expect_kind { EXPECT_CONTAINS, EXPECT_LACKS, EXPECT_MATCHES, EXPECT_EXIT } expect_kind;

enum {
    LESSON_MAX_STEPS = 64,
    LESSON_MAX_LINES = 16,        /* run:, background:, expect: lines of one step; servers */
    LESSON_MAX_FILE = 256 << 10,  /* bytes of one lesson file */
    LESSON_MAX_OUTPUT = 64 << 10, /* bytes of a step's output kept */
    LESSON_DEFAULT_TIMEOUT_S = 20,
};

typedef struct lesson_expect {
    expect_kind kind;
    char *text;     /* CONTAINS, LACKS, MATCHES (a POSIX extended regex) */
    int status;     /* EXIT: the wanted exit status, -1 for any */
} lesson_expect;

/* A step's commands and checks as written for one language. */
typedef struct lesson_lines {
    char *run[LESSON_MAX_LINES];
    size_t nrun;
    lesson_expect expect[LESSON_MAX_LINES];
    size_t nexpect;
} lesson_lines;

typedef struct lesson_step {
    char *title[2];
    char *say[2];
    char *look[2];
    char *pane;             /* the TUI pane the step is about, or NULL */
    /* The commands and checks in effect (see lesson_use_lang): views of written[], which
     * owns them. */
    char *run[LESSON_MAX_LINES];
    size_t nrun;
    lesson_expect expect[LESSON_MAX_LINES];
    size_t nexpect;
    /* [LANG_EN] the "run:" and "expect:" lines, [LANG_ZH] their ".zh" twins (none when the
     * step's commands and checks are the same in every language) */
    lesson_lines written[2];
    char *background[LESSON_MAX_LINES];
    size_t nbackground;
    int timeout_s;
    int line; /* where the step starts in its file */
} lesson_step;

typedef struct lesson {
    char *path;
    int number;
    char *title[2];
    char *intro[2];
    char *needs[LESSON_MAX_LINES]; /* programs that must be on PATH, or "root" */
    size_t nneeds;
    char *server[LESSON_MAX_LINES]; /* "KIND [VAR] [ARGS...]" */
    size_t nserver;
    lesson_step step[LESSON_MAX_STEPS];
    size_t nstep;
} lesson;

/* Parses a lesson file, with the commands and checks in effect for the language the
 * commands will print in: this program's (lesson_locale_lang), which they inherit through
 * $LANGUAGE. Returns NULL with "FILE:LINE: reason" in err. */
lesson *lesson_load(const char *path, char *err, size_t errlen);
void lesson_free(lesson *l);
/* Puts in effect the commands and checks for output in lang: in Chinese a step's
 * "run.zh:" lines instead of all its "run:" lines, and its "expect.zh:" lines instead of
 * all its "expect:" lines, where it has them; the English ones otherwise. */
void lesson_use_lang(lesson *l, lesson_lang lang);
/* Checks that every title, say and look exists in both languages and that every step
 * has commands and an expectation. Returns 0, or -1 with the first gap in err. */
int lesson_validate(const lesson *l, char *err, size_t errlen);
/* The text in lang, or the English one when that is missing. */
const char *lesson_text(char *const text[2], lesson_lang lang);

/* The lesson files of dir (NN-*.txt), sorted by number. Returns how many were found
 * (at most max), each path heap-allocated into paths, or -1 with err. */
int lesson_list(const char *dir, char **paths, int max, char *err, size_t errlen);

/* Every lesson of a directory, parsed, sorted by number (lesson_catalog.c). */
enum { LESSON_CATALOG_MAX = 99 };
typedef struct lesson_catalog {
    lesson *l[LESSON_CATALOG_MAX];
    int n;
} lesson_catalog;

/* Loads every lesson file of dir into c (which it empties first). Returns 0, or -1 when
 * the directory cannot be read, holds no lesson file, or a file does not parse: err then
 * says so, one line per file that does not parse, and c holds the lessons that do. */
int lesson_catalog_load(lesson_catalog *c, const char *dir, char *err, size_t errlen);
void lesson_catalog_free(lesson_catalog *c);
/* Lesson number of c, or NULL; c keeps it. */
lesson *lesson_catalog_find(const lesson_catalog *c, int number);
/* Lesson number of dir, parsed (the caller frees it). Returns NULL with err when there is
 * none, or it does not parse. */
lesson *lesson_find(const char *dir, int number, char *err, size_t errlen);
/* The lessons directory: $WB_LESSONS, else lessons/ beside the bin/ this program runs
 * from, else ./lessons. */
int lesson_dir(char *dir, size_t n);
/* The language chosen by i18n_setup (--lang, or the locale; base/i18n.h). */
lesson_lang lesson_locale_lang(void);

/* One run of a lesson: its servers, its scratch directory, its variables. */
typedef struct lesson_run lesson_run;

typedef struct lesson_result {
    char *output;       /* everything the commands printed (capped), NUL-terminated */
    bool truncated;
    int status;         /* exit status of the commands, -1 when killed */
    bool timed_out;
    bool met[LESSON_MAX_LINES]; /* per expectation */
    bool ok;            /* every expectation met */
} lesson_result;

/* The word of "needs:" that asks for root rather than a program: the lab's network
 * namespaces, tried by making one in a child process. */
#define LESSON_NEEDS_ROOT "root"
/* Whether a program the lesson needs is missing, or root when it needs root; what says
 * which, for a SKIP line. */
bool lesson_missing(const lesson *l, char *what, size_t n);
/* Prepares a run: checks needs (a missing program fills skip with the reason and returns
 * NULL), makes the scratch directory, starts the servers. bindir holds the workbench's
 * programs. Returns NULL with err on failure, or with skip set for a missing program. */
lesson_run *lesson_run_new(const lesson *l, const char *bindir, char *skip, size_t skiplen, char *err,
                           size_t errlen);
/* A run that starts nothing, for reading a lesson that cannot run here: its variables
 * hold what the learner would use ($JSON the tutorial's 127.0.0.1:8080, $ETCD
 * etcd://127.0.0.1:2379, a pid as $(pgrep -f ADDR)), so no $VARIABLE is left unfilled.
 * lesson_run_step refuses to run its steps. Returns NULL only when out of memory. */
lesson_run *lesson_run_dry(const lesson *l, const char *bindir);
bool lesson_run_is_dry(const lesson_run *r);
/* Stops the servers (SIGTERM, then SIGKILL), reaps them, removes the scratch directory. */
void lesson_run_free(lesson_run *r);
/* The variable a header's "server: KIND" line sets when it names none ("json": "JSON",
 * "etcd": "ETCD"), or NULL for a kind there is not. */
const char *lesson_server_var(const char *kind);
/* text with the run's variables ($JSON, ${ETCD}, ...) replaced by their values, as the
 * learner would type it (r NULL: text as it is). Heap string, caller frees. */
char *lesson_expand(const lesson_run *r, const char *text);
/* Runs step i and checks it. Fills res (free with lesson_result_done). Returns 0, or -1
 * with err when the commands could not be started at all. */
int lesson_run_step(lesson_run *r, size_t i, lesson_result *res, char *err, size_t errlen);
void lesson_result_done(lesson_result *res);
/* Stops the step running in another thread as if its deadline had passed; later steps
 * of this run stop at once too. Safe from any thread. */
void lesson_run_cancel(lesson_run *r);
/* "contains 56", "exit status 0", ... into out. */
void lesson_expect_describe(const lesson_expect *e, lesson_lang lang, char *out, size_t n);

#endif
