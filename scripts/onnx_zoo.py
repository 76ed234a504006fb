#!/usr/bin/python3
"""Coverage of scripts/onnx2xbarsim.py on torchvision's classification models.

    scripts/onnx_zoo.py [--xbarsim BIN] [--workdir DIR] [--only NAME ...] [--skip NAME ...]

For every model of torchvision.models.list_models(module=torchvision.models) (80 in torchvision
0.14), built with weights=None (random weights, no download) and in eval mode:
  1. export it with torch.onnx.export, opset 14 (--opset), batch 1, at the crop size of its
     DEFAULT weights' transforms (224 for most; 299 for inception_v3, up to 600 for
     efficientnet_b7), or at 224 when the model refuses that size (ViTs built without weights fix
     224; --size forces one size for all);
  2. convert it with scripts/onnx2xbarsim.py;
  3. map it with `xbarsim map cimaq --net X.cfg --json` (reprogram mode: any size fits) and sum
     rows * cols * repeat over its conv2d and linear layers;
  4. compare that with the weights of PyTorch's Conv2d and Linear modules and of
     MultiheadAttention's in_proj_weight, counting only modules that an eval forward pass runs
     (a module is run when its forward, or its parent's, is called: the auxiliary classifiers of
     googlenet and inception_v3 are not, so they are not in the export either; a weight shared by
     two modules counts once).

It prints one line per model -- converted or failed (with the first line of the failing step's
error), then the crossbar and PyTorch weight counts and whether they match -- and the coverage:
models converted, and models converted with exactly PyTorch's weights. Exit status 0 when every
model that ran converted with exact weights, 1 otherwise, 2 on bad usage.

Each model runs in its own child process (python3 -c, with a --timeout in seconds, default 1800),
so one model's memory is freed before the next. The ONNX files (in a folder per model), configs
and logs go to --workdir (default: a temporary directory removed at the end); with --reuse an
ONNX file already there is converted again without exporting (for iterating on the converter;
--converter and --xbarsim compare versions). Models of more than 2 GB (vit_h_14,
regnet_y_128gf) are exported with their weights as ONNX external data, which the converter does
not read (it needs the weights' shapes only). The whole zoo takes about half an hour on two
cores, a few minutes with --reuse, and several GB of memory for the largest models; it is a
tool, not a test (tests/test_onnx_torch.sh checks nine exports in ctest).

In torchvision 0.14 (torch 1.13, onnx 1.12), 73 of the 80 models convert with exactly PyTorch's
weights. Left: swin_t, swin_s, swin_b and maxvit_t (window attention: views that regroup a map
into windows of tokens, which the network schema cannot express), and swin_v2_t, swin_v2_s and
swin_v2_b (torch.onnx cannot export aten::zero at opset 14). Needs /usr/bin/python3 with Debian's
python3-torch, python3-torchvision and python3-onnx, and a built xbarsim.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONVERTER = os.path.join(HERE, "onnx2xbarsim.py")

# Runs in the child process: export one model and print its PyTorch weight counts as JSON.
EXPORT = r"""
import json, sys, warnings
import torch, torchvision
warnings.filterwarnings("ignore")
name, path, opset, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.manual_seed(0)
model = torchvision.models.get_model(name, weights=None).eval()
sizes = [size] if size else []
if not size:
    try:
        sizes.append(torchvision.models.get_model_weights(name).DEFAULT.transforms().crop_size[0])
    except Exception:
        pass
    sizes.append(224)
called = set()
hooks = [m.register_forward_pre_hook(lambda mod, inp: called.add(id(mod)))
         for m in model.modules()]
for s in sizes:
    x = torch.randn(1, 3, s, s)
    try:
        with torch.no_grad():
            model(x)
        break
    except Exception as exc:
        error = exc
else:
    raise SystemExit(f"forward pass failed: {error}")
for h in hooks:
    h.remove()
modules = dict(model.named_modules())
counted, unused = set(), set()
for mname, mod in modules.items():
    parent = modules.get(mname.rpartition(".")[0]) if mname else None
    run = id(mod) in called or (parent is not None and id(parent) in called)
    weights = []
    if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
        weights = [mod.weight]
    elif isinstance(mod, torch.nn.MultiheadAttention):
        weights = [w for w in (mod.in_proj_weight, mod.q_proj_weight, mod.k_proj_weight,
                               mod.v_proj_weight) if w is not None]
    for w in weights:
        (counted if run else unused).add(w)
unused -= counted
expected = sum(w.numel() for w in counted)
torch.onnx.export(model, x, path, opset_version=opset)
print(json.dumps({"size": s, "expected": expected,
                  "unused": sum(w.numel() for w in unused)}))
"""


def first_line(text, default="no message"):
    """The first non-empty line of text, without the converter's 'onnx2xbarsim: ' prefix."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("onnx2xbarsim: ")
    return default


def last_line(text, default="no message"):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else default


