#!/usr/bin/python3
"""Read, check and plot the HDF5 file that `xbarsim run` writes (schema: traces/README.md).

Command line (every subcommand takes --help):

    xbarsim_trace.py summary FILE.h5
        the /meta essentials, the /summary/network row and the per-layer table, with units
    xbarsim_trace.py check FILE.h5 [--no-events]
        verify the file's internal consistency (see check()); print the problems and exit 1,
        or print "consistent" and exit 0
    xbarsim_trace.py plot FILE.h5 [-o DIR] [--which gantt,utilisation,energy,latency]
        write <stem>_<plot>.png into DIR (default: FILE's folder) and print each path:
          gantt        per-layer timeline, one bar per layer per inference (layer events, or
                       /summary/layers first_start/first_end when the run has no layer trace)
          utilisation  tile utilisation heat map (tiles in a grid by tile number) and bars for
                       the buses and vector modules of each group
          energy       energy per inference by category (stacked), next to the analytic model's
          latency      per-layer time: simulated (inference 0) vs the analytic model
          power        power over time: the trace's dynamic energy binned in time (by layer,
                       or by component kind with --trace vector), over the static power
    xbarsim_trace.py compare A.h5 B.h5 ... [-o OUT.png] [--labels a,b,...]
        what-if studies: latency, throughput and energy per inference of each run side by side;
        prints a CSV table of those figures and their ratios to the first run

    xbarsim_trace.py sweep FILE.h5 METRIC[,METRIC...] --x AXIS [--hue AXIS2] [-o OUT.png|.pdf|.svg]
                     [--logx] [--logy] [--pareto] [--format png|pdf|svg]
        /sweep/points of `xbarsim sweep`: each METRIC in its own panel against one axis (shared),
        one line per value of a second axis (points with other axes are averaged, failed points
        left out); integer axes get integer ticks, axes no offset notation, units from the file
        (or the setting's name); an accuracy that is the proxy's estimate says so. With --pareto
        --x is a metric: every point and the Pareto front (accuracy, throughput, TOPS/W, TOPS/mm2
        and gains maximised, the rest minimised). Prints the plotted table (or the front) as CSV;
        the figure's format follows its name (.png, .pdf, .svg; default <stem>_<METRIC>.png)

From Python:

    import sys; sys.path.insert(0, "scripts")
    import xbarsim_trace as xt
    d = xt.load("traces/run.h5")             # dict of pandas DataFrames, plus meta and units
    d["summary_layers"], d["units"]["summary_layers"]["first_time_ps"]   # -> 'ps'
    problems = xt.check(d)                   # [] when consistent
    d = xt.load("traces/run.h5", events=False)        # skip /trace/events (large traces)
    d = xt.load("traces/run.h5", kinds=["layer"])     # only the layer rows of the trace

    df, attrs = xt.load_sweep("traces/sweep.h5")   # /sweep/points and the /sweep attributes

Keys of load(): mapping_layers, components, events, summary_layers, summary_components,
summary_inferences, summary_network (DataFrames, columns as in traces/README.md, fixed-length
strings decoded to str), meta (dict of the /meta attributes, strings decoded) and units
(table key -> {column: unit}). The events frame has one row per component and activity: a file
row of `repeat` > 1 (regular repetitions of one stream, traces/README.md) is expanded into one row
per repetition (expand_repeats), then a row of `units` > 1 (mirrored tiles) into one row per
component (expand_units); load(expand=False) keeps the file's rows. It gets three extra columns, `kind_name` (from the
dataset's `kind_names` attribute), `component_name` and `component_kind` (from /components), as
pandas categoricals. events.attrs says how it was read: `present` (the dataset exists), `rows`
(rows in the file), `loaded` (False with events=False) and `kinds` (the kind filter or None).

Run it with /usr/bin/python3 (Debian's python3-h5py, -pandas, -matplotlib).
"""
import argparse
import csv
import math
import os
import re
import sys

import h5py
import numpy as np
import pandas as pd

TABLES = {
    "mapping_layers": "/mapping/layers",
    "components": "/components",
    "events": "/trace/events",
    "summary_layers": "/summary/layers",
    "summary_components": "/summary/components",
    "summary_inferences": "/summary/inferences",
    "summary_network": "/summary/network",
}

# /trace/events columns and types (traces/README.md), for the empty frame of a run without one.
EVENT_COLUMNS = [("t_start_ps", "u8"), ("t_end_ps", "u8"), ("component", "u4"), ("units", "u4"),
                 ("kind", "u4"), ("layer", "i4"), ("copy", "i4"), ("inference", "i8"),
                 ("vector", "i8"), ("vectors", "u8"), ("energy_pj", "f8"), ("repeat", "u4"),
                 ("period_ps", "u8")]
EVENT_EXTRA = ["kind_name", "component_name", "component_kind"]

# /summary/inferences keeps the last this many inferences of a longer run (EXEC_INFERENCE_WINDOW).
INFERENCE_WINDOW = 65536

# Energy categories of /summary/network (energy_<category>_pj): which are static (static_<part>;
# the two names before them are those of files written by older versions).
def _is_static(category):
    return category.startswith("static_") or category in ("tile_static", "sram_leakage")

PLOTS = ("gantt", "utilisation", "energy", "latency", "power")
SLICE_ROWS = 1 << 20  # /trace/events is read this many rows at a time


# ---- loading ----------------------------------------------------------------------------------

def _str(x):
    """A decoded str from bytes / numpy bytes / str."""
    if isinstance(x, (bytes, np.bytes_)):
        return x.decode("ascii", errors="replace")
    return str(x)


def _plain(v):
    """An attribute value as plain Python: str, int, float, or a list of those."""
    if isinstance(v, (bytes, np.bytes_, str)):
        return _str(v)
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()] if v.ndim else _plain(v[()])
    if isinstance(v, np.generic):
        return v.item()
    return v


def _strings(v):
    """An attribute holding an array of strings (fixed or variable length) as a list of str."""
    if v is None:
        return []
    v = np.atleast_1d(v)
    return [_str(x) for x in v.tolist()]


def _frame(arr):
    """DataFrame of a compound numpy array, string fields decoded to str."""
    df = pd.DataFrame(arr)
    for name in arr.dtype.names:
        kind = arr.dtype[name].kind
        if kind == "S":
            df[name] = np.char.decode(arr[name], "ascii", errors="replace").astype(object)
        elif kind == "O":
            df[name] = [_str(x) for x in arr[name]]
    return df


def _units(ds):
    names = ds.dtype.names or ()
    return dict(zip(names, _strings(ds.attrs.get("units"))))


def _empty_events():
    df = pd.DataFrame({n: pd.Series(dtype=t) for n, t in EVENT_COLUMNS})
    for n in EVENT_EXTRA:
        df[n] = pd.Categorical([])
    return df


def _read_events(ds, kinds, kind_names, slice_rows):
    """The rows of ds, read slice by slice; only those whose kind name is in kinds (if given)."""
    n = ds.shape[0]
    codes = None
    if kinds is not None:
        codes = [i for i, k in enumerate(kind_names) if k in set(kinds)]
    parts = []
    for a in range(0, n, slice_rows):
        part = ds[a:min(n, a + slice_rows)]
        if codes is not None:
            part = part[np.isin(part["kind"], codes)]
        parts.append(part)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=ds.dtype)


