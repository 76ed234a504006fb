/* weights: reads and writes the weights file with the HDF5 C API (writing through h5file, so the
 * file appears only when complete). Reading checks every shape before copying anything.
 */
#include "weights.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define PATH_BYTES 512

static const char *const bn_names[4] = {"bn_weight", "bn_bias", "bn_running_mean",
                                        "bn_running_var"};

/* Whether the network has batch-norm layers that f has folded (1) or not (0). */
static unsigned folded(const fnet *f)
{
    const network *n = fnet_network(f);
    fnet *mf = (fnet *)f; /* read only: the accessors are not const */
    for (unsigned k = 0; k < n->n_xbar; k++) {
        const network_layer *l = &n->layers[n->xbar[k]];
        float *a, *b, *c, *d;
        if (l->kind == NETWORK_KIND_CONV2D && l->conv.batch_norm &&
            fnet_batch_norm(mf, k, &a, &b, &c, &d) == 0)
            return 1;
    }
    return 0;
}

/* PyTorch's shape of crossbar layer k: out x in (linear) or out x in x kh x kw (conv2d). */
static unsigned torch_shape(const fnet *f, unsigned k, uint64_t *dims)
{
    const network *n = fnet_network(f);
    const network_layer *l = &n->layers[n->xbar[k]];
    if (l->kind == NETWORK_KIND_CONV2D) {
        dims[0] = l->conv.out_channels;
        dims[1] = l->conv.in_channels / l->conv.groups;
        dims[2] = l->conv.kernel_h;
        dims[3] = l->conv.kernel_w;
        return 4;
    }
    dims[0] = l->linear.out_features;
    dims[1] = l->linear.in_features;
    return 2;
}

static void shape_text(const uint64_t *dims, unsigned nd, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < nd && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%llu", i ? "x" : "",
                                 (unsigned long long)dims[i]);
}

int weights_write(h5file *h, const fnet *f, const weights_meta *m, err *e)
{
    const network *n = fnet_network(f);
    ERR_TRY(h5file_group(h, "/meta", e));
    ERR_TRY(h5file_attr_str(h, "/meta", "format", WEIGHTS_FORMAT, e));
    ERR_TRY(h5file_attr_u64(h, "/meta", "format_version", WEIGHTS_FORMAT_VERSION, e));
    ERR_TRY(h5file_attr_str(h, "/meta", "network", n->name, e));
    ERR_TRY(h5file_attr_str(h, "/meta", "source", m->source ? m->source : "xbarsim", e));
    ERR_TRY(h5file_attr_f64(h, "/meta", "test_accuracy", m->test_accuracy, e));
    ERR_TRY(h5file_attr_u64(h, "/meta", "epochs", m->epochs, e));
    ERR_TRY(h5file_attr_u64(h, "/meta", "finetune_epochs", m->finetune_epochs, e));
    ERR_TRY(h5file_attr_str(h, "/meta", "policy", m->policy ? m->policy : "", e));
    ERR_TRY(h5file_attr_u64(h, "/meta", "batch", m->batch, e));
    ERR_TRY(h5file_attr_f64(h, "/meta", "lr", m->lr, e));
    ERR_TRY(h5file_attr_u64(h, "/meta", "train_images", m->train_images, e));
    ERR_TRY(h5file_attr_u64(h, "/meta", "batch_norm_folded", folded(f), e));
    ERR_TRY(h5file_group(h, "/layers", e));
    fnet *mf = (fnet *)f; /* read only: the accessors are not const */
    for (unsigned k = 0; k < n->n_xbar; k++) {
        const char *name = n->layers[n->xbar[k]].name;
        char path[PATH_BYTES];
        uint64_t dims[4];
        unsigned nd = torch_shape(f, k, dims);
        size_t count;
        const float *w = fnet_weight(mf, k, &count);
        snprintf(path, sizeof path, "/layers/%s/weight", name);
        ERR_TRY(h5file_array_f32(h, path, w, dims, nd, "-", e));
        const float *b = fnet_bias(mf, k, &count);
        uint64_t bd[1] = {count};
        snprintf(path, sizeof path, "/layers/%s/bias", name);
        ERR_TRY(h5file_array_f32(h, path, b, bd, 1, "-", e));
        float *bn[4];
        bd[0] = fnet_batch_norm(mf, k, &bn[0], &bn[1], &bn[2], &bn[3]);
        for (unsigned j = 0; bd[0] && j < 4; j++) {
            snprintf(path, sizeof path, "/layers/%s/%s", name, bn_names[j]);
            ERR_TRY(h5file_array_f32(h, path, bn[j], bd, 1, "-", e));
        }
    }
    return 0;
}

