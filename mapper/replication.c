/* replication: per-layer copy counts from a shorthand or a file (see replication.h). */
#include "replication.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "layertab.h"
#include "mem.h"

#define NAME_BYTES 256

static int check_copies(const char *where, const network *n, unsigned xi, long k, err *e)
{
    const network_layer *l = &n->layers[n->xbar[xi]];
    if (k < 1 || (unsigned long)k > l->xbar.vectors)
        return err_set(e, ERR_INPUT,
                       "%s: layer \"%s\": copies: found %ld, expected 1..%llu (its input vectors "
                       "per inference)",
                       where, l->name, k, (unsigned long long)l->xbar.vectors);
    return 0;
}

/* "NAME=K,NAME=K": 1 parsed, 0 not this form, negative: malformed. */
static int parse_pairs(const char *spec, const network *n, unsigned *copies, err *e)
{
    if (!strchr(spec, '='))
        return 0;
    bool *seen = mem_calloc(n->n_xbar, sizeof *seen, "replication marks");
    int rc = 1;
    for (const char *s = spec; rc == 1 && *s;) {
        const char *eq = strchr(s, '=');
        const char *comma = strchr(s, ',');
        if (!eq || (comma && comma < eq) || eq == s || (size_t)(eq - s) >= NAME_BYTES) {
            rc = err_set(e, ERR_INPUT, "replication \"%s\": expected NAME=COPIES[,NAME=COPIES...]",
                         spec);
            break;
        }
        char name[NAME_BYTES];
        memcpy(name, s, (size_t)(eq - s));
        name[eq - s] = '\0';
        char *end;
        errno = 0;
        long k = strtol(eq + 1, &end, 10);
        if (end == eq + 1 || (*end != ',' && *end != '\0') || errno) {
            const char *comma_at = strchr(eq + 1, ',');
            int len = comma_at ? (int)(comma_at - (eq + 1)) : (int)strlen(eq + 1);
            rc = err_set(e, ERR_INPUT,
                         "replication \"%s\": %s: found \"%.*s\", expected an integer copy count",
                         spec, name, len > 40 ? 40 : len, eq + 1);
            break;
        }
        int li = network_find_layer(n, name);
        if (li < 0 || n->layers[li].xbar_index < 0) {
            rc = err_set(e, ERR_INPUT,
                         "replication \"%s\": layer: found \"%s\", expected a crossbar layer of %s",
                         spec, name, n->name);
            break;
        }
        unsigned xi = (unsigned)n->layers[li].xbar_index;
        if (seen[xi]) {
            rc = err_set(e, ERR_INPUT, "replication \"%s\": layer \"%s\" is given twice", spec,
                         name);
            break;
        }
        seen[xi] = true;
        char where[NAME_BYTES];
        snprintf(where, sizeof where, "replication \"%.200s\"", spec);
        if (check_copies(where, n, xi, k, e) < 0) {
            rc = ERR_INPUT;
            break;
        }
        copies[xi] = (unsigned)k;
        s = *end ? end + 1 : end;
    }
    free(seen);
    return rc;
}

static const layertab_col replication_cols[] = {
    {.name = "copies", .lo = 1, .hi = 0x7fffffffL, .required = true},
};

int replication_from_spec(const char *spec, const network *n, unsigned **copies, err *e)
{
    unsigned *c = mem_alloc(n->n_xbar * sizeof *c, "replication");
    for (unsigned i = 0; i < n->n_xbar; i++)
        c[i] = 1;
    int rc = 0;
    FILE *f = fopen(spec, "r");
    bool is_file = f != NULL;
    if (f)
        fclose(f);
    if (strcmp(spec, "none") == 0) {
        rc = 0;
    } else if (!is_file && strchr(spec, '=')) {
        rc = parse_pairs(spec, n, c, e);
    } else {
        layertab t;
        rc = layertab_read(spec, "replication", replication_cols, 1, n, &t, e);
        if (rc == 0) {
            for (unsigned i = 0; rc == 0 && i < t.n; i++) {
                char where[600];
                snprintf(where, sizeof where, "%s:%u", spec, t.rows[i].line);
                rc = check_copies(where, n, t.rows[i].xbar, t.rows[i].v[0], e);
                c[t.rows[i].xbar] = (unsigned)t.rows[i].v[0];
            }
            layertab_fini(&t);
        }
    }
    if (rc < 0) {
        free(c);
        return rc;
    }
    *copies = c;
    return 0;
}

void replication_write_csv(const unsigned *copies, const network *n, FILE *out)
{
    fprintf(out, "layer,copies\n");
    for (unsigned i = 0; i < n->n_xbar; i++)
        fprintf(out, "%s,%u\n", n->layers[n->xbar[i]].name, copies[i]);
}