def expand_repeats(arr):
    """Rows of a /trace/events array with repeat > 1 as one row per repetition: the k-th (k from
    0) of a row starts and ends k x period_ps later, serves vectors from vector + k x vectors
    (when vector >= 0), and has energy_pj / repeat; every output row has repeat 1 and period_ps 0.
    Arrays without a repeat column (older files) are returned as they are."""
    if "repeat" not in (arr.dtype.names or ()) or not len(arr):
        return arr
    r = arr["repeat"].astype(np.int64)
    if (r <= 1).all():
        return arr
    out = np.repeat(arr, r)
    k = np.arange(len(out)) - np.repeat(np.cumsum(r) - r, r)  # repetition index of each row
    shift = k.astype(np.uint64) * out["period_ps"]
    out["t_start_ps"] += shift
    out["t_end_ps"] += shift
    served = out["vector"] >= 0
    out["vector"][served] += (k[served] * out["vectors"][served].astype(np.int64))
    out["energy_pj"] /= np.repeat(r, r)
    out["repeat"] = 1
    out["period_ps"] = 0
    return out


def expand_units(arr):
    """Rows of a /trace/events array with units > 1 as one row per component: a row of `units`
    components with ids component .. component + units - 1 becomes that many rows, each with
    energy_pj / units and units 1. Arrays without a units column (older files) are returned as
    they are."""
    if "units" not in (arr.dtype.names or ()) or not len(arr):
        return arr
    u = arr["units"].astype(np.int64)
    if (u <= 1).all():
        return arr
    out = np.repeat(arr, u)
    first = np.repeat(np.cumsum(u) - u, u)  # each output row's group start
    out["component"] += (np.arange(len(out)) - first).astype(out["component"].dtype)
    out["energy_pj"] /= np.repeat(u, u)
    out["units"] = 1
    return out


def _lookup(idx, values):
    """Categorical of values[idx]; an index outside values gives NaN."""
    values = [str(v) for v in values]
    cats = list(dict.fromkeys(values))
    pos = {c: i for i, c in enumerate(cats)}
    code_of = np.array([pos[v] for v in values] + [-1], dtype=np.int64)
    idx = np.asarray(idx, dtype=np.int64).copy()
    idx[(idx < 0) | (idx >= len(values))] = len(values)  # -> the trailing -1
    return pd.Categorical.from_codes(code_of[idx], categories=cats)


def load(path, events=True, kinds=None, slice_rows=SLICE_ROWS, expand=True):
    """Read an xbarsim HDF5 file into a dict of DataFrames (see the module docstring).

    events=False leaves /trace/events unread (an empty frame with the right columns);
    kinds=["layer", ...] keeps only the trace rows of those activity kinds (read slice by slice,
    so memory holds the kept rows only). expand=True gives one event row per repetition and
    component (expand_repeats, expand_units); expand=False keeps the file's rows, where a row
    stands for `repeat` repetitions on `units` components. Raises KeyError naming a missing
    table.
    """
    data = {"units": {}}
    with h5py.File(path, "r") as f:
        if "meta" not in f:
            raise KeyError("%s: no /meta group" % path)
        data["meta"] = {k: _plain(v) for k, v in f["meta"].attrs.items()}
        for key, p in TABLES.items():
            if key == "events":
                continue
            if p not in f:
                raise KeyError("%s: no %s table" % (path, p))
            ds = f[p]
            data[key] = _frame(ds[()])
            data["units"][key] = _units(ds)

        ev = _empty_events()
        present = TABLES["events"] in f
        rows = 0
        if present:
            ds = f[TABLES["events"]]
            rows = int(ds.shape[0])
            kind_names = _strings(ds.attrs.get("kind_names"))
            data["units"]["events"] = _units(ds)
            if events and rows:
                arr = _read_events(ds, kinds, kind_names, slice_rows)
                if expand:
                    arr = expand_units(expand_repeats(arr))
                if len(arr):
                    ev = _frame(arr)
                    ev["kind_name"] = _lookup(arr["kind"], kind_names)
                    comps = data["components"]
                    pos = pd.Series(np.arange(len(comps)), index=comps["id"].to_numpy())
                    pos = pos[~pos.index.duplicated()]
                    cidx = pos.reindex(arr["component"]).fillna(-1).to_numpy()
                    ev["component_name"] = _lookup(cidx, comps["name"])
                    ev["component_kind"] = _lookup(cidx, comps["kind"])
        else:
            data["units"]["events"] = {n: u for n, u in zip(
                [c for c, _ in EVENT_COLUMNS],
                ["ps", "ps", "id", "count", "-", "index", "index", "index", "index", "count",
                 "pJ", "count", "ps"])}
        ev.attrs.update({"present": present, "rows": rows, "loaded": bool(events),
                         "kinds": None if kinds is None else list(kinds)})
        data["events"] = ev
    return data


# ---- checking ---------------------------------------------------------------------------------

def _close(a, b, rel=1e-9, abs_tol=1e-12):
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_tol)


