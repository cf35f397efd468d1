/* i18n.h -- the learner's language: English, or Chinese from GNU gettext's catalog.
 *
 * Text a learner reads is written in English in the code and marked _("...") (or N_()
 * where it must stay a constant); po/zh.po holds its Chinese, which msgfmt compiles to
 * bin/locale/zh/LC_MESSAGES/workbench.mo beside the programs. English is the default;
 * --lang zh, or a Chinese locale (LANG=zh_CN.UTF-8 and the like), picks Chinese even on a
 * machine that has no Chinese locale installed. */
#ifndef WB_I18N_H
#define WB_I18N_H

#include <libintl.h>
#include <stddef.h>

#define _(text) gettext(text)
#define N_(text) text

typedef enum i18n_lang { I18N_EN, I18N_ZH } i18n_lang;

/* The language the environment asks for: Chinese when the first of $LANGUAGE, $LC_ALL,
 * $LC_MESSAGES and $LANG that is set starts with "zh", else English. */
i18n_lang i18n_env_lang(void);

/* Sets the locale from the environment (C.UTF-8 when it names one not installed, and for
 * LC_CTYPE when the environment's is not UTF-8, so wide characters decode), then
 * the language: lang "en" or "zh", or NULL for i18n_env_lang's choice. The catalog is
 * looked for in $WB_LOCALEDIR, else in locale/ beside the executable. Call it once, early,
 * before other threads start. Returns 0, or -1 with a reason in err when lang is not "en"
 * or "zh" (English is set up then). */
int i18n_setup(const char *lang, char *err, size_t errlen);

/* The language set up (English before i18n_setup, and after i18n_serve_english). */
i18n_lang i18n_current(void);

/* From now on every text is English: for a server once it serves, whose log is the
 * operator's and whose replies are the protocol's. Safe while other threads run: it only
 * moves gettext to a domain with no catalog (glibc locks the domain's state). */
void i18n_serve_english(void);

/* Removes every "--lang VALUE" and "--lang=VALUE" from argv (shifting the rest down, and
 * *argc with them) and returns the last VALUE, or NULL when there is none. A "--lang" with
 * no value after it is returned as "" and removed. Arguments after "--" are left alone. */
const char *i18n_take_lang(int *argc, char **argv);

#endif
