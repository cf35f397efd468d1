/* i18n.c -- choosing the language and binding the gettext catalog. */
#include "base/i18n.h"

#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bindir.h"
#include "base/err.h"

#define I18N_DOMAIN "workbench"

static _Atomic i18n_lang current = I18N_EN;

i18n_lang i18n_env_lang(void)
{
    static const char *const names[] = {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return strncmp(v, "zh", 2) == 0 ? I18N_ZH : I18N_EN;
    }
    return I18N_EN;
}

/* gettext translates nothing while LC_MESSAGES is "C" or "POSIX"; C.UTF-8 is built into
 * glibc, so it is there even where no other locale was generated. */
static void set_locale(void)
{
    if (!setlocale(LC_ALL, ""))
        setlocale(LC_ALL, "C.UTF-8");
    const char *msgs = setlocale(LC_MESSAGES, NULL);
    if (!msgs || strcmp(msgs, "C") == 0 || strcmp(msgs, "POSIX") == 0)
        setlocale(LC_MESSAGES, "C.UTF-8");
    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        setlocale(LC_CTYPE, "C.UTF-8"); /* the text is UTF-8, and wcwidth must know a hanzi */
}

static void bind_catalog(void)
{
    char dir[PATH_MAX];
    const char *env = getenv("WB_LOCALEDIR");
    if (env && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else if (bindir_get(dir, sizeof dir - 8) == 0)
        strcat(dir, "/locale");
    else
        snprintf(dir, sizeof dir, "locale");
    bindtextdomain(I18N_DOMAIN, dir);
    bind_textdomain_codeset(I18N_DOMAIN, "UTF-8");
    textdomain(I18N_DOMAIN);
}

int i18n_setup(const char *lang, char *err, size_t errlen)
{
    int rc = 0;
    i18n_lang want = i18n_env_lang();
    if (lang && strcmp(lang, "zh") == 0)
        want = I18N_ZH;
    else if (lang && strcmp(lang, "en") == 0)
        want = I18N_EN;
    else if (lang) {
        err_set(err, errlen, "--lang takes en or zh, not \"%s\"", lang);
        want = I18N_EN;
        rc = -1;
    }
    set_locale();
    /* $LANGUAGE outranks the locale in gettext's choice of catalog. */
    setenv("LANGUAGE", want == I18N_ZH ? "zh" : "en", 1);
    bind_catalog();
    current = want;
    return rc;
}

i18n_lang i18n_current(void)
{
    return current;
}

void i18n_serve_english(void)
{
    textdomain(I18N_DOMAIN "-untranslated");
    current = I18N_EN;
}

const char *i18n_take_lang(int *argc, char **argv)
{
    const char *lang = NULL;
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--lang") == 0) {
            lang = i + 1 < *argc ? argv[++i] : "";
            continue;
        }
        if (strncmp(argv[i], "--lang=", 7) == 0) {
            lang = argv[i] + 7;
            continue;
        }
        argv[out++] = argv[i];
    }
    if (out < *argc)
        argv[out] = NULL;
    *argc = out;
    return lang;
}