def check(data):
    """Verify the internal consistency of a load()ed file; a list of problems ([] = consistent).

    Structure: every table's `units` attribute names every column; /components and
    /summary/components list the same components; /mapping/layers and /summary/layers the same
    layers; /summary/inferences has one row per inference, and meta, /summary/network and it
    agree on the number of inferences.

    Trace (skipped when events were not loaded or only some kinds were):
      - every event has t_end >= t_start, a known component, a kind within kind_names, a layer
        within range (or -1), and ends by the makespan;
      - a run with trace level layer or vector has /trace/events, one of level none has no rows;
      - level vector: per component other than layer controllers, the sum of its events'
        energy_pj equals its energy_dynamic_pj (rel 1e-9);
      - level vector: per tile with events, the sum of t_end - t_start equals busy_ps (buses and
        vector modules are skipped: with several servers an event spans its chunks' starts to
        ends, so its interval is not its busy time);
      - levels layer and vector: `layer` events sit on layer controllers; there is one per layer
        copy (mapping copies) and inference; per layer, inference 0's min start / max end are
        first_start_ps / first_end_ps, and over inferences max(end - start) is max_time_ps and
        the mean is mean_time_ps; per layer the layer events' energy / inferences is energy_pj;
        per inference, the min start / max end of its layer events are start_ps / end_ps;
      - level vector: per layer, the vector-level events' energy equals its layer events'.

    Summaries:
      - sum over layers of energy_pj x inferences = sum of energy_dynamic_pj (rel 1e-9);
      - /summary/inferences latency_ps = end_ps - start_ps, and inference 0's is
        /summary/network latency_ps;
      - the energy_<category>_pj columns add up to energy_per_inference_pj (the steady-state
        energy); the dynamic ones (all but static_<part>) x inferences to the components'
        energy_dynamic_pj; the static ones are not negative (static energy is the chip's, on the
        steady-state time base, so it is not the components' energy_static_pj over the run);
      - components: energy_total = dynamic + static; utilisation = busy / (servers x makespan);
      - layers: first_time = first_end - first_start, ratio = first_time / model_time (and 1
        with overlap off), mean_time <= max_time; model_time_ps equal in both layer tables;
      - network: makespan >= the last inference's end; model_latency_ps = sum of model_time_ps
        (to 1 ps a layer, for rounding); model_throughput = 1 / max T_l (rel 1e-6); throughput
        from /summary/inferences ends over the steady-state window (inferences N/2 .. N-1); utilisation = tiles' busy / (tiles_used x makespan);
        edp = single-inference energy x latency.
    """
    problems = []
    add = problems.append
    meta = data["meta"]
    net = data["summary_network"]
    comps = data["components"]
    scomps = data["summary_components"]
    mlay = data["mapping_layers"]
    slay = data["summary_layers"]
    sinf = data["summary_inferences"]
    ev = data["events"]

    # ---- structure ----
    for key in TABLES:
        if key == "events" and not ev.attrs.get("present", True):
            continue
        cols = [c for c in data[key].columns if c not in EVENT_EXTRA]
        if key == "events" and not len(data[key]):
            cols = [c for c, _ in EVENT_COLUMNS]
        units = data["units"].get(key, {})
        if set(units) != set(cols):
            add("%s: units attribute covers %s, columns are %s"
                % (TABLES[key], sorted(units), sorted(cols)))
    if len(net) != 1:
        add("/summary/network: %d rows, expected 1" % len(net))
        return problems
    net = net.iloc[0]
    N = int(net["inferences"])
    if int(meta.get("inferences", N)) != N:
        add("meta inferences %s != /summary/network inferences %d" % (meta.get("inferences"), N))
    # every inference, or the last WINDOW of a longer run (numbered from N - WINDOW)
    first_kept = N - len(sinf) if len(sinf) == INFERENCE_WINDOW and N > len(sinf) else 0
    if list(sinf["inference"]) != list(range(first_kept, N)):
        add("/summary/inferences: inference column is not %d..%d" % (first_kept, N - 1))
    if N < 1:
        add("no inferences")
        return problems
    ccols = ["id", "kind", "name", "group"]
    if not comps[ccols].reset_index(drop=True).equals(scomps[ccols].reset_index(drop=True)):
        add("/components and /summary/components list different components")
    if comps["id"].duplicated().any():
        add("/components: duplicate ids")
    L = len(mlay)
    if list(mlay["layer"]) != list(range(L)):
        add("/mapping/layers: layer column is not 0..%d" % (L - 1))
    if len(slay) != L or list(slay["layer"]) != list(mlay["layer"]) \
            or list(slay["name"]) != list(mlay["name"]):
        add("/summary/layers and /mapping/layers list different layers")
    else:
        bad = slay.index[slay["model_time_ps"].to_numpy() != mlay["model_time_ps"].to_numpy()]
        for i in bad:
            add("layer %s: model_time_ps %d in /summary/layers, %d in /mapping/layers"
                % (slay["name"][i], slay["model_time_ps"][i], mlay["model_time_ps"][i]))
    makespan = int(net["makespan_ps"])

    # ---- summaries ----
    dyn_total = float(np.sum(scomps["energy_dynamic_pj"].to_numpy()))
    layers_total = float(np.sum(slay["energy_pj"].to_numpy())) * N
    if not _close(layers_total, dyn_total, abs_tol=1e-9):
        add("sum of /summary/layers energy_pj x %d inferences = %.12g pJ != sum of components' "
            "energy_dynamic_pj = %.12g pJ" % (N, layers_total, dyn_total))
    for _, r in sinf.iterrows():
        if int(r["latency_ps"]) != int(r["end_ps"]) - int(r["start_ps"]):
            add("inference %d: latency_ps %d != end_ps - start_ps = %d"
                % (r["inference"], r["latency_ps"], int(r["end_ps"]) - int(r["start_ps"])))
    if first_kept == 0 and int(sinf["latency_ps"].iloc[0]) != int(net["latency_ps"]):
        add("/summary/inferences latency_ps of inference 0 = %d != /summary/network latency_ps "
            "= %d" % (sinf["latency_ps"].iloc[0], net["latency_ps"]))
    if int(sinf["end_ps"].max()) > makespan:
        add("an inference ends at %d ps, after the makespan %d ps"
            % (sinf["end_ps"].max(), makespan))

    cats = _energy_categories(net.index)
    e_inf = float(net["energy_per_inference_pj"])
    cat_sum = float(np.sum([net[c] for c in cats.values()]))
    if not _close(cat_sum, e_inf, abs_tol=1e-9):
        add("energy_<category>_pj add up to %.12g pJ != energy_per_inference_pj %.12g pJ"
            % (cat_sum, e_inf))
    dyn_cats = float(np.sum([net[c] for k, c in cats.items() if not _is_static(k)])) * N
    if not _close(dyn_cats, dyn_total, abs_tol=1e-9):
        add("dynamic energy categories x %d inferences = %.12g pJ != components' "
            "energy_dynamic_pj %.12g pJ" % (N, dyn_cats, dyn_total))
    for k, c in cats.items():
        if _is_static(k) and float(net[c]) < 0:
            add("%s = %.12g pJ is negative" % (c, float(net[c])))

    for _, r in scomps.iterrows():
        name = "component %d (%s)" % (r["id"], r["name"])
        if not _close(r["energy_total_pj"], r["energy_dynamic_pj"] + r["energy_static_pj"],
                      abs_tol=1e-9):
            add("%s: energy_total_pj %.12g != dynamic + static %.12g"
                % (name, r["energy_total_pj"], r["energy_dynamic_pj"] + r["energy_static_pj"]))
        if r["servers"] > 0 and makespan > 0:
            u = int(r["busy_ps"]) / (int(r["servers"]) * makespan)
            if not _close(r["utilisation"], u):
                add("%s: utilisation %.12g != busy_ps / (servers x makespan) = %.12g"
                    % (name, r["utilisation"], u))
        if int(r["busy_ps"]) > int(r["servers"]) * makespan:
            add("%s: busy_ps %d > servers x makespan" % (name, r["busy_ps"]))

    overlap_off = str(meta.get("overlap", "")) == "off"
    for _, r in slay.iterrows():
        name = "layer %d (%s)" % (r["layer"], r["name"])
        ft = int(r["first_end_ps"]) - int(r["first_start_ps"])
        if int(r["first_time_ps"]) != ft:
            add("%s: first_time_ps %d != first_end_ps - first_start_ps = %d"
                % (name, r["first_time_ps"], ft))
        if int(r["model_time_ps"]) > 0:
            ratio = int(r["first_time_ps"]) / int(r["model_time_ps"])
            if not _close(r["ratio"], ratio):
                add("%s: ratio %.12g != first_time / model_time = %.12g"
                    % (name, r["ratio"], ratio))
            if overlap_off and not _close(r["ratio"], 1.0):
                add("%s: ratio %.12g with overlap off (README: 1 exactly)" % (name, r["ratio"]))
        if int(r["max_time_ps"]) < int(r["first_time_ps"]) \
                or r["mean_time_ps"] > int(r["max_time_ps"]) * (1 + 1e-12):
            add("%s: max_time_ps %d below first_time_ps %d or mean_time_ps %.12g"
                % (name, r["max_time_ps"], r["first_time_ps"], r["mean_time_ps"]))

    model_lat = int(slay["model_time_ps"].astype(np.int64).sum())
    if abs(int(net["model_latency_ps"]) - model_lat) > max(1, L):
        add("model_latency_ps %d != sum of layers' model_time_ps %d"
            % (net["model_latency_ps"], model_lat))
    tmax = int(slay["model_time_ps"].max()) if L else 0
    if tmax > 0 and not _close(net["model_throughput_per_s"], 1e12 / tmax, rel=1e-6):
        add("model_throughput_per_s %.12g != 1 / max T_l = %.12g"
            % (net["model_throughput_per_s"], 1e12 / tmax))
    ends = sinf["end_ps"].astype(np.int64).to_numpy()
    first = N // 2  # the steady-state window: completions of inferences N/2 .. N-1
    if first_kept and first - 1 < first_kept:
        thr = None  # the window's first end is older than the kept rows: not checkable here
    elif N >= 2 and ends[-1] > ends[first - 1 - first_kept]:
        thr = (N - first) / ((int(ends[-1]) - int(ends[first - 1 - first_kept])) * 1e-12)
    else:
        thr = 1 / (int(net["latency_ps"]) * 1e-12) if int(net["latency_ps"]) else float("inf")
    if thr is not None and not _close(net["throughput_per_s"], thr):
        add("throughput_per_s %.12g != %.12g from /summary/inferences"
            % (net["throughput_per_s"], thr))
    tile_busy = int(scomps.loc[scomps["kind"] == "tile", "busy_ps"].astype(np.int64).sum())
    if int(net["tiles_used"]) > 0 and makespan > 0:
        u = tile_busy / (int(net["tiles_used"]) * makespan)
        if not _close(net["utilisation"], u):
            add("network utilisation %.12g != tiles' busy_ps / (tiles_used x makespan) = %.12g"
                % (net["utilisation"], u))
    # EDP is the single-inference energy x latency (files of older versions: the one energy)
    e_edp = float(net["single_energy_pj"]) if "single_energy_pj" in net.index else e_inf
    edp = e_edp * int(net["latency_ps"]) * 1e-12
    if not _close(net["edp_pj_s"], edp, abs_tol=0):
        add("edp_pj_s %.12g != single-inference energy x latency = %.12g"
            % (net["edp_pj_s"], edp))

    # ---- trace ----
    level = str(meta.get("trace_level", "none"))
    if not ev.attrs.get("present", True):
        if level in ("layer", "vector"):
            add("trace level %s but no /trace/events" % level)
        return problems
    if level == "none" and ev.attrs.get("rows", len(ev)):
        add("trace level none but /trace/events has %d rows" % ev.attrs.get("rows", len(ev)))
    if not ev.attrs.get("loaded", True) or ev.attrs.get("kinds") is not None:
        return problems
    if not len(ev):
        if level in ("layer", "vector"):
            add("trace level %s but /trace/events has no rows" % level)
        return problems
    t0 = ev["t_start_ps"].to_numpy()
    t1 = ev["t_end_ps"].to_numpy()
    nb = int((t1 < t0).sum())
    if nb:
        add("%d events end before they start" % nb)
    if int(t1.max()) > makespan:
        add("an event ends at %d ps, after the makespan %d ps" % (t1.max(), makespan))
    nb = int(ev["component_name"].isna().sum())
    if nb:
        add("%d events name an unknown component" % nb)
    nb = int(ev["kind_name"].isna().sum())
    if nb:
        add("%d events have a kind outside kind_names" % nb)
    lay = ev["layer"].to_numpy()
    nb = int(((lay < -1) | (lay >= L)).sum())
    if nb:
        add("%d events have a layer outside -1..%d" % (nb, L - 1))

    is_layer = (ev["kind_name"] == "layer").to_numpy()
    lev = ev[is_layer]
    vev = ev[~is_layer]
    if level == "vector":
        e_by = vev.groupby("component")["energy_pj"].sum()
        for _, r in scomps[scomps["kind"] != "layer"].iterrows():
            e = float(e_by.get(r["id"], 0.0))
            if not _close(e, r["energy_dynamic_pj"], abs_tol=1e-9):
                add("component %d (%s): events' energy_pj sum %.12g pJ != energy_dynamic_pj "
                    "%.12g pJ" % (r["id"], r["name"], e, r["energy_dynamic_pj"]))
        dur = (vev["t_end_ps"] - vev["t_start_ps"]).groupby(vev["component"]).sum()
        for _, r in scomps[scomps["kind"] == "tile"].iterrows():
            if r["id"] in dur.index and int(dur[r["id"]]) != int(r["busy_ps"]):
                add("tile %d (%s): events' durations sum %d ps != busy_ps %d ps"
                    % (r["id"], r["name"], dur[r["id"]], r["busy_ps"]))
    if level in ("layer", "vector"):
        if not len(lev):
            add("trace level %s but no `layer` events" % level)
            return problems
        nb = int((lev["component_kind"] != "layer").sum())
        if nb:
            add("%d `layer` events are not on a layer controller" % nb)
        g = lev.groupby(["layer", "inference"])
        span = pd.DataFrame({"start": g["t_start_ps"].min(), "end": g["t_end_ps"].max(),
                             "rows": g.size()})
        span["time"] = span["end"].astype(np.int64) - span["start"].astype(np.int64)
        copies = dict(zip(mlay["layer"], mlay["copies"]))
        for (l, i), r in span.iterrows():
            if l in copies and int(r["rows"]) != int(copies[l]):
                add("layer %d inference %d: %d `layer` events, %d copies"
                    % (l, i, r["rows"], copies[l]))
        missing = N * L - len(span)
        if missing > 0:
            add("%d (layer, inference) pairs have no `layer` event" % missing)
        lay_e = lev.groupby("layer")["energy_pj"].sum()
        vec_e = vev[vev["layer"] >= 0].groupby("layer")["energy_pj"].sum()
        for _, r in slay.iterrows():
            l = int(r["layer"])
            name = "layer %d (%s)" % (l, r["name"])
            if (l, 0) in span.index:
                s = span.loc[(l, 0)]
                if int(s["start"]) != int(r["first_start_ps"]) \
                        or int(s["end"]) != int(r["first_end_ps"]):
                    add("%s: inference 0's `layer` events span [%d, %d] ps, /summary/layers "
                        "first_start/first_end [%d, %d] ps"
                        % (name, s["start"], s["end"], r["first_start_ps"], r["first_end_ps"]))
            times = span.loc[span.index.get_level_values(0) == l, "time"]
            if len(times) == N:
                if int(times.max()) != int(r["max_time_ps"]):
                    add("%s: max over inferences of its `layer` events' span %d ps != "
                        "max_time_ps %d" % (name, times.max(), r["max_time_ps"]))
                if not _close(times.mean(), r["mean_time_ps"]):
                    add("%s: mean of its `layer` events' span %.12g ps != mean_time_ps %.12g"
                        % (name, times.mean(), r["mean_time_ps"]))
            e = float(lay_e.get(l, 0.0)) / N
            if not _close(e, r["energy_pj"], abs_tol=1e-9):
                add("%s: `layer` events' energy / %d inferences = %.12g pJ != energy_pj %.12g pJ"
                    % (name, N, e, r["energy_pj"]))
            if level == "vector":
                ev_ = float(vec_e.get(l, 0.0))
                if not _close(ev_, float(lay_e.get(l, 0.0)), abs_tol=1e-9):
                    add("%s: vector-level events' energy %.12g pJ != its `layer` events' "
                        "%.12g pJ" % (name, ev_, float(lay_e.get(l, 0.0))))
        gi = lev.groupby("inference")
        ispan = pd.DataFrame({"start": gi["t_start_ps"].min(), "end": gi["t_end_ps"].max()})
        for _, r in sinf.iterrows():
            i = int(r["inference"])
            if i in ispan.index and (int(ispan.loc[i, "start"]) != int(r["start_ps"])
                                     or int(ispan.loc[i, "end"]) != int(r["end_ps"])):
                add("inference %d: `layer` events span [%d, %d] ps, /summary/inferences "
                    "[%d, %d] ps" % (i, ispan.loc[i, "start"], ispan.loc[i, "end"],
                                     r["start_ps"], r["end_ps"]))
    return problems


