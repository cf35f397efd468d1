/* test_i18n.c -- the language chosen from --lang and the environment, and --lang taken
 * out of a command line. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"

static void clear_env(void)
{
    unsetenv("LANGUAGE");
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANG");
}

Test(i18n, the_first_variable_set_decides)
{
    clear_env();
    cr_assert_eq(i18n_env_lang(), I18N_EN);
    setenv("LANG", "zh_CN.UTF-8", 1);
    cr_assert_eq(i18n_env_lang(), I18N_ZH);
    setenv("LC_ALL", "en_US.UTF-8", 1);
    cr_assert_eq(i18n_env_lang(), I18N_EN);
    setenv("LANGUAGE", "zh_TW:zh", 1);
    cr_assert_eq(i18n_env_lang(), I18N_ZH);
    setenv("LANGUAGE", "", 1);
    cr_assert_eq(i18n_env_lang(), I18N_EN, "an empty variable counts as unset");
}

Test(i18n, setup_takes_en_or_zh_only)
{
    clear_env();
    char err[128] = "";
    cr_assert_eq(i18n_setup("zh", err, sizeof err), 0);
    cr_assert_eq(i18n_current(), I18N_ZH);
    cr_assert_str_eq(getenv("LANGUAGE"), "zh", "children inherit the choice");
    cr_assert_eq(i18n_setup("fr", err, sizeof err), -1);
    cr_assert(strstr(err, "en or zh"), "%s", err);
    cr_assert_eq(i18n_current(), I18N_EN);
    setenv("LANG", "zh_CN.UTF-8", 1);
    unsetenv("LANGUAGE");
    cr_assert_eq(i18n_setup(NULL, err, sizeof err), 0);
    cr_assert_eq(i18n_current(), I18N_ZH);
}

Test(i18n, take_lang_removes_every_form)
{
    char *argv[] = {"workbench", "--lang", "zh", "call", "--lang=en", "x", "--", "--lang", "y", NULL};
    int argc = 9;
    const char *lang = i18n_take_lang(&argc, argv);
    cr_assert_str_eq(lang, "en", "the last one wins");
    cr_assert_eq(argc, 6);
    const char *want[] = {"workbench", "call", "x", "--", "--lang", "y"};
    for (int i = 0; i < argc; i++)
        cr_assert_str_eq(argv[i], want[i]);
    cr_assert_null(argv[argc]);

    char *bare[] = {"workbench", "--lang", NULL};
    argc = 2;
    cr_assert_str_eq(i18n_take_lang(&argc, bare), "");
    cr_assert_eq(argc, 1);
}
