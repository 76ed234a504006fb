/* test_cfgfile: the config front end's comment stripping -- a text worked out by hand, every
 * preset of configs/arch parsing to the same tree on the same lines with and without its comments,
 * and text the parse must see as it is (a NUL, an unterminated string or comment) left alone.
 */
#define _GNU_SOURCE /* open_memstream */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "testutil.h"

/* strip into a copy of text; returns the copy (caller frees) and its new length in *len. */
static char *stripped(const char *text, size_t *len)
{
    size_t n = strlen(text);
    char *s = malloc(n + 1);
    memcpy(s, text, n + 1);
    *len = cfgfile_strip_comments(s, n);
    return s;
}

START_TEST(test_cfgfile_strip_by_hand)
{
    const char *in = "# head\n"
                     "a = 1; // tail\n"
                     "b = \"x # y // z /* w */ \\\" q\"; # after a string\n"
                     "c = 2/* between */3;\n"
                     "/* two\n lines */ d = 4;\n"
                     "e = \"\\\\\"; #";
    const char *want = "\n"
                       "a = 1; \n"
                       "b = \"x # y // z /* w */ \\\" q\"; \n"
                       "c = 2 3;\n"
                       "\n d = 4;\n"
                       "e = \"\\\\\"; ";
    size_t len;
    char *s = stripped(in, &len);
    ck_assert_str_eq(s, want);
    ck_assert_uint_eq(len, strlen(want));
    free(s);
    /* Nothing to strip: the same text. */
    s = stripped("x = 1;\n", &len);
    ck_assert_str_eq(s, "x = 1;\n");
    ck_assert_uint_eq(len, 7);
    free(s);
}
END_TEST

START_TEST(test_cfgfile_strip_leaves_bad_text)
{
    const char *bad[] = {"a = \"open; # x\n", "a = 1; /* open\n", "a = 1; # x"};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *s = stripped(bad[i], &len);
        ck_assert_str_eq(s, bad[i]);
        ck_assert_uint_eq(len, strlen(bad[i]));
        free(s);
    }
    char nul[] = "a = 1; # x\0y\n";
    ck_assert_uint_eq(cfgfile_strip_comments(nul, sizeof nul - 1), sizeof nul - 1);
    ck_assert_int_eq(memcmp(nul, "a = 1; # x\0y\n", sizeof nul), 0);
}
END_TEST

/* Every setting of a and b alike: name, type, source line, and (through config_write) value. */
static void same_lines(const config_setting_t *a, const config_setting_t *b)
{
    ck_assert_int_eq(config_setting_type(a), config_setting_type(b));
    ck_assert_uint_eq(config_setting_source_line(a), config_setting_source_line(b));
    int n = config_setting_length(a);
    ck_assert_int_eq(n, config_setting_length(b));
    if (config_setting_is_aggregate(a))
        for (int i = 0; i < n; i++)
            same_lines(config_setting_get_elem(a, (unsigned)i),
                       config_setting_get_elem(b, (unsigned)i));
}

static char *written(config_t *cfg)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    config_write(cfg, f);
    fclose(f);
    return buf;
}

START_TEST(test_cfgfile_strip_same_tree)
{
    DIR *d = opendir(XBARSIM_SOURCE_DIR "/configs/arch");
    ck_assert_ptr_nonnull(d);
    unsigned files = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".cfg") != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/configs/arch/%s", XBARSIM_SOURCE_DIR, de->d_name);
        size_t len;
        char *text = cfgfile_read_text(path, &len);
        ck_assert_ptr_nonnull(text);
        err e;
        err_clear(&e);
        config_t a, b;
        ck_assert_int_eq(cfgfile_parse(text, len, path, XBARSIM_SOURCE_DIR "/configs/arch", &a, &e),
                         0);
        size_t slen = cfgfile_strip_comments(text, len);
        ck_assert_uint_lt(slen, len); /* every preset has comments */
        ck_assert_int_eq(
            cfgfile_parse(text, slen, path, XBARSIM_SOURCE_DIR "/configs/arch", &b, &e), 0);
        same_lines(config_root_setting(&a), config_root_setting(&b));
        char *wa = written(&a), *wb = written(&b);
        ck_assert_str_eq(wa, wb);
        free(wa);
        free(wb);
        config_destroy(&a);
        config_destroy(&b);
        free(text);
        files++;
    }
    closedir(d);
    ck_assert_uint_ge(files, 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cfgfile");
    TCase *tc = tcase_create("strip");
    tcase_add_test(tc, test_cfgfile_strip_by_hand);
    tcase_add_test(tc, test_cfgfile_strip_leaves_bad_text);
    tcase_add_test(tc, test_cfgfile_strip_same_tree);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
