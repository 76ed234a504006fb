"""test_model_doc: docs/MODEL.md's worked example cannot drift from the code.

Reads the `worked-example` block of docs/MODEL.md, recomputes every result from the block's own
inputs with the document's formulas (written out again below, independently of the C code), checks
that the document's stated results are those, and that `xbarsim map lrmp --net resnet18 --json`
gives the same figures for the layer.

Usage: test_model_doc.py XBARSIM_BINARY SOURCE_DIR
"""
import json
import math
import subprocess
import sys


def block(path):
    """The key = value pairs of the ```worked-example block, as numbers."""
    values, inside = {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("```worked-example"):
                inside = True
                continue
            if inside and line.startswith("```"):
                break
            if inside and line and not line.startswith("#"):
                k, v = (s.strip() for s in line.split("=", 1))
                values[k] = float(v)
    if not values:
        raise SystemExit("no worked-example block in " + path)
    return values


def cdiv(a, b):
    return -(-int(a) // int(b))


def recompute(d):
    """The layer's stage times and energies from the document's formulas."""
    cyc = int(d["cycle_ps"])
    slices = cdiv(d["wb"], d["cell_bits"])
    cols = int(d["N"]) * slices
    row_sizes = [min(int(d["tile_rows"]), int(d["R"]) - i)
                 for i in range(0, int(d["R"]), int(d["tile_rows"]))]
    col_sizes = [min(int(d["tile_cols"]), cols - j) for j in range(0, cols, int(d["tile_cols"]))]
    shapes = [(r, c) for r in row_sizes for c in col_sizes]
    steps = cdiv(d["ab"], d["dac_bits"])

    def vmm(r, c):
        groups = cdiv(r, d["rows_active"])
        rounds = cdiv(c, d["adc_count"])
        t = steps * groups * rounds * int(d["adc_time_cycles"]) * cyc
        reads = steps * groups * c
        e = {"dac": steps * r * d["dac_pj"],
             "crossbar": steps * r * c * d["cell_read_pj"] + reads * d["column_read_pj"],
             "sample_hold": reads * d["sample_pj"],
             "adc": reads * d["adc_fom_pj"] * 2 ** int(d["adc_bits"]),
             "shift_add": reads * d["shift_add_pj"]}
        return t, e

    in_bits = int(d["R"]) * int(d["ab"])
    psums = len(row_sizes) * cols
    out_bits = psums * int(d["psum_bits"])
    lane_ops = psums + int(d["N"])
    r = {"tiles_per_copy": len(shapes),
         "t_in_ps": cdiv(cdiv(in_bits, d["in_lane_bits"]), d["in_lanes"]) * cyc,
         "t_tile_ps": max(vmm(rr, cc)[0] for rr, cc in shapes),
         "t_out_ps": cdiv(cdiv(out_bits, d["out_lane_bits"]), d["out_lanes"]) * cyc,
         "t_d_ps": cdiv(lane_ops, d["vector_lanes"]) * cyc}
    # buffer: input and output, double-buffered, against the SRAM of the layer's groups; the
    # overflow's half of each inference goes out after the layer and comes back before it
    need = 2 * (int(d["in_elements"]) + int(d["out_elements"]))
    r["spill_bytes"] = max(0, need - int(d["sram_bytes"]) * int(d["groups"]))
    way_bits = r["spill_bytes"] * 4
    rate = d["offchip_links"] * d["offchip_gbytes_per_s"]  # bits per ns / 8
    way_ps = int(d["offchip_latency_ps"]) + math.ceil(way_bits * 125 / rate) if way_bits else 0
    r["t_io_ps"] = 2 * way_ps
    r["time_ps"] = int(d["P"]) * (r["t_in_ps"] + r["t_tile_ps"] + r["t_out_ps"] + r["t_d_ps"]) + \
        r["t_io_ps"]
    per_vector = {k: 0.0 for k in ("dac", "crossbar", "sample_hold", "adc", "shift_add")}
    for rr, cc in shapes:
        for k, v in vmm(rr, cc)[1].items():
            per_vector[k] += v
    per_vector["bus"] = (in_bits + out_bits) * d["bus_pj_per_bit"]
    per_vector["vector"] = lane_ops * d["lane_op_pj"]
    per_vector["sram"] = (cdiv(in_bits, 8) + int(d["N"])) * d["sram_pj_per_byte"]
    for k, v in per_vector.items():
        r[k + "_pj_total"] = v * d["P"]
    r["offchip_pj_total"] = 2 * way_bits * d["offchip_pj_per_bit"]
    r["energy_pj"] = sum(per_vector.values()) * d["P"] + r["offchip_pj_total"]
    return r


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def main():
    binary, src = sys.argv[1], sys.argv[2]
    doc = block(src + "/docs/MODEL.md")
    mine = recompute(doc)
    bad = []
    for k, v in mine.items():
        if k not in doc:
            bad.append("the document states no %s" % k)
        elif not close(v, doc[k]):
            bad.append("%s: the formulas give %.12g, the document says %.12g" % (k, v, doc[k]))
    out = subprocess.run([binary, "map", "lrmp", "--net", "resnet18", "--json"],
                         capture_output=True, text=True, check=True).stdout
    layer = next(l for l in json.loads(out)["layers"] if l["name"] == "layer1.0.conv1")
    for k in ("tiles_per_copy", "t_in_ps", "t_tile_ps", "t_out_ps", "t_d_ps", "t_io_ps",
              "time_ps", "energy_pj"):
        if not close(layer[k], doc[k]):
            bad.append("%s: xbarsim map gives %.12g, the document says %.12g" % (k, layer[k], doc[k]))
    for cat, v in layer["energy_by_category_pj"].items():
        key = cat + "_pj_total"
        if key in doc and not close(v, doc[key]):
            bad.append("%s: xbarsim map gives %.12g, the document says %.12g" % (key, v, doc[key]))
        elif key not in doc and v != 0:
            bad.append("%s: xbarsim map gives %.12g, the document says nothing" % (key, v))
    for b in bad:
        print("FAIL:", b)
    print("%d passed, %d failed" % (len(mine) + 8 - len(bad), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