/* The attribute name of /meta when it holds exactly one element, else H5I_INVALID_HID (absent, or a
 * corrupt file's array: reading it whole would overrun a one-element buffer). */
static hid_t meta_open(hid_t file, const char *name)
{
    if (H5Aexists_by_name(file, "/meta", name, H5P_DEFAULT) <= 0)
        return H5I_INVALID_HID;
    hid_t a = H5Aopen_by_name(file, "/meta", name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        return H5I_INVALID_HID;
    hid_t s = H5Aget_space(a);
    hssize_t points = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    if (s >= 0)
        H5Sclose(s);
    if (points != 1) {
        H5Aclose(a);
        return H5I_INVALID_HID;
    }
    return a;
}

/* The longest fixed-length string attribute read (bytes); a longer one is not xbarsim's. */
#define META_STR_MAX 4096

/* A string attribute of /meta into buf ("" when absent or not one string of at most
 * META_STR_MAX bytes). */
static void meta_str(hid_t file, const char *name, char *buf, size_t cap)
{
    buf[0] = '\0';
    hid_t a = meta_open(file, name);
    hid_t t = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
        hid_t mt = H5Tcopy(t);
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            if (H5Aread(a, mt, &s) >= 0 && s) {
                snprintf(buf, cap, "%s", s);
                H5free_memory(s);
            }
        } else if (H5Tget_size(t) <= META_STR_MAX) {
            size_t size = H5Tget_size(t);
            char *s = mem_calloc(size + 1, 1, "weights attribute");
            if (H5Aread(a, mt, s) >= 0)
                snprintf(buf, cap, "%s", s);
            free(s);
        }
        H5Tclose(mt);
    }
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
}

static double meta_f64(hid_t file, const char *name, double absent)
{
    hid_t a = meta_open(file, name);
    double v = absent;
    if (a >= 0 && H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
        v = absent;
    if (a >= 0)
        H5Aclose(a);
    return v;
}

/* Read the float dataset at path of exactly dims (nd) into out. */
static int read_array(hid_t file, const char *fpath, const char *path, const uint64_t *dims,
                      unsigned nd, const char *layer, const char *net, float *out, err *e)
{
    char want[64], got[64];
    shape_text(dims, nd, want, sizeof want);
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) {
        H5Eclear2(H5E_DEFAULT);
        return err_set(e, ERR_INPUT,
                       "%s: found no dataset %s, expected one of shape %s (layer \"%s\" of %s)",
                       fpath, path, want, layer, net);
    }
    hid_t s = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(s);
    hsize_t hd[8] = {0};
    uint64_t have[8] = {0};
    bool same = rank == (int)nd;
    if (rank > 0 && rank <= 8) {
        H5Sget_simple_extent_dims(s, hd, NULL);
        for (int i = 0; i < rank; i++) {
            have[i] = hd[i];
            same = same && (i >= (int)nd || have[i] == dims[i]);
        }
    }
    H5Sclose(s);
    int rc = 0;
    if (!same) {
        shape_text(have, rank > 0 && rank <= 8 ? (unsigned)rank : 0, got, sizeof got);
        rc = err_set(e, ERR_INPUT, "%s: %s: found shape %s, expected %s (layer \"%s\" of %s)",
                     fpath, path, rank == 0 ? "(scalar)" : got, want, layer, net);
    } else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        H5Eclear2(H5E_DEFAULT);
        rc = err_set(e, ERR_INPUT, "%s: %s: cannot read it as float numbers", fpath, path);
    } else {
        /* A NaN or an infinity would spread through every later layer: refuse it by index. */
        uint64_t count = 1;
        for (unsigned i = 0; i < nd; i++)
            count *= dims[i];
        for (uint64_t i = 0; i < count && rc == 0; i++)
            if (!isfinite(out[i]))
                rc = err_set(e, ERR_INPUT,
                             "%s: %s: found %g at flat index %llu, expected finite numbers "
                             "(layer \"%s\" of %s)",
                             fpath, path, (double)out[i], (unsigned long long)i, layer, net);
    }
    H5Dclose(d);
    return rc;
}