def _energy_categories(columns):
    """{category: column} of the energy_<category>_pj columns of /summary/network, in order."""
    out = {}
    for c in columns:
        m = re.fullmatch(r"energy_(\w+)_pj", c)
        if m and c != "energy_per_inference_pj":
            out[m.group(1)] = c
    return out


# ---- plots ------------------------------------------------------------------------------------

def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _title(data, what):
    m = data["meta"]
    return "%s: %s on %s (%s inferences, overlap %s)" % (
        what, m.get("network", "?"), m.get("arch", "?"), m.get("inferences", "?"),
        m.get("overlap", "?"))


def _layer_names(data):
    ml = data["mapping_layers"]
    return dict(zip(ml["layer"].astype(int), ml["name"]))


def _save(fig, out):
    fig.savefig(out, dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return out


def _tick_font(n):
    return 9 if n <= 30 else 7 if n <= 80 else 5


def plot_gantt(data, out):
    """Per-layer timeline: one bar per layer per inference, x in us."""
    plt = _plt()
    names = _layer_names(data)
    L = len(names)
    ev = data["events"]
    lev = ev[ev["kind_name"] == "layer"] if len(ev) else ev
    if len(lev):
        g = lev.groupby(["layer", "inference"])
        span = pd.DataFrame({"start": g["t_start_ps"].min(), "end": g["t_end_ps"].max()})
        span = span.reset_index()
        source = "layer events"
    else:
        sl = data["summary_layers"]
        span = pd.DataFrame({"layer": sl["layer"].astype(int), "inference": 0,
                             "start": sl["first_start_ps"], "end": sl["first_end_ps"]})
        source = "/summary/layers, inference 0 only"
    fig, ax = plt.subplots(figsize=(11, max(3.0, 0.22 * L + 1.6)))
    cmap = plt.get_cmap("tab10")
    infs = sorted(span["inference"].unique())
    for i in infs:
        s = span[span["inference"] == i]
        start = s["start"].astype(float).to_numpy() / 1e6
        width = (s["end"].astype(float).to_numpy() - s["start"].astype(float).to_numpy()) / 1e6
        ax.barh(s["layer"].astype(int).to_numpy(), width, left=start, height=0.8,
                color=cmap(int(i) % 10), label="inference %d" % i)
    ax.set_yticks(range(L))
    ax.set_yticklabels([names[k] for k in range(L)], fontsize=_tick_font(L))
    ax.set_ylim(L - 0.5, -0.5)
    ax.set_xlabel("time (us)")
    ax.set_ylabel("layer")
    ax.set_title(_title(data, "layer timeline") + "\nfrom " + source, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    if len(infs) <= 10:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    else:
        ax.text(1.01, 1, "%d inferences\n(colours cycle\nover 10)" % len(infs),
                transform=ax.transAxes, va="top", fontsize=8)
    return _save(fig, out)


def _tile_number(name, fallback):
    m = re.fullmatch(r"tile(\d+)", name)
    return int(m.group(1)) if m else fallback


def plot_utilisation(data, out):
    """Tile utilisation heat map (grid by tile number) and bars for buses / vector modules."""
    plt = _plt()
    sc = data["summary_components"]
    net = data["summary_network"].iloc[0]
    tiles = sc[sc["kind"] == "tile"].reset_index(drop=True)
    nums = [_tile_number(n, k) for k, n in enumerate(tiles["name"])]
    total = max([int(net.get("tiles_total", 0))] + [n + 1 for n in nums] + [1])
    per_group = tiles.groupby("group").size()
    size = int(per_group.max()) if len(per_group) else 64
    width = size if 2 <= size <= 128 else 64
    width = min(width, total)
    rows = (total + width - 1) // width
    grid = np.full(rows * width, np.nan)
    for n, u in zip(nums, tiles["utilisation"].to_numpy(dtype=float)):
        grid[n] = u
    grid = grid.reshape(rows, width)
    others = sc[sc["kind"].isin(["bus", "vecmod"])].copy()
    h1 = min(9.0, max(1.4, 10.0 * rows / width))
    if len(others):
        fig, (ax, bx) = plt.subplots(2, 1, figsize=(11, h1 + 4.2),
                                     gridspec_kw={"height_ratios": [h1, 3.2]})
    else:
        fig, ax = plt.subplots(figsize=(11, h1 + 1.2))
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("lightgrey")
    im = ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest",
                   extent=(-0.5, width - 0.5, rows - 0.5, -0.5))
    fig.colorbar(im, ax=ax, label="utilisation (fraction)", pad=0.01)
    if rows * width <= 128:
        for r in range(rows):
            for c in range(width):
                if not np.isnan(grid[r, c]):
                    ax.text(c, r, "tile%d\n%.2f" % (r * width + c, grid[r, c]), ha="center", va="center", fontsize=8,
                            color="white" if grid[r, c] < 0.6 else "black")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("tile number mod %d" % width)
    ax.set_ylabel("tile number // %d" % width)
    ax.set_title(_title(data, "utilisation") + "\ntiles (%d of %d are components; grey: none)"
                 % (len(tiles), total), fontsize=10)
    if len(others):
        others["role"] = [("vecmod" if k == "vecmod" else re.sub(r"^g\d+\.", "", n))
                          for k, n in zip(others["kind"], others["name"])]
        roles = list(dict.fromkeys(others["role"]))
        groups = sorted(others["group"].astype(int).unique())
        gpos = {g: k for k, g in enumerate(groups)}
        w = 0.8 / len(roles)
        for j, role in enumerate(roles):
            o = others[others["role"] == role]
            x = np.array([gpos[int(g)] for g in o["group"]]) - 0.4 + w * (j + 0.5)
            bx.bar(x, o["utilisation"].to_numpy(dtype=float), width=w, label=role)
        if len(groups) <= 40:
            bx.set_xticks(range(len(groups)))
            bx.set_xticklabels([str(g) for g in groups], fontsize=_tick_font(len(groups)))
        bx.set_xlabel("tile group")
        bx.set_ylabel("utilisation (fraction)")
        bx.set_ylim(0, max(0.05, float(others["utilisation"].max()) * 1.15))
        bx.set_title("buses and vector modules (busy / (servers x makespan))", fontsize=10)
        bx.legend(fontsize=8)
        bx.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, out)


