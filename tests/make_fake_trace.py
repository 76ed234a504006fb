#!/usr/bin/python3
"""Write a small synthetic xbarsim trace that follows traces/README.md exactly.

    tests/make_fake_trace.py OUT.h5 [--break] [--level none|layer|vector] [--inferences N]

The file models a toy run: three layers (conv1 on two copies, relu1 on the vector module, fc on
one tile), four tiles (tile3 holds no weights and stays idle), one input and one output bus with
two lanes each, one vector module with four lanes and three layer controllers, two inferences by
default, overlap off. Every figure is computed here from the generated activity, so
`scripts/xbarsim_trace.py check` finds it consistent. `--break` adds 1 pJ to one vmm event of
tile1 after the summaries are computed: the per-component energy check (and the layer events'
energy check) must then fail for tile1.

Use it to develop and unit-test scripts/xbarsim_trace.py without the simulator; importable as a
module too (`make(path, broken=False, level="vector", inferences=2)`).
"""
import argparse
import sys

import h5py
import numpy as np

S_NAME = "S32"  # fixed-length, NUL-padded ASCII
S_KIND = "S16"

KIND_NAMES = ["vmm", "write", "transfer", "vector_op", "layer"]
K_VMM, K_WRITE, K_TRANSFER, K_VECTOR_OP, K_LAYER = range(5)

ENERGY_CATEGORIES = ["dac", "crossbar", "sample_hold", "adc", "shift_add", "write", "bus",
                     "vector", "sram", "noc", "interchip", "offchip", "static_dac", "static_crossbar",
                     "static_sample_hold", "static_adc", "static_shift_add", "static_bus",
                     "static_vector", "static_sram", "static_noc", "static_interchip", "static_offchip",
                     "static_other"]
VMM_SPLIT = {"dac": 0.125, "crossbar": 0.25, "adc": 0.5, "shift_add": 0.125}
VECOP_SPLIT = {"vector": 0.75, "sram": 0.25}

TILE_STATIC_UW = 1500.0    # uW per tile, always on (no power gating)
VM_LEAKAGE_UW = 490.5      # uW of the vector module's SRAM
UW_PS_TO_PJ = 1e-6        # uW x ps = 1e-6 pJ


def table(f, path, columns, rows, description):
    """Write one table: columns is [(name, numpy type, unit)], rows a list of tuples."""
    dtype = np.dtype([(name, typ) for name, typ, _ in columns])
    data = np.array([tuple(r) for r in rows], dtype=dtype)
    ds = f.create_dataset(path, data=data)
    ds.attrs["units"] = np.array([unit for _, _, unit in columns], dtype="S16")
    ds.attrs["description"] = np.bytes_(description)
    return ds


class Server:
    """A FIFO resource: a request takes all `lanes` lanes for its lane time."""

    def __init__(self, cid, lanes):
        self.cid = cid
        self.lanes = lanes
        self.free_at = 0
        self.busy = 0
        self.requests = 0
        self.wait_total = 0
        self.wait_max = 0

    def serve(self, ready, lane_ps):
        start = max(ready, self.free_at)
        end = start + lane_ps
        self.free_at = end
        self.busy += lane_ps * self.lanes
        self.requests += 1
        wait = start - ready
        self.wait_total += wait
        self.wait_max = max(self.wait_max, wait)
        return start, end