/* Read the open file (named path in messages) into f, then close it. */
static int read_file(fnet *f, hid_t file, const char *path, double *test_accuracy, err *e)
{
    const network *n = fnet_network(f);
    char text[256];
    int rc = 0;
    meta_str(file, "format", text, sizeof text);
    double version = meta_f64(file, "format_version", -1.0);
    if (strcmp(text, WEIGHTS_FORMAT) != 0 || version != WEIGHTS_FORMAT_VERSION)
        rc = err_set(e, ERR_INPUT,
                     "%s: /meta: found format \"%s\" version %g, expected \"%s\" version %d", path,
                     text, version, WEIGHTS_FORMAT, WEIGHTS_FORMAT_VERSION);
    meta_str(file, "network", text, sizeof text);
    if (rc == 0 && strcmp(text, n->name) != 0)
        rc = err_set(e, ERR_INPUT, "%s: /meta: found network \"%s\", expected \"%s\"", path, text,
                     n->name);
    /* A file written after folding holds folded weights and no batch-norm datasets. */
    bool fold = rc == 0 && meta_f64(file, "batch_norm_folded", 0.0) == 1.0;
    fnet *src = fold ? fnet_clone(f) : f;
    if (fold)
        fnet_fold_batch_norm(src);
    size_t np = fnet_param_count(f), nst = 0;
    float *p = mem_alloc((np ? np : 1) * sizeof *p, "weights");
    memcpy(p, fnet_params(f), np * sizeof *p);
    for (unsigned k = 0; k < n->n_xbar; k++) {
        float *a, *b, *c, *d;
        nst += 2 * fnet_batch_norm(src, k, &a, &b, &c, &d);
    }
    float *st = mem_alloc((nst ? nst : 1) * sizeof *st, "batch-norm statistics"), *stp = st;
    for (unsigned k = 0; rc == 0 && k < n->n_xbar; k++) {
        const char *name = n->layers[n->xbar[k]].name;
        char dpath[PATH_BYTES];
        uint64_t dims[4];
        unsigned nd = torch_shape(f, k, dims);
        size_t count;
        float *w = fnet_weight(f, k, &count);
        snprintf(dpath, sizeof dpath, "/layers/%s/weight", name);
        rc = read_array(file, path, dpath, dims, nd, name, n->name, p + (w - fnet_params(f)), e);
        float *b = fnet_bias(f, k, &count);
        uint64_t bd[1] = {count};
        snprintf(dpath, sizeof dpath, "/layers/%s/bias", name);
        if (rc == 0)
            rc = read_array(file, path, dpath, bd, 1, name, n->name, p + (b - fnet_params(f)), e);
        float *bn[4];
        bd[0] = fnet_batch_norm(src, k, &bn[0], &bn[1], &bn[2], &bn[3]);
        for (unsigned j = 0; rc == 0 && bd[0] && j < 4; j++) {
            snprintf(dpath, sizeof dpath, "/layers/%s/%s", name, bn_names[j]);
            float *to = j < 2 ? p + (bn[j] - fnet_params(src)) : stp + (j - 2) * bd[0];
            rc = read_array(file, path, dpath, bd, 1, name, n->name, to, e);
        }
        stp += 2 * bd[0];
    }
    if (fold)
        fnet_destroy(src);
    if (rc == 0) {
        if (fold)
            fnet_fold_batch_norm(f);
        memcpy(fnet_params(f), p, np * sizeof *p);
        stp = st;
        for (unsigned k = 0; k < n->n_xbar; k++) {
            float *bn[4];
            size_t C = fnet_batch_norm(f, k, &bn[0], &bn[1], &bn[2], &bn[3]);
            if (C == 0)
                continue;
            memcpy(bn[2], stp, C * sizeof *stp);
            memcpy(bn[3], stp + C, C * sizeof *stp);
            stp += 2 * C;
        }
        if (test_accuracy)
            *test_accuracy = meta_f64(file, "test_accuracy", -1.0);
    }
    free(p);
    free(st);
    H5Fclose(file);
    return rc;
}

static int no_hdf5(const char *path, err *e)
{
    return err_set(e, ERR_INPUT, "%s: found no HDF5 file, expected a weights file (%s)", path,
                   WEIGHTS_FORMAT);
}

int weights_read(fnet *f, const char *path, double *test_accuracy, err *e)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return err_set(e, ERR_IO, "%s: cannot open the weights file", path);
    fclose(probe);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return no_hdf5(path, e);
    return read_file(f, file, path, test_accuracy, e);
}

int weights_read_image(fnet *f, const void *image, size_t size, const char *origin,
                       double *test_accuracy, err *e)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (size == 0)
        return no_hdf5(origin, e);
    /* HDF5's core driver on a copy of the image, with no backing store: nothing touches a disk */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t file = H5I_INVALID_HID;
    if (fapl >= 0 && H5Pset_fapl_core(fapl, 64 * 1024, 0) >= 0 &&
        H5Pset_file_image(fapl, (void *)(uintptr_t)image, size) >= 0)
        file = H5Fopen(origin, H5F_ACC_RDONLY, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (file < 0) {
        H5Eclear2(H5E_DEFAULT);
        return no_hdf5(origin, e);
    }
    return read_file(f, file, origin, test_accuracy, e);
}