def plot_energy(data, out):
    """Energy per inference by category (stacked bar), uJ, next to the analytic model's total."""
    plt = _plt()
    net = data["summary_network"].iloc[0]
    cats = _energy_categories(net.index)
    total = float(net["energy_per_inference_pj"])
    fig, ax = plt.subplots(figsize=(8, 6))
    cmap = plt.get_cmap("tab10")
    bottom = 0.0
    zero = []
    for k, (cat, col) in enumerate(cats.items()):
        v = float(net[col]) * 1e-6
        if v == 0:
            zero.append(cat)
            continue
        pct = 100 * float(net[col]) / total if total else 0
        ax.bar(0, v, bottom=bottom, width=0.6, color=cmap(k % 10),
               label="%s: %.4g uJ (%.1f%%)" % (cat, v, pct))
        bottom += v
    if "model_energy_pj" in net.index:
        ax.bar(1, float(net["model_energy_pj"]) * 1e-6, width=0.6, color="lightgrey",
               edgecolor="black", label="analytic model: %.4g uJ"
               % (float(net["model_energy_pj"]) * 1e-6))
    ax.set_xticks([0, 1])
    ax.set_xticklabels(["simulated\n(%.4g uJ)" % (total * 1e-6), "analytic model"])
    ax.set_ylabel("energy per inference (uJ)")
    ax.set_title(_title(data, "energy per inference"), fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8,
              title=("zero: " + ", ".join(zero)) if zero else None, title_fontsize=8)
    return _save(fig, out)


def plot_latency(data, out):
    """Per-layer time: simulated first_time vs analytic model_time, us."""
    plt = _plt()
    sl = data["summary_layers"]
    L = len(sl)
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.3 * L + 1.6)))
    y = np.arange(L)
    ax.barh(y - 0.2, sl["first_time_ps"].astype(float) / 1e6, height=0.4,
            label="simulated (inference 0)")
    ax.barh(y + 0.2, sl["model_time_ps"].astype(float) / 1e6, height=0.4,
            label="analytic model T_l")
    ax.set_yticks(y)
    ax.set_yticklabels(list(sl["name"]), fontsize=_tick_font(L))
    ax.set_ylim(L - 0.5, -0.5)
    ax.set_xlabel("layer time (us)")
    ax.set_ylabel("layer")
    ax.set_title(_title(data, "per-layer latency"), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out)


