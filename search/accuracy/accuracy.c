/* accuracy: the registry of accuracy backends and what every backend shares (see accuracy.h for
 * the proxy's model). One row per backend -- its name and its factory -- generated from
 * ACC_BACKEND_MAP; each backend is its own file (acc_<stem>.c) with its ops table stored first in
 * its instance. Invariant: nothing here names a backend; adding one is its file and one X row.
 */
#include "accuracy.h"

#include <assert.h>
#include <string.h>

#include "accuracy_internal.h"

typedef int (*acc_create_fn)(const acc_config *c, acc_backend **out, err *e);

/* Each backend's factory from the whole config: acc_<stem>_create on its own member. */
#define ACC_FACTORY(id, stem, name)                                                                \
    static int stem##_factory(const acc_config *c, acc_backend **out, err *e)                      \
    {                                                                                              \
        return acc_##stem##_create(&c->stem, out, e);                                              \
    }
ACC_BACKEND_MAP(ACC_FACTORY)
#undef ACC_FACTORY

static const struct {
    const char *name;     /* config and command-line name */
    acc_create_fn create; /* its factory */
} backends[ACC_BACKEND_COUNT] = {
#define ACC_ROW(id, stem, name) [ACC_BACKEND_##id] = {name, stem##_factory},
    ACC_BACKEND_MAP(ACC_ROW)
#undef ACC_ROW
};

const char *acc_kind_name(acc_kind k)
{
    assert(k < ACC_BACKEND_COUNT);
    return backends[k].name;
}

int acc_kind_parse(const char *name, acc_kind *out)
{
    for (int i = 0; i < ACC_BACKEND_COUNT; i++)
        if (strcmp(name, backends[i].name) == 0) {
            *out = (acc_kind)i;
            return 0;
        }
    return -1;
}

err_names acc_kind_names(void)
{
    const char *names[ACC_BACKEND_COUNT];
    for (int i = 0; i < ACC_BACKEND_COUNT; i++)
        names[i] = backends[i].name;
    return err_names_join(names, ACC_BACKEND_COUNT);
}

int acc_create(acc_kind k, const acc_config *c, acc_backend **out, err *e)
{
    assert(k < ACC_BACKEND_COUNT);
    return backends[k].create(c, out, e);
}

acc_kind acc_backend_kind(const acc_backend *b)
{
    return b->ops->kind;
}

const char *acc_backend_name(const acc_backend *b)
{
    return acc_kind_name(b->ops->kind);
}

int acc_evaluate(acc_backend *b, const network *n, const policy *p, const arch *a, acc_result *out,
                 err *e)
{
    return b->ops->evaluate(b, n, p, a, out, e);
}

void acc_destroy(acc_backend *b)
{
    if (b)
        b->ops->destroy(b);
}

int acc__check_policy(const network *n, const policy *p, const arch *a, err *e)
{
    if (p->n != n->n_xbar)
        return err_set(e, ERR_INPUT,
                       "accuracy: policy: found %u layers, expected %u (the crossbar layers of %s)",
                       p->n, n->n_xbar, n->name);
    for (unsigned i = 0; i < p->n; i++) {
        const policy_layer *l = &p->layers[i];
        unsigned adc = policy_adc_bits(p, a, i);
        if (l->wb < 1 || l->wb > POLICY_MAX_BITS || l->ab < 1 || l->ab > POLICY_MAX_BITS ||
            adc < 1 || adc > ARCH_MAX_ADC_BITS)
            return err_set(e, ERR_INPUT,
                           "accuracy: policy: layer \"%s\": found wb %u, ab %u, adc_bits %u, "
                           "expected wb and ab in 1..%d and adc_bits in 1..%d",
                           n->layers[n->xbar[i]].name, l->wb, l->ab, adc, POLICY_MAX_BITS,
                           ARCH_MAX_ADC_BITS);
    }
    return 0;
}
