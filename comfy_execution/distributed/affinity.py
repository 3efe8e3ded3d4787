"""Which worker runs which job: the model files a prompt needs, and the choice of the next (job, worker) pair.

Pure functions over plain data, so the policy is tested without Ray:
1. a free worker first takes the oldest pending job whose models it already holds;
2. else the oldest job whose models no worker holds (or that needs none) goes to a free worker that holds nothing
   (else one whose models no pending job needs), the one whose free memory fits the job's model files best (the
   smallest that fits; the largest when none fits);
3. a job whose holders are all busy goes to such an idle worker at once: it would wait otherwise, and loading
   there evicts nothing another job waits for;
4. only when every free worker holds models that other pending jobs need does the job wait for its holders, up
   to `affinity_wait` seconds, before a model switch beats the wait.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# Loader inputs that name a model file, with the folder the file is looked up in.
MODEL_INPUTS = {
    "ckpt_name": "checkpoints",
    "unet_name": "diffusion_models",
    "vae_name": "vae",
    "clip_name": "text_encoders",
    "clip_name1": "text_encoders",
    "clip_name2": "text_encoders",
    "clip_name3": "text_encoders",
    "lora_name": "loras",
    "control_net_name": "controlnet",
    "style_model_name": "style_models",
    "clip_vision_name": "clip_vision",
    "upscale_model_name": "upscale_models",
    "gligen_name": "gligen",
    "hypernetwork_name": "hypernetworks",
}


def required_models(prompt: dict) -> tuple[str, ...]:
    """The model files a prompt's loader nodes name, as sorted `folder/name` keys (constant inputs only: a
    name computed by another node is not known before the prompt runs)."""
    models = set()
    for node in prompt.values():
        inputs = node.get("inputs") if isinstance(node, dict) else None
        if not isinstance(inputs, dict):
            continue
        for input_name, value in inputs.items():
            folder = MODEL_INPUTS.get(input_name)
            if folder is not None and isinstance(value, str) and value:
                models.add(f"{folder}/{value}")
    return tuple(sorted(models))


def model_bytes(models: Iterable[str], find: Callable[[str, str], str | None]) -> int:
    """The summed size of the model files (0 for a file this server cannot find: a worker may have it)."""
    total = 0
    for key in models:
        folder, _, name = key.partition("/")
        path = find(folder, name)
        if path is not None and os.path.isfile(path):
            total += os.path.getsize(path)
    return total


@dataclass(frozen=True)
class PendingJob:
    prompt_id: str
    models: tuple[str, ...]
    waited_seconds: float
    model_bytes: int = 0


@dataclass(frozen=True)
class FreeWorker:
    name: str
    held: frozenset[str]
    free_memory: int
    jobs_run: int = 0


def choose(pending: Sequence[PendingJob], free: Sequence[FreeWorker], held_by_busy: frozenset[str],
           affinity_wait: float) -> tuple[PendingJob, FreeWorker] | None:
    """The next job to start and the free worker to run it, or None (nothing pending, nobody free, or every
    pending job waits for the busy worker that holds its models). `pending` is in queue order."""
    if not pending or not free:
        return None
    for job in pending:  # 1. a free worker that holds everything the job needs
        holders = [worker for worker in free if job.models and set(job.models) <= worker.held]
        if holders:
            return job, min(holders, key=lambda worker: worker.jobs_run)
    wanted = frozenset().union(*(job.models for job in pending))
    # Free workers whose models no pending job needs: loading others there evicts nothing anyone waits for.
    idle = [worker for worker in free if not worker.held & wanted]
    held_by_free = frozenset().union(*(worker.held for worker in free))
    for job in pending:
        needed = set(job.models)
        if not needed & (held_by_free | held_by_busy):  # 2. nobody holds its models
            return job, _best_fit(job, idle or free)
        if needed & held_by_free:  # partly held by a free worker: the one holding the most of it
            return job, max(free, key=lambda worker: (len(needed & worker.held), -worker.jobs_run))
        if idle:  # 3. its holders are busy: a worker that would otherwise wait takes it
            return job, _best_fit(job, idle)
        if job.waited_seconds >= affinity_wait:  # 4. every free worker holds models others wait for
            return job, _best_fit(job, free)
    return None


def _best_fit(job: PendingJob, free: Sequence[FreeWorker]) -> FreeWorker:
    """Among the free workers that hold no models (all of them if none is empty), the one whose free memory
    fits the job's model files most tightly, or the largest when none fits."""
    empty = [worker for worker in free if not worker.held]
    free = empty or free
    fitting = [worker for worker in free if worker.free_memory >= job.model_bytes]
    if fitting:
        return min(fitting, key=lambda worker: (worker.free_memory, worker.jobs_run))
    return max(free, key=lambda worker: (worker.free_memory, -worker.jobs_run))