def _cumulative_energy(t0, t1, e, edges):
    """Energy the events deliver before each edge, pJ: each event's energy spread evenly over
    [t0, t1) (all of it at t0 when t1 = t0). Sorted prefix sums, O((events + edges) log events)."""
    t0 = t0.astype(np.float64)
    t1 = t1.astype(np.float64)
    e = e.astype(np.float64)
    inst = t1 <= t0
    out = np.zeros(len(edges))
    if inst.any():  # instantaneous: a step at t0
        order = np.argsort(t0[inst])
        ts, cum = t0[inst][order], np.cumsum(e[inst][order])
        k = np.searchsorted(ts, edges, side="left")
        out += np.where(k > 0, cum[np.maximum(k - 1, 0)], 0.0)
    m = ~inst
    if m.any():  # E(t) = sum over started events of r (min(t, t1) - t0), r = e / (t1 - t0)
        a0, a1, ee = t0[m], t1[m], e[m]
        r = ee / (a1 - a0)
        o0 = np.argsort(a0)
        s0, r0 = a0[o0], r[o0]
        c1, c2 = np.concatenate(([0], np.cumsum(r0))), np.concatenate(([0], np.cumsum(r0 * s0)))
        o1 = np.argsort(a1)
        s1, r1 = a1[o1], r[o1]
        d1, d2 = np.concatenate(([0], np.cumsum(r1))), np.concatenate(([0], np.cumsum(r1 * s1)))
        k0 = np.searchsorted(s0, edges, side="left")
        k1 = np.searchsorted(s1, edges, side="left")
        out += (edges * c1[k0] - c2[k0]) - (edges * d1[k1] - d2[k1])
    return out


def power_series(data, by="auto", bins=200):
    """Power over time: the dynamic energy of the trace's events binned in time (each event's
    energy spread over its duration), by layer (layer events) or by component kind (vector
    events), plus the chip's static power (the steady-state static energy per inference over the
    period). Returns (bin centres in us, {name: W}, static W)."""
    ev = data["events"]
    net = data["summary_network"].iloc[0]
    static_pj = sum(float(net[c]) for k, c in _energy_categories(net.index).items()
                    if _is_static(k))
    period = float(net["period_ps"]) if "period_ps" in net.index else float(net["latency_ps"])
    static_w = static_pj / period if period > 0 else 0.0
    if not len(ev):  # a run without a trace: the static power alone, over the makespan
        edges = np.linspace(0.0, float(net["makespan_ps"]), bins + 1)
        width = edges[1] - edges[0]
        return (edges[:-1] + width / 2) * 1e-6, {}, static_w
    if by == "auto":
        by = "kind" if (ev["kind_name"] != "layer").any() else "layer"
    if by == "kind":
        ev = ev[ev["kind_name"] != "layer"]
        keys = ev["component_kind"].astype(str)
    else:
        ev = ev[ev["kind_name"] == "layer"]
        names = _layer_names(data)
        keys = ev["layer"].astype(int).map(lambda i: names.get(i, str(i)))
    end = float(ev["t_end_ps"].max())
    edges = np.linspace(0.0, end, bins + 1)
    width = edges[1] - edges[0]
    series = {}
    for key in pd.unique(keys):
        g = ev[keys == key]
        cum = _cumulative_energy(g["t_start_ps"].to_numpy(), g["t_end_ps"].to_numpy(),
                                 g["energy_pj"].to_numpy(), edges)
        series[key] = np.diff(cum) / width  # pJ / ps = W
    return (edges[:-1] + width / 2) * 1e-6, series, static_w