def run(cmd, timeout, log):
    """(exit status, stdout, stderr) of cmd; status None on timeout. Both streams go to log."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        status, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as exc:
        status = None
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = f"timed out after {timeout} s"
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n{out}{err}\n")
    return status, out, err


def crossbar_weights(text):
    d = json.loads(text)
    return sum(l["rows"] * l["cols"] * l["repeat"] for l in d["layers"]
               if l["kind"] in ("conv2d", "linear"))


def one_model(name, args, workdir):
    """A result dict for one model: status ("converted", "export failed", "failed", "map
    failed"), message, got, expected, unused, size, seconds."""
    onnx_dir = os.path.join(workdir, name)  # a model over 2 GB adds a file per weight tensor
    onnx_path = os.path.join(onnx_dir, f"{name}.onnx")
    meta_path = os.path.join(workdir, f"{name}.json")
    cfg_path = os.path.join(workdir, f"{name}.cfg")
    log = os.path.join(workdir, f"{name}.log")
    res = {"name": name, "status": "failed", "message": "", "got": None, "expected": None,
           "unused": 0, "size": None}
    if args.reuse and os.path.exists(onnx_path) and os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    else:
        os.makedirs(onnx_dir, exist_ok=True)
        status, out, err = run([sys.executable, "-c", EXPORT, name, onnx_path, str(args.opset),
                                str(args.size or 0)], args.timeout, log)
        if status != 0:
            res.update(status="export failed", message=last_line(err))
            return res
        meta = json.loads(out.strip().splitlines()[-1])
        with open(meta_path, "w") as f:
            json.dump(meta, f)
    res.update(size=meta["size"], expected=meta["expected"], unused=meta["unused"])
    status, out, err = run([sys.executable, args.converter, onnx_path, "-o", cfg_path],
                           args.timeout, log)
    if status != 0:
        res.update(message=first_line(err))
        return res
    status, out, err = run([args.xbarsim, "map", "cimaq", "--net", cfg_path, "--json"],
                           args.timeout, log)
    if status != 0:
        res.update(status="map failed", message=first_line(err))
        return res
    res.update(status="converted", got=crossbar_weights(out))
    if not args.keep_onnx and not args.reuse:
        shutil.rmtree(onnx_dir)  # ONNX files are large
    return res


def row(res):
    if res["status"] == "converted":
        match = "exact" if res["got"] == res["expected"] else "MISMATCH"
        text = (f"converted  weights {res['got']} vs PyTorch {res['expected']}: {match}")
    else:
        text = f"{res['status']}: {res['message']}"
    extra = f"  ({res['unused']} weights in modules eval never runs)" if res["unused"] else ""
    size = f"{res['size']:>3}" if res["size"] else "  -"
    return f"{res['name']:<20} {size}  {text}{extra}"


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="onnx_zoo.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n", 1)[0] + "\n\n" + __doc__.split("\n\n", 2)[2])
    p.add_argument("--xbarsim", default=os.path.join(ROOT, "build", "cli", "xbarsim"),
                   help="the xbarsim binary (default: build/cli/xbarsim of this tree)")
    p.add_argument("--converter", default=CONVERTER, help="the converter (default: "
                   "scripts/onnx2xbarsim.py of this tree; another version to compare)")
    p.add_argument("--workdir", help="keep ONNX files, configs and logs here (default: a "
                   "temporary directory, removed)")
    p.add_argument("--reuse", action="store_true", help="convert ONNX files already in "
                   "--workdir again instead of exporting")
    p.add_argument("--keep-onnx", action="store_true", help="keep the ONNX files in --workdir "
                   "(default: removed once converted)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run these models only")
    p.add_argument("--skip", nargs="+", metavar="NAME", default=[], help="leave these out")
    p.add_argument("--opset", type=int, default=14, help="ONNX opset (default 14)")
    p.add_argument("--size", type=int, help="input height and width for every model (default: "
                   "each model's own, see above)")
    p.add_argument("--timeout", type=int, default=1800, help="seconds per step (default 1800)")
    args = p.parse_args(argv)
    if args.reuse and not args.workdir:
        p.error("--reuse needs --workdir")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        import torchvision
    except ImportError:
        print("onnx_zoo: cannot import torchvision: install Debian's python3-torch and "
              "python3-torchvision and run with /usr/bin/python3", file=sys.stderr)
        return 2
    if not os.access(args.xbarsim, os.X_OK):
        print(f"onnx_zoo: {args.xbarsim}: not an executable; build xbarsim or pass --xbarsim",
              file=sys.stderr)
        return 2
    names = torchvision.models.list_models(module=torchvision.models)
    unknown = [n for n in (args.only or []) + args.skip if n not in names]
    if unknown:
        print(f"onnx_zoo: unknown model(s) {', '.join(unknown)}; torchvision "
              f"{torchvision.__version__} has {', '.join(names)}", file=sys.stderr)
        return 2
    names = [n for n in (args.only or names) if n not in args.skip]
    workdir = args.workdir or tempfile.mkdtemp(prefix="onnx_zoo.")
    os.makedirs(workdir, exist_ok=True)
    print(f"# torchvision {torchvision.__version__}, opset {args.opset}, {len(names)} models; "
          f"files in {workdir}", flush=True)
    results = []
    try:
        for name in names:
            results.append(one_model(name, args, workdir))
            print(row(results[-1]), flush=True)
    except KeyboardInterrupt:
        print("# interrupted", flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    converted = sum(r["status"] == "converted" for r in results)
    exact = sum(r["status"] == "converted" and r["got"] == r["expected"] for r in results)
    print(f"# coverage: {converted}/{len(results)} converted, {exact}/{len(results)} with "
          "exactly PyTorch's weights")
    return 0 if exact == len(results) == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
