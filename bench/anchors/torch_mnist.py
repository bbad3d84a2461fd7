"""The PyTorch anchor of `./course bench mnist_cpu` (and mnist_cuda): the same two workloads
as tinyref, timed the same way.

  cnn: tinygrad's beautiful_mnist: raw uint8 pixels, batch 512 drawn with replacement, Adam 1e-3,
       70 steps; the median step time after warm-up, and the test accuracy at the end.
  mlp: 784-128-10 ReLU MLP, pixels normalized with MNIST's mean and std, SGD 0.1, batch 64, one shuffled epoch; the
       epoch's wall time and the test accuracy.

Prints one JSON object per workload on stdout. Run it with Debian's /usr/bin/python3.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path, offset):
    with open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load_mnist(folder):
    x_train = read_idx(os.path.join(folder, "train-images-idx3-ubyte"), 16).reshape(-1, 1, 28, 28)
    y_train = read_idx(os.path.join(folder, "train-labels-idx1-ubyte"), 8)
    x_test = read_idx(os.path.join(folder, "t10k-images-idx3-ubyte"), 16).reshape(-1, 1, 28, 28)
    y_test = read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte"), 8)
    as_tensor = lambda a, dtype: torch.from_numpy(a.copy()).to(dtype)
    return (as_tensor(x_train, torch.float32), as_tensor(y_train, torch.int64),
            as_tensor(x_test, torch.float32), as_tensor(y_test, torch.int64))


class BeautifulMnist(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.ReLU(), nn.Conv2d(32, 32, 5), nn.ReLU(),
            nn.BatchNorm2d(32), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.BatchNorm2d(64), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(576, 10))

    def forward(self, x):
        return self.layers(x)


def accuracy(model, x, y, batch=2000):
    model.eval()
    with torch.no_grad():
        correct = sum((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
                      for i in range(0, len(x), batch))
    model.train()
    return correct / len(x)


def run_cnn(data, device, steps, batch, warmup):
    x_train, y_train, x_test, y_test = (t.to(device) for t in data)
    model = BeautifulMnist().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator(device="cpu").manual_seed(0)
    times, losses = [], []
    for step in range(steps):
        idx = torch.randint(0, len(x_train), (batch,), generator=gen).to(device)
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        loss.backward()
        opt.step()
        losses.append(loss.item())  # a sync point, as tinyref's step ends on a read-out
        times.append(time.perf_counter() - start)
    return {"workload": "cnn", "step_seconds_median": statistics.median(times[warmup:]),
            "steps": steps, "final_loss": losses[-1],
            "test_accuracy": accuracy(model, x_test, y_test)}


def run_mlp(data, device, batch):
    x_train, y_train, x_test, y_test = data
    normalize = lambda x: ((x.reshape(-1, 784) / 255.0 - 0.1307) / 0.3081).to(device)
    x_train, x_test = normalize(x_train), normalize(x_test)
    y_train, y_test = y_train.to(device), y_test.to(device)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0)).to(device)
    start = time.perf_counter()
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x_train[idx]), y_train[idx]).backward()
        opt.step()
    if device != "cpu":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return {"workload": "mlp", "epoch_seconds": seconds,
            "test_accuracy": accuracy(model, x_test, y_test)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="folder with the four MNIST IDX files")
    parser.add_argument("--workload", choices=["cnn", "mlp", "both"], default="both")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave alone)")
    parser.add_argument("--steps", type=int, default=70)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    data = load_mnist(args.data)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": args.device}
    if args.workload in ("cnn", "both"):
        print(json.dumps({**info, **run_cnn(data, args.device, args.steps, 512, args.warmup)}), flush=True)
    if args.workload in ("mlp", "both"):
        print(json.dumps({**info, **run_mlp(data, args.device, 64)}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