def plot_power(data, out, by="auto"):
    """Power over time (W): dynamic, stacked by layer or component kind, over the static power."""
    plt = _plt()
    t_us, series, static_w = power_series(data, by)
    order = sorted(series, key=lambda k: -float(np.sum(series[k])))
    top = order[:12]
    stack = [np.full_like(t_us, static_w)] + [series[k] for k in top]
    labels = ["static (steady state): %.4g W" % static_w] + list(top)
    if len(order) > len(top):
        stack.append(np.sum([series[k] for k in order[len(top):]], axis=0))
        labels.append("%d others" % (len(order) - len(top)))
    fig, ax = plt.subplots(figsize=(10, 4.8))
    ax.stackplot(t_us, *stack, labels=labels, alpha=0.85)
    ax.set_xlabel("time (us)")
    ax.set_ylabel("power (W)")
    _plain_axis(ax, "x", False)
    ax.set_title(_title(data, "power over time (dynamic binned from the trace, static from "
                              "/summary/network)" if series else
                        "power over time (no trace: the static power only)"), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    return _save(fig, out)


PLOT_FUNCS = {"gantt": plot_gantt, "utilisation": plot_utilisation, "energy": plot_energy,
              "latency": plot_latency, "power": plot_power}


def compare_rows(paths, labels):
    """[{label, file, network, arch, latency_us, throughput_per_s, energy_per_inference_uj,
    *_ratio}] of each run, ratios to the first run's."""
    rows = []
    for p, lab in zip(paths, labels):
        d = load(p, events=False)
        net = d["summary_network"].iloc[0]
        rows.append({"label": lab, "file": p, "network": d["meta"].get("network", ""),
                     "arch": d["meta"].get("arch", ""),
                     "latency_us": int(net["latency_ps"]) / 1e6,
                     "throughput_per_s": float(net["throughput_per_s"]),
                     "energy_per_inference_uj": float(net["energy_per_inference_pj"]) * 1e-6})
    for r in rows:
        for k, rk in RATIOS.items():
            base = rows[0][k]
            r[rk] = r[k] / base if base else float("nan")
    return rows


RATIOS = {"latency_us": "latency_ratio", "throughput_per_s": "throughput_ratio",
          "energy_per_inference_uj": "energy_ratio"}
COMPARE_FIELDS = ["label", "file", "network", "arch", "latency_us", "throughput_per_s",
                  "energy_per_inference_uj", "latency_ratio", "throughput_ratio", "energy_ratio"]


def plot_compare(rows, out):
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(max(10, 1.3 * len(rows) * 3), 4.8))
    specs = [("latency_us", "latency_ratio", "latency of inference 0 (us)", "latency"),
             ("throughput_per_s", "throughput_ratio", "throughput (inferences/s)",
              "throughput"),
             ("energy_per_inference_uj", "energy_ratio", "energy per inference (uJ)", "energy")]
    cmap = plt.get_cmap("tab10")
    x = np.arange(len(rows))
    for ax, (k, rk, ylabel, what) in zip(axes, specs):
        vals = [r[k] for r in rows]
        bars = ax.bar(x, vals, color=[cmap(i % 10) for i in range(len(rows))])
        for b, r in zip(bars, rows):
            ax.annotate("%.4g\nx%.3f" % (r[k], r[rk]), (b.get_x() + b.get_width() / 2,
                                                          b.get_height()),
                        ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x)
        ax.set_xticklabels([r["label"] for r in rows], rotation=30 if len(rows) > 3 else 0,
                           ha="right" if len(rows) > 3 else "center", fontsize=8)
        ax.set_xlabel("run")
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, max(vals) * 1.25 if max(vals) > 0 else 1)
        ax.set_title(what, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    nets = ", ".join(dict.fromkeys(str(r["network"]) for r in rows))
    archs = ", ".join(dict.fromkeys(str(r["arch"]) for r in rows))
    fig.suptitle("what-if comparison: %s on %s (ratios to %s)" % (nets, archs, rows[0]["label"]),
                 fontsize=11)
    fig.tight_layout()
    return _save(fig, out)


# ---- summary ----------------------------------------------------------------------------------

def summary_text(data):
    m = data["meta"]
    lines = ["%s on %s: %s inferences, overlap %s, trace level %s, seed %s, xbarsim %s (%s)"
             % (m.get("network"), m.get("arch"), m.get("inferences"), m.get("overlap"),
                m.get("trace_level"), m.get("seed"), m.get("xbarsim_version"),
                m.get("git_describe")), "", "/summary/network"]
    net = data["summary_network"]
    u = data["units"]["summary_network"]
    t = pd.DataFrame({"column": list(net.columns),
                      "value": ["%.6g" % v if isinstance(v, float) else str(v)
                                for v in net.iloc[0].tolist()],
                      "unit": [u.get(c, "?") for c in net.columns]})
    lines.append(t.to_string(index=False))
    lines += ["", "/summary/layers"]
    sl = data["summary_layers"]
    ul = data["units"]["summary_layers"]
    sl = sl.rename(columns={c: ("%s [%s]" % (c, ul[c]) if ul.get(c, "-") not in ("-", "index")
                                else c) for c in sl.columns})
    with pd.option_context("display.max_rows", None, "display.max_columns", None,
                           "display.width", 250, "display.float_format", "{:.6g}".format):
        lines.append(sl.to_string(index=False))
    return "\n".join(lines)


# ---- command line -----------------------------------------------------------------------------

def load_sweep(path):
    """/sweep/points of a sweep file as a DataFrame (strings decoded; status "ok" / "failed"),
    and the /sweep attributes as a dict (job, axes, metrics, points_total, complete, ...). The
    frame's attrs["units"] maps each column to its unit."""
    with h5py.File(path, "r") as f:
        if "sweep/points" not in f:
            raise KeyError("%s: no /sweep/points (not a file of xbarsim sweep)" % path)
        ds = f["sweep/points"]
        df = _frame(ds[:])
        df.attrs["units"] = _units(ds)
        attrs = {k: _plain(v) for k, v in f["sweep"].attrs.items()}
    for key in ("axes", "metrics"):
        attrs[key] = attrs.get(key) or []
        if isinstance(attrs[key], str):
            attrs[key] = [attrs[key]]
    return df, attrs


def sweep_table(df, metric, x, hue=None):
    """The mean of `metric` over the ok points, by x (and hue): a DataFrame indexed by x with
    one column per hue value (or one column named metric)."""
    for c in (metric, x) + ((hue,) if hue else ()):
        if c not in df.columns:
            raise KeyError("no column %r (columns: %s)" % (c, ", ".join(df.columns)))
    ok = df[df["status"] == "ok"]
    if hue:
        return ok.groupby([x, hue])[metric].mean().unstack(hue).sort_index()
    return ok.groupby(x)[metric].mean().to_frame(metric).sort_index()


# Units of an axis whose column carries none ("-"), read off its setting name.
_AXIS_UNITS = (("_ns", "ns"), ("_ps", "ps"), ("_us", "us"), ("_pj", "pJ"), ("_uw", "uW"),
               ("_mw", "mW"), ("_mhz", "MHz"), ("_um2", "um2"), ("_bytes", "bytes"),
               ("bits", "bits"), ("rows_active", "rows"), ("lanes", "lanes"), ("count", "count"),
               ("tiles", "tiles"), ("inferences", "count"), ("episodes", "count"))

# Metrics where more is better (a Pareto front keeps the largest); the others are minimised.
_MAXIMISED = ("accuracy", "throughput_per_s", "tops_per_w", "tops_per_mm2", "latency_gain",
              "throughput_gain", "best_reward")


def _unit_of(df, col):
    u = df.attrs.get("units", {}).get(col, "-")
    if u and u != "-":
        return u
    for suffix, unit in _AXIS_UNITS:
        if col.endswith(suffix):
            return unit
    return None


def _label(df, col):
    u = _unit_of(df, col)
    return "%s (%s)" % (col, u) if u else col


def _value_text(v):
    """A value as the user wrote it: 8 for 8.0, 0.5 for 0.5, strings as they are."""
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return "%g" % v if isinstance(v, (float, np.floating)) else str(v)


def _is_estimate(df, metric):
    return (metric == "accuracy" and "accuracy_is_estimate" in df.columns
            and bool((df.loc[df["status"] == "ok", "accuracy_is_estimate"] == 1).any()))


def _plain_axis(ax, which, integer):
    """No offset or scientific notation on a linear axis; whole-number ticks on an integer one."""
    from matplotlib.ticker import MaxNLocator, ScalarFormatter
    axis = ax.xaxis if which == "x" else ax.yaxis
    if axis.get_scale() != "linear":
        return
    fmt = ScalarFormatter(useOffset=False)
    fmt.set_scientific(False)
    axis.set_major_formatter(fmt)
    if integer:
        axis.set_major_locator(MaxNLocator(integer=True))


def plot_sweep(df, metric, x, out, hue=None, logx=False, logy=False):
    """METRIC (or several, comma-separated: one panel each, the x axis shared) against axis x,
    one line per value of hue. Returns the plotted table (metrics side by side)."""
    plt = _plt()
    metrics = [m.strip() for m in metric.split(",") if m.strip()]
    tables = [sweep_table(df, m, x, hue) for m in metrics]
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7, 3.2 * len(metrics) + 0.8), sharex=True,
                             squeeze=False)
    axes = axes[:, 0]
    numeric = pd.api.types.is_numeric_dtype(tables[0].index)
    xs = tables[0].index if numeric else range(len(tables[0].index))
    integer_x = numeric and all(float(v).is_integer() for v in tables[0].index)
    for ax, m, t in zip(axes, metrics, tables):
        for col in t.columns:
            label = "%s = %s" % (hue, _value_text(col)) if hue else None
            ax.plot(xs, t[col].values, marker="o", label=label)
        ylabel = _label(df, m)
        if _is_estimate(df, m):
            ylabel += "\nESTIMATE (proxy backend)"
        ax.set_ylabel(ylabel)
        if logy:
            ax.set_yscale("log")
        _plain_axis(ax, "y", False)
        ax.grid(True, alpha=0.3)
        if hue:
            ax.legend(fontsize=8, title=_label(df, hue), title_fontsize=8)
    bottom = axes[-1]
    if not numeric:
        bottom.set_xticks(list(xs))
        bottom.set_xticklabels([str(v) for v in tables[0].index], rotation=30, ha="right")
    if logx and numeric:
        for ax in axes:
            ax.set_xscale("log")
    elif numeric:
        _plain_axis(bottom, "x", integer_x)
    bottom.set_xlabel(_label(df, x))
    axes[0].set_title("%s against %s" % (", ".join(metrics), x))
    fig.tight_layout()
    _save(fig, out)
    if len(tables) == 1:
        return tables[0]
    return pd.concat(tables, axis=1, keys=metrics)


def pareto_front(df, xm, ym):
    """The ok points not dominated in (xm, ym): each minimised, or maximised when it is a metric
    where more is better (_MAXIMISED). A DataFrame sorted by xm."""
    ok = df[df["status"] == "ok"].dropna(subset=[xm, ym])
    sx = -1.0 if xm in _MAXIMISED else 1.0
    sy = -1.0 if ym in _MAXIMISED else 1.0
    pts = ok.assign(_x=sx * ok[xm], _y=sy * ok[ym]).sort_values(["_x", "_y"])
    keep, best = [], math.inf
    for i, r in pts.iterrows():
        if r["_y"] < best:
            keep.append(i)
            best = r["_y"]
    return ok.loc[keep].sort_values(xm)