def make(path, broken=False, level="vector", inferences=2):
    assert level in ("none", "layer", "vector") and inferences >= 1
    # ---- components -------------------------------------------------------------------------
    comps = []  # (id, kind, name, group)
    for t in range(4):
        comps.append((t, "tile", "tile%d" % t, 0))
    comps += [(4, "bus", "g0.in_bus", 0), (5, "bus", "g0.out_bus", 0), (6, "vecmod", "vm0", 0)]
    layer_names = ["conv1", "relu1", "fc"]
    for i, n in enumerate(layer_names):
        comps.append((7 + i, "layer", "layer." + n, -1))
    IN_BUS, OUT_BUS, VM = 4, 5, 6
    servers = {c[0]: Server(c[0], {"tile": 1, "bus": 2, "vecmod": 4, "layer": 1}[c[1]])
               for c in comps}

    # ---- network and mapping ----------------------------------------------------------------
    # layer, name, kind, crossbar, rows, cols, repeat, vectors, wb, ab, adc, tiles_per_copy,
    # copies, first_tile, last_tile, group
    layers = [
        (0, "conv1", "conv2d", 1, 27, 16, 1, 4, 8, 8, 6, 1, 2, 0, 1, 0),
        (1, "relu1", "relu", 0, 0, 0, 1, 128, 0, 0, 0, 0, 1, -1, -1, 0),
        (2, "fc", "linear", 1, 64, 10, 1, 1, 8, 8, 6, 1, 1, 2, 2, 0),
    ]
    T_IN, T_VMM, T_OUT = 120, 1000, 80          # ps per vector (bus lane times, tile)
    E_VMM, E_WORD = 13.7, 0.31                  # pJ per vmm, pJ per bus transfer
    T_LANE_OP, E_OP = 10, 0.0625                # ps per lane op, pJ per op
    VM_REQ_OPS = 64                             # ops per vector-module request

    events = []  # (t0, t1, component, kind, layer, copy, inference, vector, vectors, energy)

    def crossbar_layer(l, ready, inf):
        """Vectors split evenly over copies; copy c serves [c*P/C, (c+1)*P/C) on tile first+c."""
        P, copies, first = layers[l][7], layers[l][12], layers[l][13]
        per = P // copies
        reqs = []  # (vector, copy)
        for k in range(per):
            for c in range(copies):
                reqs.append((c * per + k, c))
        done = {}
        for v, c in reqs:  # input bus, in arrival order
            s, e = servers[IN_BUS].serve(ready, T_IN)
            events.append((s, e, IN_BUS, K_TRANSFER, l, c, inf, v, 1, E_WORD))
            done[v] = e
        for v, c in reqs:  # tiles
            tile = first + c
            s, e = servers[tile].serve(done[v], T_VMM)
            events.append((s, e, tile, K_VMM, l, c, inf, v, 1, E_VMM))
            done[v] = e
        for v, c in sorted(reqs, key=lambda r: done[r[0]]):  # output bus, in ready order
            s, e = servers[OUT_BUS].serve(done[v], T_OUT)
            events.append((s, e, OUT_BUS, K_TRANSFER, l, c, inf, v, 1, E_WORD))
            done[v] = e
        return done

    def digital_layer(l, ready, inf):
        P = layers[l][7]
        done = {}
        lanes = servers[VM].lanes
        for r in range(P // VM_REQ_OPS):
            v = r * VM_REQ_OPS
            s, e = servers[VM].serve(ready, T_LANE_OP * VM_REQ_OPS // lanes)
            events.append((s, e, VM, K_VECTOR_OP, l, 0, inf, v, VM_REQ_OPS, E_OP * VM_REQ_OPS))
            done[v] = e
        return done

    # ---- simulate: overlap off, each layer starts when the previous one ended ---------------
    t = 0
    layer_times = {}  # (layer, inference) -> (start, end)
    inf_bounds = []
    for inf in range(inferences):
        inf_start = t
        for l in range(len(layers)):
            first = len(events)
            if layers[l][3]:
                crossbar_layer(l, t, inf)
            else:
                digital_layer(l, t, inf)
            mine = events[first:]
            start = min(ev[0] for ev in mine)
            end = max(ev[1] for ev in mine)
            layer_times[(l, inf)] = (start, end)
            t = end
        inf_bounds.append((inf_start, t))
    makespan = t

    # layer rows: one per layer copy and inference, on the layer's controller
    layer_events = []
    for (l, inf), _ in sorted(layer_times.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        copies = layers[l][12]
        per = layers[l][7] // copies
        for c in range(copies):
            mine = [ev for ev in events if ev[4] == l and ev[6] == inf and ev[5] == c]
            layer_events.append((min(ev[0] for ev in mine), max(ev[1] for ev in mine), 7 + l,
                                 K_LAYER, l, c, inf, c * per, per,
                                 float(np.sum([ev[9] for ev in mine]))))

    # ---- component summaries ----------------------------------------------------------------
    comp_rows = []
    for cid, kind, name, group in comps:
        sv = servers[cid]
        dyn = float(np.sum([ev[9] for ev in events if ev[2] == cid])) if kind != "layer" else 0.0
        static = {"tile": TILE_STATIC_UW, "vecmod": VM_LEAKAGE_UW}.get(kind, 0.0) \
            * makespan * UW_PS_TO_PJ
        busy = sv.busy if kind != "layer" else 0
        comp_rows.append((cid, kind, name, group, busy, sv.lanes, busy / (sv.lanes * makespan),
                          sv.requests if kind != "layer" else 0, sv.wait_total, sv.wait_max,
                          dyn, static, dyn + static))

    # ---- layer summaries --------------------------------------------------------------------
    # overlap off: the analytic T_l is exactly the simulated time (ratio 1)
    sum_layers = []
    map_rows = []
    for l, (idx, name, kind, xbar, rows, cols, rep, P, wb, ab, adc, tpc, copies, ft, lt,
            grp) in enumerate(layers):
        times = [layer_times[(l, i)][1] - layer_times[(l, i)][0] for i in range(inferences)]
        fs, fe = layer_times[(l, 0)]
        mine = [ev for ev in events if ev[4] == l]
        busy = 0
        for ev in mine:
            busy += (ev[1] - ev[0]) * servers[ev[2]].lanes
        energy = float(np.sum([ev[9] for ev in mine])) / inferences
        model_time = times[0]
        sum_layers.append((idx, name, model_time, times[0], float(np.mean(times)), max(times),
                           times[0] / model_time, fs, fe, busy, energy, energy * 1.02,
                           busy * 1e-6))
        if xbar:
            t_in, t_tile, t_out, t_d = T_IN, T_VMM, T_OUT, 0
        else:
            t_in = t_tile = t_out = 0
            t_d = model_time
        map_rows.append((idx, name, kind, xbar, rows, cols, rep, P, wb, ab, adc, tpc, copies, ft,
                         lt, grp, t_in, t_tile, t_out, t_d, model_time))

    # ---- inference and network summaries ----------------------------------------------------
    inf_rows = [(i, s, e, e - s) for i, (s, e) in enumerate(inf_bounds)]
    latency = inf_rows[0][3]
    first = inferences // 2  # the steady-state window: completions first .. N-1
    if inferences >= 2:
        period = (inf_rows[-1][2] - inf_rows[first - 1][2]) / (inferences - first)
        throughput = 1 / (period * 1e-12)
    else:
        period = latency
        throughput = 1 / (latency * 1e-12)
    cat = {c: 0.0 for c in ENERGY_CATEGORIES}
    for ev in events:
        if ev[3] == K_VMM:
            for k, share in VMM_SPLIT.items():
                cat[k] += ev[9] * share
        elif ev[3] == K_TRANSFER:
            cat["bus"] += ev[9]
        elif ev[3] == K_VECTOR_OP:
            for k, share in VECOP_SPLIT.items():
                cat[k] += ev[9] * share
    for r in comp_rows:
        if r[1] == "tile":
            cat["static_crossbar"] += r[11]
        elif r[1] == "vecmod":
            cat["static_sram"] += r[11]
    cat = {k: v / inferences for k, v in cat.items()}
    e_per_inf = float(np.sum([r[12] for r in comp_rows])) / inferences
    model_latency = sum(r[2] for r in sum_layers)
    tiles_used = 3
    tile_busy = sum(r[4] for r in comp_rows if r[1] == "tile")
    single = e_per_inf * 1.1  # any figure: the reader checks only that its EDP uses it
    macs = 1000
    net_row = ((inferences, makespan, latency, model_latency, first, float(period),
                float(max(r[2] for r in sum_layers)), throughput,
                1 / (max(r[2] for r in sum_layers) * 1e-12), macs, e_per_inf,
                float(np.sum([r[11] for r in sum_layers])) * 1.05, single, single * 1.05,
                2 * macs / e_per_inf, 2 * macs / single, 2.5, 2 * macs * throughput * 1e-12 / 2.5,
                123.0)
               + tuple(cat[c] for c in ENERGY_CATEGORIES)
               + tuple(cat[c] * 1.1 for c in ENERGY_CATEGORIES)
               + (tiles_used, 4, 1, tile_busy / (tiles_used * makespan), 0.8,
                  single * latency * 1e-12))

    if broken:  # one known inconsistency, after every summary is computed
        for i, ev in enumerate(events):
            if ev[2] == 1 and ev[3] == K_VMM:
                events[i] = ev[:9] + (ev[9] + 1.0,)
                break

    # ---- write ------------------------------------------------------------------------------
    config = ('arch = { name = "fake"; tiles = { count = 4; }; };\n'
              'network = { name = "toy3"; origin = "tests/make_fake_trace.py"; };\n')
    with h5py.File(path, "w") as f:
        meta = f.create_group("meta")
        for k, v in [("xbarsim_version", "0.1.0"), ("git_describe", "unknown"),
                     ("command_line", "tests/make_fake_trace.py " + path), ("config", config)]:
            meta.attrs[k] = np.bytes_(v)
        meta.attrs["seed"] = np.uint64(42)
        for k, v in [("start_time", "2026-11-22T07:00:00Z"), ("host", "fakehost"),
                     ("network", "toy3"), ("arch", "fake")]:
            meta.attrs[k] = np.bytes_(v)
        meta.attrs["inferences"] = np.uint64(inferences)
        meta.attrs["overlap"] = np.bytes_("off")
        meta.attrs["trace_level"] = np.bytes_(level)
        meta.attrs["wall_seconds"] = np.float64(0.001)
        meta.attrs["events"] = np.uint64(3 * len(events))

        table(f, "/mapping/layers", [
            ("layer", "u4", "index"), ("name", S_NAME, "-"), ("kind", S_KIND, "-"),
            ("crossbar", "u1", "-"), ("rows", "u8", "count"), ("cols", "u8", "count"),
            ("repeat", "u4", "count"), ("vectors", "u8", "count"), ("wb", "u4", "bits"),
            ("ab", "u4", "bits"), ("adc_bits", "u4", "bits"), ("tiles_per_copy", "u8", "count"),
            ("copies", "u4", "count"), ("first_tile", "i8", "id"), ("last_tile", "i8", "id"),
            ("group", "i8", "index"), ("model_t_in_ps", "u8", "ps"),
            ("model_t_tile_ps", "u8", "ps"), ("model_t_out_ps", "u8", "ps"),
            ("model_t_d_ps", "u8", "ps"), ("model_time_ps", "u8", "ps"),
        ], map_rows, "One row per network layer: its mapping and the analytic stage times.")

        table(f, "/components", [
            ("id", "u4", "id"), ("kind", S_KIND, "-"), ("name", S_NAME, "-"),
            ("group", "i8", "index"),
        ], [c for c in comps], "One row per simulated component.")

        if level != "none":
            rows = list(layer_events)
            if level == "vector":
                rows += events
            rows.sort(key=lambda ev: (ev[1], ev[0], ev[2]))
            # units: one component each; repeat 1, period 0: one row per activity
            rows = [ev[:3] + (1,) + ev[3:] + (1, 0) for ev in rows]
            cols = [("t_start_ps", "u8", "ps"), ("t_end_ps", "u8", "ps"),
                    ("component", "u4", "id"), ("units", "u4", "count"), ("kind", "u4", "-"),
                    ("layer", "i4", "index"),
                    ("copy", "i4", "index"), ("inference", "i8", "index"),
                    ("vector", "i8", "index"), ("vectors", "u8", "count"),
                    ("energy_pj", "f8", "pJ"), ("repeat", "u4", "count"),
                    ("period_ps", "u8", "ps")]
            dtype = np.dtype([(n, t) for n, t, _ in cols])
            data = np.array(rows, dtype=dtype)
            ds = f.create_dataset("/trace/events", shape=(0,), maxshape=(None,), dtype=dtype,
                                  chunks=(65536,), shuffle=True, compression="gzip")
            ds.resize((len(data),))
            ds[:] = data
            ds.attrs["units"] = np.array([u for _, _, u in cols], dtype="S16")
            ds.attrs["description"] = np.bytes_("One row per activity.")
            ds.attrs["kind_names"] = np.array(KIND_NAMES, dtype="S16")

        table(f, "/summary/layers", [
            ("layer", "u4", "index"), ("name", S_NAME, "-"), ("model_time_ps", "u8", "ps"),
            ("first_time_ps", "u8", "ps"), ("mean_time_ps", "f8", "ps"),
            ("max_time_ps", "u8", "ps"), ("ratio", "f8", "-"), ("first_start_ps", "u8", "ps"),
            ("first_end_ps", "u8", "ps"), ("busy_tile_ps", "u8", "ps"), ("energy_pj", "f8", "pJ"),
            ("model_energy_pj", "f8", "pJ"), ("model_static_tiles_pj", "f8", "pJ"),
        ], sum_layers, "One row per network layer: simulated and analytic time and energy.")

        table(f, "/summary/components", [
            ("id", "u4", "id"), ("kind", S_KIND, "-"), ("name", S_NAME, "-"),
            ("group", "i8", "index"), ("busy_ps", "u8", "ps"), ("servers", "u4", "count"),
            ("utilisation", "f8", "fraction"), ("requests", "u8", "count"),
            ("wait_total_ps", "u8", "ps"), ("wait_max_ps", "u8", "ps"),
            ("energy_dynamic_pj", "f8", "pJ"), ("energy_static_pj", "f8", "pJ"),
            ("energy_total_pj", "f8", "pJ"),
        ], comp_rows, "One row per component: busy time, queueing and energy over the run.")

        table(f, "/summary/inferences", [
            ("inference", "u8", "index"), ("start_ps", "u8", "ps"), ("end_ps", "u8", "ps"),
            ("latency_ps", "u8", "ps"),
        ], inf_rows, "One row per inference.")

        table(f, "/summary/network", [
            ("inferences", "u8", "count"), ("makespan_ps", "u8", "ps"),
            ("latency_ps", "u8", "ps"), ("model_latency_ps", "u8", "ps"),
            ("window_first", "u8", "index"), ("period_ps", "f8", "ps"),
            ("model_period_ps", "f8", "ps"),
            ("throughput_per_s", "f8", "inferences/s"),
            ("model_throughput_per_s", "f8", "inferences/s"), ("macs", "u8", "count"),
            ("energy_per_inference_pj", "f8", "pJ"), ("model_energy_pj", "f8", "pJ"),
            ("single_energy_pj", "f8", "pJ"), ("model_single_energy_pj", "f8", "pJ"),
            ("tops_per_w", "f8", "TOPS/W"), ("single_tops_per_w", "f8", "TOPS/W"),
            ("area_mm2", "f8", "mm2"), ("tops_per_mm2", "f8", "TOPS/mm2"),
            ("programming_energy_pj", "f8", "pJ"),
        ] + [("energy_%s_pj" % c, "f8", "pJ") for c in ENERGY_CATEGORIES]
          + [("single_energy_%s_pj" % c, "f8", "pJ") for c in ENERGY_CATEGORIES] + [
            ("tiles_used", "u8", "count"), ("tiles_total", "u8", "count"),
            ("groups_used", "u8", "count"),
            ("utilisation", "f8", "fraction"), ("model_utilisation", "f8", "fraction"),
            ("edp_pj_s", "f8", "pJ*s"),
        ], [net_row], "The whole run in one row.")
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="HDF5 file to write")
    ap.add_argument("--break", dest="broken", action="store_true",
                    help="add 1 pJ to one vmm event of tile1 (check() must then fail)")
    ap.add_argument("--level", default="vector", choices=["none", "layer", "vector"],
                    help="trace level (default vector)")
    ap.add_argument("--inferences", type=int, default=2, help="inferences (default 2)")
    a = ap.parse_args(argv)
    make(a.out, broken=a.broken, level=a.level, inferences=a.inferences)
    print(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
