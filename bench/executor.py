"""Executor overhead on graphs of cheap nodes: validation, first run and fully cached re-run.

    OMP_NUM_THREADS=1 python bench/executor.py [--nodes 1000] [--repeats 5]

For each shape (a chain, a fan-out, and ComfyUI's measured shape of 10 chains of 100) it prints milliseconds
and, as the baseline run side by side in this process, the time to call the same node functions directly in
a loop; the ratio is executor time / direct time. The executor reports to a sink that drops messages, so this
measures the engine, not the network.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nodes  # noqa: E402
from execution import PromptExecutor, validate_prompt  # noqa: E402


class BenchConstant:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0, "min": 0, "max": 2**31})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, value):
        return (value,)


class BenchIncrement:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0, "min": 0, "max": 2**31})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, value):
        return (value + 1,)


class BenchSink:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0, "min": 0, "max": 2**31})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True

    def run(self, value):
        return {"ui": {"value": [value]}}


class NullSink:
    client_id = None
    last_node_id = None
    last_prompt_id = None

    def send_sync(self, event, data, sid=None):
        pass

    def client_supports(self, sid, feature):
        return False


def chains(count: int, length: int) -> dict:
    """`count` independent chains of `length` nodes (a constant, increments, an output at the end)."""
    prompt = {}
    for chain in range(count):
        prompt[f"{chain}_0"] = {"class_type": "BenchConstant", "inputs": {"value": chain}}
        for index in range(1, length - 1):
            prompt[f"{chain}_{index}"] = {"class_type": "BenchIncrement", "inputs": {"value": [f"{chain}_{index - 1}", 0]}}
        prompt[f"{chain}_out"] = {"class_type": "BenchSink", "inputs": {"value": [f"{chain}_{length - 2}", 0]}}
    return prompt


def fan_out(width: int) -> dict:
    """One constant read by `width - 1` output nodes."""
    prompt = {"src": {"class_type": "BenchConstant", "inputs": {"value": 1}}}
    for index in range(width - 1):
        prompt[f"o{index}"] = {"class_type": "BenchSink", "inputs": {"value": ["src", 0]}}
    return prompt


def direct_calls(prompt: dict) -> float:
    """Seconds to instantiate and call every node function once, in dependency order, without the engine."""
    started = time.perf_counter()
    values = {}
    for node_id, node in prompt.items():  # every shape above lists sources before their readers
        class_def = nodes.NODE_CLASS_MAPPINGS[node["class_type"]]
        value = node["inputs"]["value"]
        if isinstance(value, list):
            value = values[value[0]][value[1]]
        result = getattr(class_def(), class_def.FUNCTION)(value=value)
        values[node_id] = result if isinstance(result, tuple) else ()
    return time.perf_counter() - started


def measure(name: str, make_prompt, repeats: int) -> None:
    validation, first, cached, direct = [], [], [], []
    size = len(make_prompt())
    for _ in range(repeats):
        prompt = make_prompt()
        started = time.perf_counter()
        valid, error, outputs, _ = asyncio.run(validate_prompt("bench", prompt, None))
        validation.append(time.perf_counter() - started)
        assert valid, error
        executor = PromptExecutor(NullSink())
        started = time.perf_counter()
        executor.execute(prompt, "bench-1", {}, outputs)
        first.append(time.perf_counter() - started)
        assert executor.success
        started = time.perf_counter()
        executor.execute(make_prompt(), "bench-2", {}, outputs)
        cached.append(time.perf_counter() - started)
        direct.append(direct_calls(prompt))
    validation_ms = statistics.median(validation) * 1000
    first_ms = statistics.median(first) * 1000
    cached_ms = statistics.median(cached) * 1000
    direct_ms = statistics.median(direct) * 1000
    print(f"{name:<22} {size:>6} nodes | validate {validation_ms:8.1f} ms | first run {first_ms:8.1f} ms "
          f"({first_ms / size:.3f} ms/node) | cached re-run {cached_ms:7.1f} ms | direct calls {direct_ms:6.2f} ms "
          f"| first/direct {first_ms / direct_ms:6.1f}x | cached/direct {cached_ms / direct_ms:5.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    nodes.NODE_CLASS_MAPPINGS.update(BenchConstant=BenchConstant, BenchIncrement=BenchIncrement, BenchSink=BenchSink)
    size = options.nodes
    print(f"Kiln executor benchmark, median of {options.repeats} runs (ComfyUI on this machine: 19.6 ms/node first "
          "run, 2.4 s cached re-run of 10 chains of 100)")
    measure("chain", lambda: chains(1, size), options.repeats)
    measure("fan-out", lambda: fan_out(size), options.repeats)
    measure("10 chains of 100", lambda: chains(10, size // 10), options.repeats)


if __name__ == "__main__":
    main()