def plot_pareto(df, xm, ym, out, hue=None, logx=False, logy=False):
    """Metric against metric, every ok point, the Pareto front highlighted. Returns the front."""
    plt = _plt()
    ok = df[df["status"] == "ok"]
    front = pareto_front(df, xm, ym)
    fig, ax = plt.subplots(figsize=(7, 4.8))
    if hue:
        for v, g in ok.groupby(hue):
            ax.scatter(g[xm], g[ym], s=18, alpha=0.7, label="%s = %s" % (hue, _value_text(v)))
    else:
        ax.scatter(ok[xm], ok[ym], s=18, alpha=0.6, color="grey", label="points")
    ax.plot(front[xm], front[ym], color="black", marker="o", markerfacecolor="none",
            linewidth=1.5, label="Pareto front (%d)" % len(front))
    ax.set_xlabel(_label(df, xm) + ("\nESTIMATE (proxy backend)" if _is_estimate(df, xm) else ""))
    ax.set_ylabel(_label(df, ym) + ("\nESTIMATE (proxy backend)" if _is_estimate(df, ym) else ""))
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    _plain_axis(ax, "x", False)
    _plain_axis(ax, "y", False)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("%s against %s (%s)" % (ym, xm, ", ".join(
        "%s %s" % (m, "max" if m in _MAXIMISED else "min") for m in (xm, ym))))
    _save(fig, out)
    return front


def cmd_sweep(a):
    df, attrs = load_sweep(a.file)
    stem = a.metric.replace(",", "+")
    ext = a.format or "png"
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(a.file)),
                                "%s_%s.%s" % (_stem(a.file), stem, ext))
    if a.pareto:
        t = plot_pareto(df, a.x, a.metric, out, hue=a.hue, logx=a.logx, logy=a.logy)
        cols = [c for c in list(attrs.get("axes", [])) + [a.x, a.metric] if c in t.columns]
        sys.stdout.write(t[list(dict.fromkeys(cols))].to_csv(index=False))
    else:
        t = plot_sweep(df, a.metric, a.x, out, hue=a.hue, logx=a.logx, logy=a.logy)
        sys.stdout.write(t.to_csv())
    failed = int((df["status"] != "ok").sum())
    print("%d points (%d failed) of %s; wrote %s" % (len(df), failed,
                                                     attrs.get("points_total", "?"), out),
          file=sys.stderr)
    return 0


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def cmd_summary(a):
    print(summary_text(load(a.file, events=False)))
    return 0


def cmd_check(a):
    problems = check(load(a.file, events=not a.no_events))
    if problems:
        for p in problems[:a.max]:
            print(p)
        if len(problems) > a.max:
            print("... and %d more" % (len(problems) - a.max))
        print("%d problems" % len(problems))
        return 1
    print("consistent")
    return 0


def cmd_plot(a):
    which = [w.strip() for w in a.which.split(",") if w.strip()]
    bad = [w for w in which if w not in PLOTS]
    if bad:
        raise SystemExit("plot: unknown plot %s (choose from %s)" % (", ".join(bad),
                                                                     ",".join(PLOTS)))
    outdir = a.outdir or os.path.dirname(os.path.abspath(a.file))
    os.makedirs(outdir, exist_ok=True)
    # gantt needs the layer rows of the trace only, power all of them, the others none of it
    data = load(a.file, events="gantt" in which or "power" in which,
                kinds=None if "power" in which else ["layer"])
    for w in which:
        out = os.path.join(outdir, "%s_%s.png" % (_stem(a.file), w))
        PLOT_FUNCS[w](data, out)
        print(out)
    return 0


def cmd_compare(a):
    labels = [s.strip() for s in a.labels.split(",")] if a.labels else [_stem(p) for p in a.files]
    if len(labels) != len(a.files):
        raise SystemExit("compare: %d labels for %d files" % (len(labels), len(a.files)))
    rows = compare_rows(a.files, labels)
    w = csv.DictWriter(sys.stdout, fieldnames=COMPARE_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("%.9g" % v if isinstance(v, float) else v) for k, v in r.items()})
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(a.files[0])),
                                "%s_compare.png" % _stem(a.files[0]))
    d = os.path.dirname(os.path.abspath(out))
    os.makedirs(d, exist_ok=True)
    sys.stdout.flush()
    plot_compare(rows, out)
    print("wrote %s" % out, file=sys.stderr)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="xbarsim_trace.py",
        description="Read, check and plot the HDF5 file of `xbarsim run` (schema: "
                    "traces/README.md).")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("summary", help="print the network summary and the per-layer table",
                       description="Print the /meta essentials, the /summary/network row "
                                   "(column, value, unit) and /summary/layers with units.")
    p.add_argument("file", metavar="FILE.h5")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("check", help="verify the file's internal consistency",
                       description="Verify the file's internal consistency (trace energies and "
                                   "busy times against the summaries, layer spans, energy "
                                   "totals, ...). Prints the problems and exits 1, or prints "
                                   "'consistent' and exits 0.")
    p.add_argument("file", metavar="FILE.h5")
    p.add_argument("--no-events", action="store_true",
                   help="skip /trace/events (check the summaries only)")
    p.add_argument("--max", type=int, default=50, help="print at most this many problems")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("plot", help="write PNG plots of one run",
                       description="Write <stem>_<plot>.png for each plot into DIR and print "
                                   "each path. gantt: per-layer timeline (us); utilisation: "
                                   "tile heat map and bus / vector-module bars; energy: "
                                   "energy per inference by category (uJ); latency: per-layer "
                                   "simulated vs analytic time (us); power: power over time (W), "
                                   "the trace's dynamic energy binned, over the static power. The "
                                   "figures are PNG.")
    p.add_argument("file", metavar="FILE.h5")
    p.add_argument("-o", "--outdir", metavar="DIR", help="output folder (default: FILE's)")
    p.add_argument("--which", default=",".join(PLOTS),
                   help="comma-separated plots (default %(default)s)")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("compare", help="compare runs side by side (what-if studies)",
                       description="Bars of latency, throughput and energy per inference of "
                                   "each run side by side; prints a CSV of those figures and "
                                   "their ratios to the first run.")
    p.add_argument("files", nargs="+", metavar="FILE.h5")
    p.add_argument("-o", "--out", metavar="OUT.png",
                   help="output PNG (default: <first stem>_compare.png next to the first file)")
    p.add_argument("--labels", help="comma-separated labels (default: the file stems)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("sweep", help="plot metrics of a sweep against its axes, or a Pareto front",
                       description="Plot METRIC of /sweep/points (xbarsim sweep) against axis X, "
                                   "one line per value of axis HUE; other axes are averaged, "
                                   "failed points left out. Several metrics, comma-separated, "
                                   "make one panel each over a shared x axis. With --pareto, X is "
                                   "a metric too: every point, and the front of the points no "
                                   "other beats in both (accuracy, throughput and efficiency "
                                   "maximised, the others minimised). Prints the plotted table "
                                   "(or the front) as CSV. The output's extension picks the "
                                   "format: .png, .pdf or .svg.")
    p.add_argument("file", metavar="FILE.h5")
    p.add_argument("metric", metavar="METRIC[,METRIC...]")
    p.add_argument("--x", required=True, metavar="AXIS", help="axis on the x axis (a metric "
                                                               "with --pareto)")
    p.add_argument("--hue", metavar="AXIS", help="one line (colour) per value of this axis")
    p.add_argument("--pareto", action="store_true", help="METRIC against the metric --x, front "
                                                         "highlighted")
    p.add_argument("--format", choices=("png", "pdf", "svg"),
                   help="format of the default output name (default png)")
    p.add_argument("-o", "--out", metavar="OUT.png|.pdf|.svg",
                   help="output figure (default: <stem>_<METRIC>.png next to FILE)")
    p.add_argument("--logx", action="store_true")
    p.add_argument("--logy", action="store_true")
    p.set_defaults(func=cmd_sweep)

    a = ap.parse_args(argv)
    try:
        return a.func(a)
    except BrokenPipeError:
        raise  # the reader of stdout left: handled quietly below
    except (OSError, KeyError) as e:
        print("xbarsim_trace.py %s: %s" % (a.cmd, e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # `xbarsim_trace.py summary FILE | head`: the reader left; end quietly, as a filter does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 0
    sys.exit(status)
