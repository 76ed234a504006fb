/* cmd_info: the `xbarsim info` command -- an architecture (preset or file) loaded, checked and
 * printed with units, then its derived figures (cost_print_derived). With --json the same lines
 * as one JSON object. Exit status: 0 printed, 2 bad input or usage.
 */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cli.h"
#include "cost.h"
#include "jsonw.h"
#include "mem.h"
#include "opt.h"

typedef struct info_opts {
    const char *set[CLI_MAX_SETS]; /* --set PATH=VALUE */
    unsigned n_set;
    bool json;
} info_opts;

static const opt_spec info_table[] = {
    OPT_LIST("--set", "PATH=VALUE", info_opts, set, n_set, CLI_SET_HELP),
    OPT_FLAG("--json", info_opts, json,
             "one JSON object: \"origin\" and \"settings\", each line's path with its\n"
             "\"value\" (the first word: a number, true/false or a string) and \"text\"\n"
             "(the whole line after '=', with the unit)"),
};

static const opt_command info_command = {
    .name = "info",
    .args = "ARCH.cfg|PRESET",
    .args_min = 1,
    .args_max = 1,
    .about = "Load the `arch` group of ARCH.cfg (libconfig; schema in configs/arch/README.md),\n"
             "or a preset by name, check it, and print every setting with its unit followed\n"
             "by derived figures: bits stored, the time of one 256-row VMM at 8-bit input,\n"
             "the peak at arch.peak_bits (weights per tile, VMM time and energy by part, MAC/s,\n"
             "op/s = 2 per MAC, power = the tiles' dynamic power at that rate + every part's\n"
             "static power, GOPS/W, GOPS/s/mm2), the chip area and the static power by part.\n"
             "Presets: lrmp, chang2022, cimaq, puma, isaac, lrmp_milo2021 (configs/arch/).\n",
    .opts = info_table,
    .n_opts = OPT_COUNT(info_table),
};

/* The first word of a printed value: a quoted string, or up to the first blank. */
static void first_word(const char *text, char *buf, size_t size)
{
    if (text[0] == '"') {
        const char *end = strchr(text + 1, '"');
        snprintf(buf, size, "%.*s", end ? (int)(end - text - 1) : (int)strlen(text + 1), text + 1);
        return;
    }
    snprintf(buf, size, "%.*s", (int)strcspn(text, " "), text);
}

static void json_value(jsonw *w, const char *text)
{
    char word[256];
    first_word(text, word, sizeof word);
    char *end;
    double v = strtod(word, &end);
    if (text[0] != '"' && word[0] && !*end)
        jsonw_num(w, "value", v);
    else if (text[0] != '"' && (strcmp(word, "true") == 0 || strcmp(word, "false") == 0))
        jsonw_bool(w, "value", word[0] == 't');
    else
        jsonw_str(w, "value", word);
}

/* The printed lines ("path = text"; comments left out) as JSON. */
static void print_json(const arch *a, const char *lines)
{
    jsonw w;
    jsonw_begin(&w, stdout);
    jsonw_object(&w, NULL);
    jsonw_str(&w, "origin", a->origin ? a->origin : "(unknown)");
    jsonw_object(&w, "settings");
    for (const char *l = lines; *l;) {
        size_t n = strcspn(l, "\n");
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)n, l);
        l += n + (l[n] == '\n');
        char *eq = strstr(line, " = ");
        if (line[0] != '#' && eq) {
            *eq = '\0';
            jsonw_object(&w, line);
            json_value(&w, eq + 3);
            jsonw_str(&w, "text", eq + 3);
            jsonw_close(&w);
        }
    }
    jsonw_close(&w);
    jsonw_close(&w);
    jsonw_end(&w);
}

int cmd_info(int argc, char **argv)
{
    info_opts o = {0};
    const char *name;
    int rc = opt_parse_arg(&info_command, argc, argv, &o, &name);
    if (rc != OPT_GO)
        return rc;
    arch a;
    err e;
    err_clear(&e);
    if (cli_load_arch(name, NULL, o.set, o.n_set, &a, &e) < 0) {
        fprintf(stderr, "xbarsim info: %s\n", e.msg);
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = o.json ? open_memstream(&text, &len) : stdout;
    if (!f)
        mem_oom(0, "info text");
    arch_print(&a, f);
    cost_print_derived(&a, f);
    if (o.json) {
        fclose(f);
        print_json(&a, text);
        free(text);
    }
    arch_fini(&a);
    return 0;
}
