/* accuracy_internal: what the accuracy backends' files share -- the ops table stored first in
 * every backend instance, the clock, and the policy check every evaluate starts with.
 * Invariant: a backend is reached only through its ops; nothing outside this room sees them.
 */
#ifndef XBARSIM_SEARCH_ACCURACY_INTERNAL_H
#define XBARSIM_SEARCH_ACCURACY_INTERNAL_H

#include "accuracy.h"

typedef struct acc_ops {
    acc_kind kind;
    int (*evaluate)(acc_backend *b, const network *n, const policy *p, const arch *a,
                    acc_result *out, err *e);
    void (*destroy)(acc_backend *b);
} acc_ops;

struct acc_backend {
    const acc_ops *ops;
};

/* The policy must fit the network before any backend reads it: layer count, bits in range.
 * 0, or ERR_INPUT naming the layer. */
int acc__check_policy(const network *n, const policy *p, const arch *a, err *e);

#endif
