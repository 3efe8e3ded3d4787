"""Reading a .safetensors file: the safetensors library's `safe_open` + `get_tensor` and `load_file`, Kiln's reader
(`comfy.utils.load_safetensors_mapped`: a header check, then `safe_open`) and the private memory map Kiln read
files with before (`own_mmap`, kept here as the baseline it was replaced against), side by side.

    OMP_NUM_THREADS=1 python bench/safetensors_read.py [--megabytes 1024] [--tensors 400] [--repeats 3]

Each reader runs in a fresh process on the same file, with the file already in the OS page cache (read once
before), and reports: seconds to get every tensor as a torch tensor, seconds to touch every byte (a sum), the
same plus a cast to float32 in one block (what loading a fp16 checkpoint on the CPU does), and the growth of the
process's anonymous memory (RssAnon) once every byte was touched. Ratios are against `safe_open`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

READERS = ("safe_open", "load_file", "kiln", "own_mmap")

_CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
import torch
import comfy.utils

def anonymous():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024

def own_mmap(path):
    import json, math, mmap, struct
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    tensors = {{}}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = comfy.utils.SAFETENSORS_DTYPES[info["dtype"]]
        begin = 8 + length + info["data_offsets"][0]
        tensors[name] = torch.frombuffer(mapping, dtype=dtype, count=math.prod(info["shape"]),
                                         offset=begin).reshape(info["shape"])
    return tensors

path, reader = sys.argv[1], sys.argv[2]
before = anonymous()
started = time.perf_counter()
if reader == "kiln":
    tensors = comfy.utils.load_safetensors_mapped(path)
elif reader == "own_mmap":
    tensors = own_mmap(path)
elif reader == "safe_open":
    from safetensors import safe_open
    with safe_open(path, framework="pt") as handle:
        tensors = {{key: handle.get_tensor(key) for key in handle.keys()}}
else:
    from safetensors.torch import load_file
    tensors = load_file(path)
opened = time.perf_counter() - started
total = sum(float(tensor.float().sum()) for tensor in tensors.values())
touched = time.perf_counter() - started
cast = comfy.utils.cast_in_one_block(tensors, torch.float32)
cast_seconds = time.perf_counter() - started
grown = anonymous() - before - sum(value.numel() * 4 for value in cast.values())
print(json.dumps({{"open": opened, "touch": touched, "cast": cast_seconds, "anon_bytes_before_cast_copy": grown}}))
"""


def make_file(path: str, megabytes: int, tensors: int) -> None:
    import torch
    from safetensors.torch import save_file

    elements = megabytes * 1024 * 1024 // 2 // tensors
    generator = torch.Generator().manual_seed(0)
    save_file({f"layer.{index}.weight": torch.randn(elements, generator=generator).half()
               for index in range(tensors)}, path)


def run(path: str, reader: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    result = subprocess.run([sys.executable, "-c", _CHILD.format(root=REPO_ROOT), path, reader], env=env,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--tensors", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.safetensors")
        make_file(path, options.megabytes, options.tensors)
        with open(path, "rb") as handle:  # into the page cache, for every reader alike
            while handle.read(1 << 24):
                pass
        results: dict[str, list[dict]] = {reader: [] for reader in READERS}
        for _ in range(options.repeats):
            for reader in READERS:  # interleaved, so drift on a shared machine hits every reader alike
                results[reader].append(run(path, reader))
    print(f"{options.megabytes} MiB fp16 in {options.tensors} tensors, median of {options.repeats} fresh processes, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '1')}")
    base = {key: statistics.median(run[key] for run in results["safe_open"]) for key in ("open", "touch", "cast")}
    print(f"{'reader':<10} {'open s':>8} {'ratio':>6} {'touch s':>8} {'ratio':>6} {'+cast s':>8} {'ratio':>6} "
          f"{'extra anon MiB':>15}")
    for reader in READERS:
        median = {key: statistics.median(run[key] for run in results[reader]) for key in ("open", "touch", "cast")}
        anon = statistics.median(run["anon_bytes_before_cast_copy"] for run in results[reader]) / 2**20
        print(f"{reader:<10} {median['open']:8.3f} {median['open'] / base['open']:6.2f} {median['touch']:8.3f} "
              f"{median['touch'] / base['touch']:6.2f} {median['cast']:8.3f} {median['cast'] / base['cast']:6.2f} "
              f"{anon:15.0f}")


if __name__ == "__main__":
    main()
