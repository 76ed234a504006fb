#!/usr/bin/python3
"""test_export_weights: scripts/export_weights.py against xbarsim's own float inference.

A LeNet-5 (submodules named as configs/net/lenet5.cfg) and an MLP (an nn.Sequential, exported
with --map) with random weights are written by the script; `xbarsim train --epochs 0 --weights`
computes the logits of a few synthetic 28x28 images, which must equal torch's within 1e-4. A
state_dict of the wrong shape is refused. Exits 77 (skipped) when torch cannot be imported.

Usage: test_export_weights.py XBARSIM_BINARY SOURCE_DIR
"""

import gzip
import os
import subprocess
import sys
import tempfile

try:
    import torch
    from torch import nn
except Exception as exc:  # noqa: BLE001 -- any import failure means: no torch here
    print(f"skip: python3 cannot import torch ({exc.__class__.__name__})")
    sys.exit(77)

import numpy as np

BIN, SRC = sys.argv[1], sys.argv[2]
SCRIPT = os.path.join(SRC, "scripts", "export_weights.py")
IMAGES = 6
failed = 0


def check(name, ok, detail=""):
    global failed
    print(("ok: " if ok else "FAIL: ") + name + (f" ({detail})" if detail else ""))
    failed += not ok


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, 10)

    def forward(self, x):
        x = nn.functional.avg_pool2d(torch.relu(self.c1(x)), 2)
        x = nn.functional.avg_pool2d(torch.relu(self.c3(x)), 2)
        x = torch.flatten(torch.relu(self.c5(x)), 1)
        return self.output(torch.relu(self.f6(x)))


def write_images(d):
    rng = np.random.default_rng(5)
    px = rng.integers(0, 256, size=(IMAGES, 28, 28), dtype=np.uint8)
    head = np.array([0x803, IMAGES, 28, 28], dtype=">u4").tobytes()
    with gzip.open(os.path.join(d, "t10k-images-idx3-ubyte.gz"), "wb") as f:
        f.write(head + px.tobytes())
    labels = (np.arange(IMAGES) % 10).astype(np.uint8)
    with gzip.open(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(np.array([0x801, IMAGES], dtype=">u4").tobytes() + labels.tobytes())
    return torch.from_numpy(px.astype(np.float32) / 255.0).reshape(IMAGES, 1, 28, 28)


def xbarsim_logits(d, net, weights):
    out = os.path.join(d, "logits.csv")
    subprocess.run([BIN, "train", "--net", net, "--epochs", "0", "--weights", weights,
                    "--data", d, "--logits", out, "--logits-images", str(IMAGES)],
                   check=True, stdout=subprocess.DEVNULL)
    rows = np.loadtxt(out, delimiter=",", skiprows=1)
    z = np.zeros((IMAGES, 10))
    for image, cls, logit in rows:
        z[int(image), int(cls)] = logit
    return z


def main():
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as d:
        x = write_images(d)

        lenet = LeNet5().eval()
        torch.save(lenet.state_dict(), os.path.join(d, "lenet.pt"))
        w = os.path.join(d, "lenet5.h5")
        subprocess.run([sys.executable, SCRIPT, "--net", "lenet5", "--state",
                        os.path.join(d, "lenet.pt"), "-o", w], check=True)
        with torch.no_grad():
            want = lenet(x).numpy()
        diff = np.abs(xbarsim_logits(d, "lenet5", w) - want).max()
        check("lenet5 logits equal torch's", diff <= 1e-4, f"max |difference| {diff:.3g}")

        mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                            nn.ReLU(), nn.Linear(128, 10)).eval()
        torch.save(mlp.state_dict(), os.path.join(d, "mlp.pt"))
        w = os.path.join(d, "mlp.h5")
        subprocess.run([sys.executable, SCRIPT, "--net", "mlp-fmnist", "--state",
                        os.path.join(d, "mlp.pt"), "--map", "1=fc1", "--map", "3=fc2",
                        "--map", "5=fc3", "-o", w], check=True)
        with torch.no_grad():
            want = mlp(x).numpy()
        diff = np.abs(xbarsim_logits(d, "mlp-fmnist", w) - want).max()
        check("mlp-fmnist logits equal torch's", diff <= 1e-4, f"max |difference| {diff:.3g}")

        bad = {k: v for k, v in lenet.state_dict().items()}
        bad["f6.weight"] = torch.zeros(80, 120)
        torch.save(bad, os.path.join(d, "bad.pt"))
        r = subprocess.run([sys.executable, SCRIPT, "--net", "lenet5", "--state",
                            os.path.join(d, "bad.pt"), "-o", os.path.join(d, "bad.h5")],
                           capture_output=True, text=True)
        check("wrong shape refused", r.returncode != 0 and "found shape (80, 120), expected "
              "(84, 120)" in r.stderr and not os.path.exists(os.path.join(d, "bad.h5")),
              r.stderr.strip())
    print(f"{3 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
