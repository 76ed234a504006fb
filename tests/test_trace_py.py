#!/usr/bin/python3
"""Test scripts/xbarsim_trace.py against the schema in traces/README.md.

    tests/test_trace_py.py [FILE.h5]

With no argument the files come from tests/make_fake_trace.py (a consistent one, one made
inconsistent with --break, and layer-level, untraced and single-inference variants), written
into a temporary folder. With FILE.h5 (e.g. the output of `xbarsim run`) that file is tested
instead, and the tests that need the fakes are skipped. The expected columns and units are
parsed from traces/README.md itself, so the test follows the contract. Prints one line per test
and "N passed, N failed" last; exits 1 on any failure. Needs /usr/bin/python3 (Debian's h5py,
pandas, matplotlib).
"""
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPT = os.path.join(ROOT, "scripts", "xbarsim_trace.py")
README = os.path.join(ROOT, "traces", "README.md")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import make_fake_trace  # noqa: E402
import xbarsim_trace as xt  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EVENT_EXTRA = {"kind_name", "component_name", "component_kind"}


# ---- the contract, from traces/README.md ------------------------------------------------------

def parse_readme(path=README):
    """({table key: [(column, unit)]}, [meta attribute names]) from the README's tables."""
    tables, meta = {}, []
    section = None
    header = None
    with open(path) as f:
        for line in f:
            if line.startswith("# The output of `xbarsim search`"):
                break  # the search file's schema follows: not part of a run's file
            m = re.match(r"^## `([^`]+)`", line)
            if m:
                section, header = m.group(1), None
                continue
            if line.startswith("## "):
                section, header = None, None
                continue
            if section is None or not line.startswith("|"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                header = [c.lower() for c in cells]
                continue
            if set(line.strip()) <= set("|-: "):
                continue
            names = re.findall(r"`([^`]+)`", cells[0])
            if section == "/meta":
                meta += names
                continue
            unit = cells[header.index("unit")] if "unit" in header else ""
            key = "events" if section == "/trace/events" else section.strip("/").replace("/",
                                                                                        "_")
            rows = tables.setdefault(key, [])
            for n in names:
                if "<category>" in n:
                    cats = dict.fromkeys(re.findall(r"`([^`]+)`", cells[-1]))
                    rows += [(n.replace("<category>", c), unit) for c in cats]
                else:
                    rows.append((n, unit))
    # "as in /components": columns with no unit of their own take /components'
    comp_units = dict(tables["components"])
    for key, rows in tables.items():
        tables[key] = [(n, u if u else comp_units.get(n, u)) for n, u in rows]
    return tables, meta


EXPECTED, META_ATTRS = parse_readme()


# ---- fixtures ---------------------------------------------------------------------------------

class Files:
    good = None      # the file under test
    broken = None    # the --break fake (None with a file argument)
    variants = []    # further consistent fakes: layer level, no trace, one inference
    tmp = None
    fake = True


def run(args, **kw):
    return subprocess.run([sys.executable, SCRIPT] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, **kw)


# ---- tests ------------------------------------------------------------------------------------

def test_readme_parsed():
    assert set(EXPECTED) == {"mapping_layers", "components", "events", "summary_layers",
                             "summary_components", "summary_inferences", "summary_network"}, \
        sorted(EXPECTED)
    assert ("energy_static_adc_pj", "pJ") in EXPECTED["summary_network"]
    assert ("t_start_ps", "ps") in EXPECTED["events"]
    assert "trace_level" in META_ATTRS and "events" in META_ATTRS


def test_load_keys_and_columns():
    for path in [Files.good] + Files.variants:
        d = xt.load(path)
        assert set(d) == set(EXPECTED) | {"meta", "units"}, sorted(d)
        for key, cols in EXPECTED.items():
            want = [c for c, _ in cols]
            got = list(d[key].columns)
            if key == "events":
                assert set(got) - set(want) == EVENT_EXTRA, (path, key, got)
                got = [c for c in got if c not in EVENT_EXTRA]
            assert set(got) == set(want), (path, key, sorted(set(got) ^ set(want)))
            assert len(got) == len(want), (path, key, "duplicate columns")


def test_units_match_readme():
    d = xt.load(Files.good, events=False)
    for key, cols in EXPECTED.items():
        for col, unit in cols:
            if key == "events" and not d["events"].attrs["present"]:
                continue
            assert d["units"][key].get(col) == unit, (key, col, d["units"][key].get(col), unit)
    assert d["units"]["events"]["t_start_ps"] == "ps"
    assert d["units"]["events"]["energy_pj"] == "pJ"
    assert d["units"]["summary_network"]["throughput_per_s"] == "inferences/s"
    assert d["units"]["summary_components"]["utilisation"] == "fraction"


def test_meta_and_strings_decoded():
    d = xt.load(Files.good)
    missing = [a for a in META_ATTRS if a not in d["meta"]]
    assert not missing, missing
    for a in ("network", "arch", "trace_level", "overlap", "config", "start_time"):
        assert isinstance(d["meta"][a], str), (a, type(d["meta"][a]))
    assert isinstance(d["meta"]["inferences"], int)
    assert d["meta"]["trace_level"] in ("none", "layer", "vector")
    assert d["meta"]["overlap"] in ("on", "off")
    for key in ("mapping_layers", "components", "summary_layers", "summary_components"):
        for col in ("name", "kind"):
            if col in d[key].columns:
                assert all(isinstance(v, str) for v in d[key][col]), (key, col)
                assert all("\x00" not in v for v in d[key][col]), (key, col)
    ev = d["events"]
    if len(ev):
        assert not ev["kind_name"].isna().any()
        assert not ev["component_name"].isna().any()
        assert isinstance(ev["kind_name"].iloc[0], str)


def test_check_consistent():
    for path in [Files.good] + Files.variants:
        problems = xt.check(xt.load(path))
        assert problems == [], (path, problems[:10])


def test_check_broken():
    if not Files.fake:
        return "skipped (file given)"
    problems = xt.check(xt.load(Files.broken))
    assert problems, "check() found nothing in the --break file"
    assert any("tile1" in p and "energy" in p for p in problems), problems


def test_events_energy_per_component():
    d = xt.load(Files.good)
    if d["meta"]["trace_level"] != "vector":
        return "skipped (trace level %s)" % d["meta"]["trace_level"]
    ev = d["events"]
    ev = ev[ev["kind_name"] != "layer"]
    by = ev.groupby("component")["energy_pj"].sum()
    sc = d["summary_components"]
    for _, r in sc[sc["kind"] != "layer"].iterrows():
        e = float(by.get(r["id"], 0.0))
        assert abs(e - r["energy_dynamic_pj"]) <= 1e-9 * max(abs(e), 1e-3), (r["name"], e,
                                                                              r["energy_dynamic_pj"])


def test_load_without_events():
    d = xt.load(Files.good, events=False)
    ev = d["events"]
    assert len(ev) == 0 and not ev.attrs["loaded"]
    assert set(ev.columns) == {c for c, _ in EXPECTED["events"]} | EVENT_EXTRA
    assert xt.check(d) == [], xt.check(d)[:10]
    full = xt.load(Files.good)
    rows = max(int(full["events"].attrs["rows"]), 1)
    small = xt.load(Files.good, slice_rows=max(7, rows // 13 + 1))  # several slices
    assert len(small["events"]) == len(full["events"])
    assert len(xt.load(Files.good, expand=False)["events"]) == full["events"].attrs["rows"]
    if len(full["events"]):
        assert np.array_equal(small["events"]["t_end_ps"].to_numpy(),
                              full["events"]["t_end_ps"].to_numpy())
    lay = xt.load(Files.good, kinds=["layer"])["events"]
    assert set(lay["kind_name"].astype(str)) <= {"layer"}
    assert len(lay) == int((full["events"]["kind_name"] == "layer").sum())


def test_expand_units_by_hand():
    """Two rows, of 3 and 1 units: four rows, components 5, 6, 7 and 9, energy 30 / 3 each."""
    dt = np.dtype([(n, t) for n, t in xt.EVENT_COLUMNS])
    arr = np.zeros(2, dtype=dt)
    arr["component"] = [5, 9]
    arr["units"] = [3, 1]
    arr["energy_pj"] = [30.0, 2.5]
    arr["t_start_ps"] = [100, 200]
    out = xt.expand_units(arr)
    assert list(out["component"]) == [5, 6, 7, 9], list(out["component"])
    assert list(out["units"]) == [1, 1, 1, 1]
    assert list(out["energy_pj"]) == [10.0, 10.0, 10.0, 2.5]
    assert list(out["t_start_ps"]) == [100, 100, 100, 200]
    old = np.zeros(1, dtype=[(n, t) for n, t in xt.EVENT_COLUMNS if n != "units"])
    assert xt.expand_units(old) is old  # a file from before units: unchanged


def test_expand_repeats_by_hand():
    """A row of 3 repetitions 100 ps apart from vector 4 (2 vectors each), energy 30, and a row
    without vectors (-1) of 2 repetitions: five rows at 10, 110, 210 and 50, 80 ps."""
    dt = np.dtype([(n, t) for n, t in xt.EVENT_COLUMNS])
    arr = np.zeros(2, dtype=dt)
    arr["t_start_ps"] = [10, 50]
    arr["t_end_ps"] = [15, 60]
    arr["component"] = [5, 9]
    arr["units"] = [1, 1]
    arr["vector"] = [4, -1]
    arr["vectors"] = [2, 0]
    arr["energy_pj"] = [30.0, 5.0]
    arr["repeat"] = [3, 2]
    arr["period_ps"] = [100, 30]
    out = xt.expand_repeats(arr)
    assert list(out["t_start_ps"]) == [10, 110, 210, 50, 80], list(out["t_start_ps"])
    assert list(out["t_end_ps"]) == [15, 115, 215, 60, 90], list(out["t_end_ps"])
    assert list(out["vector"]) == [4, 6, 8, -1, -1], list(out["vector"])
    assert list(out["energy_pj"]) == [10.0, 10.0, 10.0, 2.5, 2.5]
    assert list(out["repeat"]) == [1] * 5 and list(out["period_ps"]) == [0] * 5
    assert list(out["component"]) == [5, 5, 5, 9, 9]
    old = np.zeros(1, dtype=[(n, t) for n, t in xt.EVENT_COLUMNS if n not in ("repeat",
                                                                             "period_ps")])
    assert xt.expand_repeats(old) is old  # a file from before repeat: unchanged


def test_cli_check():
    r = run(["check", Files.good])
    assert r.returncode == 0 and r.stdout.strip() == "consistent", (r.returncode, r.stdout,
                                                                   r.stderr)
    if Files.fake:
        r = run(["check", Files.broken])
        assert r.returncode == 1 and "tile1" in r.stdout, (r.returncode, r.stdout, r.stderr)


def test_cli_summary():
    r = run(["summary", Files.good])
    assert r.returncode == 0, r.stderr
    for s in ("/summary/network", "/summary/layers", "latency_ps", "first_time_ps [ps]",
              "energy_pj [pJ]", "inferences/s"):
        assert s in r.stdout, s


def _png(path):
    assert os.path.isfile(path), path
    assert os.path.getsize(path) > len(PNG_MAGIC), path
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC, path


def test_cli_plot_each():
    out = os.path.join(Files.tmp, "plots")
    stem = os.path.splitext(os.path.basename(Files.good))[0]
    for w in xt.PLOTS:
        r = run(["plot", Files.good, "-o", out, "--which", w])
        assert r.returncode == 0, (w, r.stderr)
        path = os.path.join(out, "%s_%s.png" % (stem, w))
        assert r.stdout.strip() == path, (r.stdout, path)
        _png(path)


def test_power_binning_by_hand():
    # Events spread evenly over their spans (and an instant one), against a brute-force sum of
    # each event's overlap with [0, edge) worked out event by event.
    import numpy as np
    rng = np.random.default_rng(7)
    t0 = rng.integers(0, 1000, 300).astype(float)
    t1 = t0 + rng.integers(0, 200, 300)
    e = rng.random(300) * 5
    edges = np.linspace(0, 1300, 27)
    got = xt._cumulative_energy(t0, t1, e, edges)
    want = []
    for x in edges:
        tot = 0.0
        for a, b, en in zip(t0, t1, e):
            if b <= a:
                tot += en if a < x else 0.0
            else:
                tot += en * min(max(x - a, 0.0), b - a) / (b - a)
        want.append(tot)
    assert np.allclose(got, want, rtol=1e-12, atol=1e-9), (got, want)


def test_power_conserves_energy():
    # The binned dynamic power integrates back to the trace's dynamic energy.
    import numpy as np
    d = xt.load(Files.good)
    t_us, series, static_w = xt.power_series(d, by="auto", bins=50)
    width_ps = (t_us[1] - t_us[0]) * 1e6
    integral = sum(float(np.sum(v)) for v in series.values()) * width_ps
    ev = d["events"]
    kinds = ev[ev["kind_name"] != "layer"] if (ev["kind_name"] != "layer").any() else \
        ev[ev["kind_name"] == "layer"]
    assert abs(integral - float(kinds["energy_pj"].sum())) <= 1e-6 * max(1.0, integral), \
        (integral, float(kinds["energy_pj"].sum()))
    assert static_w >= 0


def test_pareto_front_by_hand():
    # latency minimised, accuracy maximised: (1, .80) (2, .90) (3, .85) (4, .95) (2, .70)
    # -> the front is (1, .80), (2, .90), (4, .95); (3, .85) and (2, .70) are beaten by (2, .90).
    import pandas as pd
    df = pd.DataFrame({"latency_us": [1, 2, 3, 4, 2], "accuracy": [.80, .90, .85, .95, .70],
                       "status": ["ok"] * 5})
    f = xt.pareto_front(df, "latency_us", "accuracy")
    assert list(zip(f["latency_us"], f["accuracy"])) == [(1, .80), (2, .90), (4, .95)], f
    # both minimised (energy against latency): (1, 5) (2, 3) (3, 4) (4, 1) -> (1,5) (2,3) (4,1)
    df = pd.DataFrame({"latency_us": [1, 2, 3, 4], "energy_uj": [5, 3, 4, 1],
                       "status": ["ok"] * 4})
    f = xt.pareto_front(df, "latency_us", "energy_uj")
    assert list(f["latency_us"]) == [1, 2, 4], f


def test_cli_plot_default_dir_and_variants():
    # default: next to FILE; variants exercise the gantt fallback (no trace) and one inference
    for path in Files.variants or [Files.good]:
        copy = os.path.join(Files.tmp, "next_to", os.path.basename(path))
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        if not os.path.exists(copy):
            os.symlink(path, copy)  # a link: a real trace may be large
        r = run(["plot", copy])
        assert r.returncode == 0, r.stderr
        lines = r.stdout.split()
        assert len(lines) == len(xt.PLOTS), lines
        for p in lines:
            assert os.path.dirname(p) == os.path.dirname(copy), p
            _png(p)


def test_cli_compare():
    b = Files.broken if Files.fake else Files.good
    out = os.path.join(Files.tmp, "cmp", "compare.png")
    r = run(["compare", Files.good, b, "-o", out, "--labels", "base,whatif"])
    assert r.returncode == 0, r.stderr
    _png(out)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 2, r.stdout
    assert [x["label"] for x in rows] == ["base", "whatif"]
    for k in ("latency_ratio", "throughput_ratio", "energy_ratio"):
        assert float(rows[0][k]) == 1.0, (k, rows[0][k])
    for k in ("latency_us", "throughput_per_s", "energy_per_inference_uj"):
        assert float(rows[0][k]) > 0, (k, rows[0][k])
    d = xt.load(Files.good, events=False)
    lat = int(d["summary_network"]["latency_ps"].iloc[0]) / 1e6
    assert abs(float(rows[0]["latency_us"]) - lat) <= 1e-8 * lat
    # default labels are the stems
    out2 = os.path.join(Files.tmp, "cmp", "compare2.png")
    r = run(["compare", Files.good, Files.good, "-o", out2])
    assert r.returncode == 0, r.stderr
    _png(out2)
    stem = os.path.splitext(os.path.basename(Files.good))[0]
    assert [x["label"] for x in csv.DictReader(io.StringIO(r.stdout))] == [stem, stem]


def test_cli_help_and_errors():
    for args in (["--help"], ["plot", "--help"], ["check", "--help"], ["summary", "--help"],
                 ["compare", "--help"]):
        r = run(args)
        assert r.returncode == 0 and "usage" in r.stdout.lower(), (args, r.stderr)
    r = run(["plot", Files.good, "--which", "nonsense", "-o", Files.tmp])
    assert r.returncode != 0
    r = run(["check", os.path.join(Files.tmp, "no_such_file.h5")])
    assert r.returncode == 2, (r.returncode, r.stderr)


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_") and callable(v)]


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__)
        return 0 if len(argv) == 2 else 2
    Files.tmp = tempfile.mkdtemp(prefix="test_trace_py.")
    try:
        if len(argv) == 2:
            Files.good = os.path.abspath(argv[1])
            Files.fake = False
        else:
            Files.good = make_fake_trace.make(os.path.join(Files.tmp, "fake.h5"))
            Files.broken = make_fake_trace.make(os.path.join(Files.tmp, "fake_broken.h5"),
                                                broken=True)
            Files.variants = [
                make_fake_trace.make(os.path.join(Files.tmp, "fake_layer.h5"), level="layer"),
                make_fake_trace.make(os.path.join(Files.tmp, "fake_none.h5"), level="none"),
                make_fake_trace.make(os.path.join(Files.tmp, "fake_one.h5"), inferences=1),
            ]
        passed = failed = 0
        for t in TESTS:
            try:
                note = t()
                passed += 1
                print("PASS %s%s" % (t.__name__, " (%s)" % note if note else ""))
            except Exception:
                failed += 1
                print("FAIL %s" % t.__name__)
                traceback.print_exc(file=sys.stdout)
        print("%d passed, %d failed" % (passed, failed))
        return 1 if failed else 0
    finally:
        shutil.rmtree(Files.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
