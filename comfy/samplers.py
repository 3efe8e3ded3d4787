"""ComfyUI's sampling front end: names, sigma schedules, conditioning, classifier-free guidance and the
`KSampler` / `CFGGuider` / `KSAMPLER` objects that run a k-diffusion sampler on a model patcher.

Data flow of one run: conditioning lists `[[tensor, options], ...]` become dicts (`convert_cond`), get their
areas, masks and sigma ranges resolved and the model's inputs encoded (`process_conds`); the sampler calls
`KSamplerX0Inpaint` (inpaint blending) → `CFGGuider` → `sampling_function` (batched cond/uncond passes and the
CFG formula) → the diffusion model's `apply_model`. Latents enter in VAE space and leave in VAE space.
"""

from __future__ import annotations

import inspect
import math
import uuid
from typing import Any, Callable, NamedTuple

import numpy as np
import torch

import comfy.hooked_weights
import comfy.model_management
import comfy.model_patcher
import comfy.patcher_extension
import comfy.utils
from comfy.extra_samplers import uni_pc
from comfy.k_diffusion import sampling as k_diffusion_sampling

# ---------------------------------------------------------------------------------------------- names

KSAMPLER_NAMES = [
    "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "dpm_2",
    "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp",
    "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu",
    "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm", "ipndm",
    "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral",
    "res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde", "seeds_2",
    "seeds_3", "sa_solver", "sa_solver_pece",
]
SAMPLER_NAMES = KSAMPLER_NAMES + ["ddim", "uni_pc", "uni_pc_bh2"]

# ---------------------------------------------------------------------------------------------- schedules


def simple_scheduler(model_sampling, steps: int) -> torch.Tensor:
    """Evenly strided entries of the sigma table, from the top; steps values plus a 0."""
    stride = len(model_sampling.sigmas) / steps
    sigs = [float(model_sampling.sigmas[-(1 + int(x * stride))]) for x in range(steps)]
    return torch.FloatTensor(sigs + [0.0])


def ddim_scheduler(model_sampling, steps: int) -> torch.Tensor:
    """DDIM's uniform timestep stride `1000 // steps` from table entry 1 upwards, reversed, with a final 0
    (the stride rounding can give more than `steps` steps, as in ComfyUI)."""
    sigmas = model_sampling.sigmas
    x = 1
    if math.isclose(float(sigmas[x]), 0, abs_tol=0.00001):
        steps += 1
        sigs = []
    else:
        sigs = [0.0]
    stride = max(len(sigmas) // steps, 1)
    while x < len(sigmas):
        sigs.append(float(sigmas[x]))
        x += stride
    return torch.FloatTensor(sigs[::-1])


def normal_scheduler(model_sampling, steps: int, sgm: bool = False, floor: bool = False) -> torch.Tensor:
    """Timesteps evenly spaced from sigma_max's to sigma_min's, mapped back to sigmas; plus a 0.
    `sgm` (sgm_uniform) spaces steps+1 timesteps and drops the last."""
    start = model_sampling.timestep(model_sampling.sigma_max)
    end = model_sampling.timestep(model_sampling.sigma_min)
    append_zero = True
    if sgm:
        timesteps = torch.linspace(start, end, steps + 1)[:-1]
    else:
        if math.isclose(float(model_sampling.sigma(end)), 0, abs_tol=0.00001):
            steps += 1
            append_zero = False
        timesteps = torch.linspace(start, end, steps)
    sigs = [float(model_sampling.sigma(ts)) for ts in timesteps]
    if append_zero:
        sigs.append(0.0)
    return torch.FloatTensor(sigs)


def beta_scheduler(model_sampling, steps: int, alpha: float = 0.6, beta: float = 0.6) -> torch.Tensor:
    """Timesteps at the quantiles of a Beta(alpha, beta) distribution (Lee et al. 2024, "Beta Sampling is All
    You Need"), rounded, consecutive duplicates dropped; plus a 0."""
    total_timesteps = len(model_sampling.sigmas) - 1
    ts = 1 - np.linspace(0, 1, steps, endpoint=False)
    import scipy.stats  # a second of start-up: only the beta scheduler needs it

    ts = np.rint(scipy.stats.beta.ppf(ts, alpha, beta) * total_timesteps)
    sigs = []
    last_t = -1
    for t in ts:
        if t != last_t:
            sigs.append(float(model_sampling.sigmas[int(t)]))
        last_t = t
    return torch.FloatTensor(sigs + [0.0])


def linear_quadratic_schedule(model_sampling, steps: int, threshold_noise: float = 0.025,
                              linear_steps: int | None = None) -> torch.Tensor:
    """Mochi's schedule: linear up to `threshold_noise` for the first half of the steps, then quadratic to 1;
    flipped to descending and scaled by sigma_max."""
    if steps == 1:
        schedule = [1.0, 0.0]
    else:
        if linear_steps is None:
            linear_steps = steps // 2
        linear = [i * threshold_noise / linear_steps for i in range(linear_steps)]
        threshold_noise_step_diff = linear_steps - threshold_noise * steps
        quadratic_steps = steps - linear_steps
        quadratic_coef = threshold_noise_step_diff / (linear_steps * quadratic_steps**2)
        linear_coef = threshold_noise / linear_steps - 2 * threshold_noise_step_diff / (quadratic_steps**2)
        const = quadratic_coef * (linear_steps**2)
        quadratic = [quadratic_coef * (i**2) + linear_coef * i + const for i in range(linear_steps, steps)]
        schedule = [1.0 - x for x in linear + quadratic + [1.0]]
    return torch.FloatTensor(schedule) * model_sampling.sigma_max.cpu()


def kl_optimal_scheduler(n: int, sigma_min: float, sigma_max: float) -> torch.Tensor:
    """The KL-optimal schedule (Sabour et al. 2024, "Align Your Steps"): tan of evenly spaced arctan(sigma);
    plus a 0. One step gives [NaN, 0] (0/0), as in ComfyUI."""
    weights = torch.arange(n, dtype=torch.float).div_(n - 1)
    sigmas = weights.new_zeros(n + 1)
    sigmas[:-1] = (weights * math.atan(sigma_min) + (1 - weights) * math.atan(sigma_max)).tan_()
    return sigmas


def _karras(n: int, sigma_min: float, sigma_max: float) -> torch.Tensor:
    return k_diffusion_sampling.get_sigmas_karras(n=n, sigma_min=sigma_min, sigma_max=sigma_max)


def _exponential(n: int, sigma_min: float, sigma_max: float) -> torch.Tensor:
    return k_diffusion_sampling.get_sigmas_exponential(n=n, sigma_min=sigma_min, sigma_max=sigma_max)


def _sgm_uniform(model_sampling, steps: int) -> torch.Tensor:
    return normal_scheduler(model_sampling, steps, sgm=True)


class SchedulerHandler(NamedTuple):
    """A schedule function; `use_ms` ones take (model_sampling, steps), others (n, sigma_min, sigma_max)."""

    handler: Callable[..., torch.Tensor]
    use_ms: bool = True


SCHEDULER_HANDLERS = {
    "simple": SchedulerHandler(simple_scheduler),
    "sgm_uniform": SchedulerHandler(_sgm_uniform),
    "karras": SchedulerHandler(_karras, use_ms=False),
    "exponential": SchedulerHandler(_exponential, use_ms=False),
    "ddim_uniform": SchedulerHandler(ddim_scheduler),
    "beta": SchedulerHandler(beta_scheduler),
    "normal": SchedulerHandler(normal_scheduler),
    "linear_quadratic": SchedulerHandler(linear_quadratic_schedule),
    "kl_optimal": SchedulerHandler(kl_optimal_scheduler, use_ms=False),
}
SCHEDULER_NAMES = list(SCHEDULER_HANDLERS)


def calculate_sigmas(model_sampling, scheduler_name: str, steps: int) -> torch.Tensor:
    """The float32 sigma schedule (descending, ending in 0) of `scheduler_name` for `steps` steps."""
    handler = SCHEDULER_HANDLERS.get(scheduler_name)
    if handler is None:
        raise ValueError(f"invalid scheduler {scheduler_name!r}; expected one of {SCHEDULER_NAMES}")
    if handler.use_ms:
        return handler.handler(model_sampling, steps)
    return handler.handler(n=steps, sigma_min=float(model_sampling.sigma_min),
                           sigma_max=float(model_sampling.sigma_max))


# ---------------------------------------------------------------------------------------------- conditioning


def convert_cond(cond: list) -> list[dict]:
    """`[[tensor, options], ...]` → the dicts sampling works on: the options plus `cross_attn`, `model_conds`
    (filled by `process_conds`) and a `uuid`."""
    out = []
    for c in cond:
        entry = dict(c[1])
        if c[0] is not None:
            entry["cross_attn"] = c[0]
        entry["model_conds"] = dict(entry.get("model_conds", {}))
        entry["uuid"] = uuid.uuid4()
        out.append(entry)
    return out


def get_mask_aabb(masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Bounding boxes `[N, 4]` (x_min, y_min, x_max, y_max) of the non-zero pixels of masks `[N, H, W]`, and
    which masks are empty `[N]`."""
    if masks.numel() == 0:
        return torch.zeros((0, 4), device=masks.device, dtype=torch.int), torch.zeros(0, dtype=torch.bool)
    b = masks.shape[0]
    bounding_boxes = torch.zeros((b, 4), device=masks.device, dtype=torch.int)
    is_empty = torch.zeros(b, device=masks.device, dtype=torch.bool)
    for i in range(b):
        nonzero = torch.nonzero(masks[i])
        if nonzero.numel() == 0:
            is_empty[i] = True
            continue
        y_min, x_min = torch.min(nonzero[:, 0]), torch.min(nonzero[:, 1])
        y_max, x_max = torch.max(nonzero[:, 0]), torch.max(nonzero[:, 1])
        bounding_boxes[i, :] = torch.tensor([x_min, y_min, x_max, y_max])
    return bounding_boxes, is_empty


def resolve_areas_and_cond_masks(conditions: list[dict], h: int, w: int, device) -> None:
    """In place: percentage areas → latent (h, w, y, x); masks resized to the latent `[B, h, w]`;
    `set_area_to_bounds` replaces the area by the mask's bounding box (at least 8×8)."""
    for i, c in enumerate(conditions):
        if "area" in c and c["area"][0] == "percentage":
            a = c["area"]
            c = dict(c)
            c["area"] = (max(1, round(a[1] * h)), max(1, round(a[2] * w)), round(a[3] * h), round(a[4] * w))
            conditions[i] = c
        if "mask" in c:
            mask = c["mask"].to(device=device)
            c = dict(c)
            if mask.ndim == 2:
                mask = mask.unsqueeze(0)
            if mask.shape[1:] != (h, w):
                mask = torch.nn.functional.interpolate(mask.unsqueeze(1), size=(h, w), mode="bilinear",
                                                       align_corners=False).squeeze(1)
            if c.get("set_area_to_bounds", False):
                bounds = torch.max(torch.abs(mask), dim=0).values.unsqueeze(0)
                boxes, is_empty = get_mask_aabb(bounds)
                if is_empty[0]:
                    c["area"] = (8, 8, 0, 0)  # an all-zero mask contributes nothing: keep the pass small
                else:
                    x_min, y_min, x_max, y_max = (int(v) for v in boxes[0])
                    c["area"] = (max(8, y_max - y_min + 1), max(8, x_max - x_min + 1), y_min, x_min)
            c["mask"] = mask
            conditions[i] = c


def calculate_start_end_timesteps(model_sampling, conds: list[dict]) -> None:
    """In place: `start_percent` / `end_percent` → the sigma range `timestep_start` ≥ sigma ≥ `timestep_end`. An
    entry of a scheduled CLIP encode (`clip_start_percent` / `clip_end_percent`) is active where both ranges
    overlap."""
    for i, c in enumerate(conds):
        if "clip_start_percent" in c:
            start = model_sampling.percent_to_sigma(max(c["clip_start_percent"], c.get("start_percent", 0.0)))
            end = model_sampling.percent_to_sigma(min(c["clip_end_percent"], c.get("end_percent", 1.0)))
        else:
            start = model_sampling.percent_to_sigma(c["start_percent"]) if "start_percent" in c else None
            end = model_sampling.percent_to_sigma(c["end_percent"]) if "end_percent" in c else None
        if start is not None or end is not None:
            c = dict(c)
            if start is not None:
                c["timestep_start"] = start
            if end is not None:
                c["timestep_end"] = end
            conds[i] = c


def create_cond_with_same_area_if_none(conds: list[dict], c: dict) -> None:
    """If `c` has an area that no entry of the other list covers exactly, add to that list a copy of `c`'s area
    carrying the model inputs of the smallest entry that contains it (or of an area-less one), so that
    guidance inside the area is against a matching prediction."""
    if "area" not in c:
        return

    def area_inside(a, outer):
        return a[0] + a[2] <= outer[0] + outer[2] and a[1] + a[3] <= outer[1] + outer[3] \
            and a[2] >= outer[2] and a[3] >= outer[3]

    c_area = c["area"]
    smallest = None
    for x in conds:
        if "area" in x:
            if area_inside(c_area, x["area"]):
                if smallest is None or "area" not in smallest:
                    smallest = x
                elif smallest["area"][0] * smallest["area"][1] > x["area"][0] * x["area"][1]:
                    smallest = x
        elif smallest is None:
            smallest = x
    if smallest is None or smallest.get("area") == c_area:
        return
    out = dict(c)
    out["model_conds"] = dict(smallest["model_conds"])
    conds.append(out)


_INTERNAL_KEYS = ("model_conds", "uuid", "control")


def encode_model_conds(model_function: Callable, conds: list[dict], noise: torch.Tensor, device: Any,
                       prompt_type: str | None, **kwargs: Any) -> list[dict]:
    """ComfyUI's signature: fill each entry's `model_conds` (in place; the list is returned) with what
    `model_function`, a model's `extra_conds`, makes of it. Kiln's models take `(cross_attn, options, noise)`; a
    pack's own function is called ComfyUI's way, with the entry's keys, `device`, `noise`, `width`, `height`,
    `prompt_type` and `kwargs` as keywords."""
    kiln_form = _takes_positional_arguments(model_function)
    # The run's facts (latent_image, denoise_mask, seed) fill in what an entry does not set, as in ComfyUI.
    run_facts = {k: v for k, v in kwargs.items() if v is not None}
    for i, c in enumerate(conds):
        options = {**run_facts, **{k: v for k, v in c.items() if k not in _INTERNAL_KEYS}}
        if kiln_form:
            encoded = model_function(c.get("cross_attn"), options, noise)
        else:
            encoded = model_function(**{**c, "device": device, "noise": noise, "width": noise.shape[3] * 8,
                                        "height": noise.shape[2] * 8, "prompt_type": prompt_type, **kwargs})
        conds[i] = {**c, "model_conds": {**c["model_conds"], **encoded}}
    return conds


def _takes_positional_arguments(function: Callable) -> bool:
    """Whether `function` needs positional arguments (Kiln's `extra_conds(cross_attn, options, noise)`), rather
    than ComfyUI's keywords only (`extra_conds(**kwargs)`)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(parameter.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
               and parameter.default is inspect.Parameter.empty for parameter in parameters)


def process_conds(model, noise: torch.Tensor, conds: dict[str, list[dict]], latent_image: torch.Tensor | None = None,
                  denoise_mask: torch.Tensor | None = None, seed: int | None = None) -> dict[str, list[dict]]:
    """Resolve areas/masks and sigma ranges, encode the model inputs (the model's `extra_conds` also sees the run's
    latent_image, denoise_mask and seed, as ComfyUI's do), and pair up areas across the lists."""
    h, w = noise.shape[2], noise.shape[3]
    for k in conds:
        resolve_areas_and_cond_masks(conds[k], h, w, noise.device)
        calculate_start_end_timesteps(model.model_sampling, conds[k])
        encode_model_conds(model.extra_conds, conds[k], noise, noise.device, k, latent_image=latent_image,
                           denoise_mask=denoise_mask, seed=seed)
    for k in conds:
        for c in list(conds[k]):
            for other in conds:
                if other != k:
                    create_cond_with_same_area_if_none(conds[other], c)
    for k in conds:
        pre_run_control(model, conds[k])
    if "positive" in conds and "negative" in conds:
        apply_to_uncond = [c for c in conds["positive"] if c.get("control_apply_to_uncond", False)]
        apply_empty_x_to_equal_area(apply_to_uncond, conds["negative"], "control")
        apply_empty_x_to_equal_area(conds["positive"], conds["negative"], "gligen")
    return conds


def pre_run_control(model, conds: list[dict]) -> None:
    """Let each control object (ControlNet & co.) prepare for this run: `control.pre_run(model, percent_to_sigma)`."""
    for c in conds:
        control = c.get("control")
        if control is not None and hasattr(control, "pre_run"):
            control.pre_run(model, lambda percent: model.model_sampling.percent_to_sigma(percent))


def apply_empty_x_to_equal_area(conds: list[dict], uncond: list[dict], name: str) -> None:
    """Give the area-less uncond entries the `name` objects (controls) of the area-less cond entries, cycling
    over them, unless some uncond entry already has one (ControlNetApply's `control_apply_to_uncond`)."""
    cond_objects = [c[name] for c in conds if "area" not in c and c.get(name) is not None]
    if any("area" not in c and c.get(name) is not None for c in uncond):
        return
    uncond_other = [(c, i) for i, c in enumerate(uncond) if "area" not in c and c.get(name) is None]
    if not uncond_other:
        return
    for index, obj in enumerate(cond_objects):
        entry, position = uncond_other[index % len(uncond_other)]
        updated = {**entry, name: obj}
        if uncond[position].get(name) is not None:
            uncond.append(updated)
        else:
            uncond[position] = updated


def cleanup_controls(conds: dict[str, list[dict]]) -> None:
    """Release what the control objects held for the run (`control.cleanup()`)."""
    seen = set()
    for entries in conds.values():
        for c in entries:
            control = c.get("control")
            if control is not None and id(control) not in seen and hasattr(control, "cleanup"):
                seen.add(id(control))
                control.cleanup()


def additional_models(conds: dict[str, list[dict]]) -> tuple[list, int]:
    """The model patchers the conditioning's control networks (and GLIGEN) need on the device while sampling,
    each once, and the bytes they need beyond their weights while running."""
    patchers: list = []
    memory = 0
    seen: set[int] = set()
    for entries in conds.values():
        for c in entries:
            control = c.get("control")
            if control is not None and id(control) not in seen:
                seen.add(id(control))
                patchers += control.get_models()
                memory += control.inference_memory_requirements(torch.float32)
            gligen = c.get("gligen")
            if gligen is not None:
                patchers.append(gligen[1])
    unique = list({id(patcher): patcher for patcher in patchers}.values())
    return unique, memory


def load_additional_models(model_patcher, conds: dict[str, list[dict]]) -> None:
    """Load the conditioning's control networks onto the model's device with the model, counted in the same
    memory budget: one ControlNet shared by many conditionings loads once."""
    patchers, memory = additional_models(conds)
    if patchers:
        comfy.model_management.load_models_gpu([model_patcher, *patchers], memory_required=memory)


class CondRun(NamedTuple):
    """One conditioning entry, ready to run on (a crop of) the current x."""

    input_x: torch.Tensor
    mult: torch.Tensor
    conditioning: dict[str, torch.Tensor]
    area: tuple | None
    uuid: Any
    control: Any = None
    patches: dict | None = None  # transformer patches of this entry alone (GLIGEN's middle_patch)
    hooks: Any = None  # the entry's hook group (comfy.hooks.HookGroup), read only in a run with hooks


def _area_fade(mult: torch.Tensor, area: list[int], full: tuple) -> None:
    """Fade an area's weight linearly over 8 latent pixels at edges that are not on the image border."""
    rr = 8
    dims = len(full)
    for i in range(dims):
        if area[dims + i] != 0:
            for t in range(rr):
                mult.narrow(i + 2, t, 1).mul_((1.0 / rr) * (t + 1))
        if area[i] + area[dims + i] < full[i]:
            for t in range(rr):
                mult.narrow(i + 2, area[i] - 1 - t, 1).mul_((1.0 / rr) * (t + 1))


def get_area_and_mult(cond: dict, x_in: torch.Tensor, sigma: torch.Tensor) -> CondRun | None:
    """The crop of x, the per-pixel weight and the model inputs of one entry at this sigma, or None when the
    sigma is outside the entry's `timestep_start` / `timestep_end` range."""
    if "timestep_start" in cond and sigma[0] > cond["timestep_start"]:
        return None
    if "timestep_end" in cond and sigma[0] < cond["timestep_end"]:
        return None
    dims = tuple(x_in.shape[2:])
    area = None
    input_x = x_in
    if "area" in cond:
        given = list(cond["area"])
        n = min(len(given) // 2, len(dims))
        area = [given[i] if i < n else dims[i] for i in range(len(dims))] + \
               [given[n + i] if i < n else 0 for i in range(len(dims))]
        for i in range(len(dims)):
            area[i] = min(input_x.shape[i + 2] - area[len(dims) + i], area[i])
            input_x = input_x.narrow(i + 2, area[len(dims) + i], area[i])
    if "mask" in cond:
        mask = cond["mask"][: input_x.shape[0]]
        if area is not None:
            for i in range(len(dims)):
                mask = mask.narrow(i + 1, area[len(dims) + i], area[i])
        mask = mask * cond.get("mask_strength", 1.0)
        mask = mask.unsqueeze(1).repeat(input_x.shape[0] // mask.shape[0], input_x.shape[1], 1, 1)
    else:
        mask = torch.ones_like(input_x)
    mult = mask * cond.get("strength", 1.0)
    if "mask" not in cond and area is not None:
        _area_fade(mult, area, dims)
    conditioning = {k: _batch_model_cond(v, x_in, area) for k, v in cond["model_conds"].items()}
    return CondRun(input_x, mult, conditioning, tuple(area) if area is not None else None, cond.get("uuid"),
                   cond.get("control"), _gligen_patches(cond, input_x), cond.get("hooks"))


def _gligen_patches(cond: dict, input_x: torch.Tensor) -> dict | None:
    """The `middle_patch` of an entry's `gligen` ("position", GLIGEN patcher, boxes) at this crop of x."""
    gligen = cond.get("gligen")
    if gligen is None:
        return None
    kind, patcher = gligen[0], gligen[1]
    if kind == "position":
        patch = patcher.model.set_position(input_x.shape, gligen[2], input_x.device)
    else:
        patch = patcher.model.set_empty(input_x.shape, input_x.device)
    return {"middle_patch": [patch]}


def _is_tensor_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, torch.Tensor) for item in value)


def _batch_model_cond(value, x_in: torch.Tensor, area):
    """Repeat a model input to x's batch; inputs shaped like the latent (e.g. c_concat) are cropped to the area;
    a list of tensors (FLUX.1 Kontext's reference latents) is repeated item by item, uncropped."""
    if _is_tensor_list(value):
        return [comfy.utils.repeat_to_batch_size(item, x_in.shape[0]).to(x_in.device) for item in value]
    if not isinstance(value, torch.Tensor):
        return value
    if area is not None and value.ndim == x_in.ndim and value.shape[2:] == x_in.shape[2:]:
        dims = len(area) // 2
        for i in range(dims):
            value = value.narrow(i + 2, area[i + dims], area[i])
    return comfy.utils.repeat_to_batch_size(value, x_in.shape[0]).to(x_in.device)


def _can_concat(a: CondRun, b: CondRun) -> bool:
    if a.input_x.shape != b.input_x.shape or a.conditioning.keys() != b.conditioning.keys():
        return False
    if a.control is not b.control or a.patches is not b.patches:
        return False
    for k, v in a.conditioning.items():
        w = b.conditioning[k]
        if _is_tensor_list(v) or _is_tensor_list(w):
            if not (_is_tensor_list(v) and _is_tensor_list(w) and len(v) == len(w)
                    and all(x.shape == y.shape for x, y in zip(v, w, strict=True))):
                return False
            continue
        if isinstance(v, torch.Tensor) != isinstance(w, torch.Tensor):
            return False
        if isinstance(v, torch.Tensor) and v.shape != w.shape:
            return False
        if not isinstance(v, torch.Tensor) and v != w:
            return False
    return True


def _cond_cat(conditionings: list[dict]) -> dict:
    out = {}
    for k, v in conditionings[0].items():
        if _is_tensor_list(v):
            out[k] = [torch.cat([c[k][i] for c in conditionings]) for i in range(len(v))]
        else:
            out[k] = torch.cat([c[k] for c in conditionings]) if isinstance(v, torch.Tensor) else v
    return out


def calc_cond_batch(model, conds: list, x_in: torch.Tensor, timestep: torch.Tensor,
                    model_options: dict | None = None) -> list[torch.Tensor]:
    """Evaluate several conditioning lists (e.g. [cond, uncond]; None entries are skipped) on x at sigma
    `timestep` `[B]`. Compatible entries run as one batch; each list's result is the weighted average of its
    entries' denoised predictions (weights: strength × mask × area fade). The `WrappersMP.CALC_COND_BATCH`
    wrappers of `model_options` run around it, called as `wrapper(executor, model, conds, x_in, timestep,
    model_options)`."""
    model_options = model_options or {}
    wrappers = comfy.patcher_extension.get_all_wrappers(comfy.patcher_extension.WrappersMP.CALC_COND_BATCH,
                                                        model_options, is_model_options=True)
    if not wrappers:
        return _calc_cond_batch(model, conds, x_in, timestep, model_options)
    executor = comfy.patcher_extension.WrapperExecutor.new_executor(_calc_cond_batch, wrappers)
    return executor.execute(model, conds, x_in, timestep, model_options)


def _calc_cond_batch(model, conds: list, x_in: torch.Tensor, timestep: torch.Tensor,
                     model_options: dict) -> list[torch.Tensor]:
    hooked = model_options.get(comfy.hooked_weights.MODEL_OPTIONS_KEY)
    out_conds, out_counts, to_run = [], [], []
    defaults: list[list[dict]] = []
    for index, cond in enumerate(conds):
        out_conds.append(torch.zeros_like(x_in))
        out_counts.append(torch.ones_like(x_in) * 1e-37)
        defaults.append([])
        for c in cond or []:
            if hooked is not None and "default" in c:
                defaults[index].append(c)
                continue
            run = get_area_and_mult(c, x_in, timestep)
            if run is not None:
                to_run.append((run, index))
    if hooked is None:
        _run_batches(model, to_run, x_in, timestep, model_options, out_conds, out_counts)
    else:
        to_run += comfy.hooked_weights.default_runs(to_run, defaults, x_in, get_area_and_mult, timestep)
        # ComfyUI's order: the hook groups in order of first appearance, each run with its own weights
        groups: dict[int, tuple[Any, list]] = {}
        for run, index in to_run:
            group = hooked.group_of(run.hooks)
            groups.setdefault(id(group), (group, []))[1].append((run, index))
        for group, _ in groups.values():
            if group is not None:
                hooked.step(group, timestep, model_options)
        for group, runs in groups.values():
            hooked.apply(group)
            _run_batches(model, runs, x_in, timestep, model_options, out_conds, out_counts)
    return [out_c / out_cts for out_c, out_cts in zip(out_conds, out_counts, strict=True)]


def get_total_hook_groups_in_conds(conds: dict[str, list[dict]]) -> int:
    """How many different hook groups the entries of `conds` carry, no hooks counting as one."""
    return len({id(entry.get("hooks")) for entries in conds.values() for entry in entries})


def _run_batches(model, to_run: list[tuple[CondRun, int]], x_in: torch.Tensor, timestep: torch.Tensor,
                 model_options: dict, out_conds: list[torch.Tensor], out_counts: list[torch.Tensor]) -> None:
    """Run `to_run` ((entry, list index) pairs) in batches of compatible entries, adding each entry's weighted
    prediction to its list's sums `out_conds` / `out_counts` (in place)."""
    while to_run:
        first = to_run[0][0]
        # Same order as ComfyUI: the compatible entries, last first
        batch = [j for j in range(len(to_run)) if _can_concat(to_run[j][0], first)][::-1]
        picked = [to_run.pop(j) for j in batch]
        runs = [p[0] for p in picked]
        cond_or_uncond = [p[1] for p in picked]
        input_x = torch.cat([r.input_x for r in runs])
        c = _cond_cat([r.conditioning for r in runs])
        timestep_ = torch.cat([timestep] * len(runs))
        transformer_options = dict(model_options.get("transformer_options", {}))
        transformer_options["cond_or_uncond"] = cond_or_uncond[:]
        transformer_options["uuids"] = [r.uuid for r in runs]
        transformer_options["sigmas"] = timestep
        if runs[-1].patches is not None:  # an entry with patches of its own runs alone
            patches = dict(transformer_options.get("patches", {}))
            for name, entry_patches in runs[-1].patches.items():
                patches[name] = patches.get(name, []) + entry_patches
            transformer_options["patches"] = patches
        c["transformer_options"] = transformer_options
        control = runs[0].control
        if control is not None:
            c["control"] = control.get_control(input_x, timestep_, c, len(runs), transformer_options)
        if "model_function_wrapper" in model_options:
            output = model_options["model_function_wrapper"](model.apply_model, {
                "input": input_x, "timestep": timestep_, "c": c, "cond_or_uncond": cond_or_uncond})
        else:
            output = model.apply_model(input_x, timestep_, **c)
        for run, index, out in zip(runs, cond_or_uncond, output.chunk(len(runs)), strict=True):
            out_c, out_cts = out_conds[index], out_counts[index]
            if run.area is not None:
                dims = len(run.area) // 2
                for i in range(dims):
                    out_c = out_c.narrow(i + 2, run.area[i + dims], run.area[i])
                    out_cts = out_cts.narrow(i + 2, run.area[i + dims], run.area[i])
            out_c += out * run.mult
            out_cts += run.mult


# ---------------------------------------------------------------------------------------------- guidance


def cfg_function(model, cond_pred, uncond_pred, cond_scale, x, timestep, model_options=None, cond=None,
                 uncond=None) -> torch.Tensor:
    """Classifier-free guidance on denoised predictions: uncond + (cond - uncond) · scale, or the model's
    `sampler_cfg_function` (given noise predictions x - pred); then every `sampler_post_cfg_function`."""
    model_options = model_options or {}
    if "sampler_cfg_function" in model_options:
        args = {"cond": x - cond_pred, "uncond": x - uncond_pred, "cond_scale": cond_scale, "timestep": timestep,
                "input": x, "sigma": timestep, "cond_denoised": cond_pred, "uncond_denoised": uncond_pred,
                "model": model, "model_options": model_options}
        cfg_result = x - model_options["sampler_cfg_function"](args)
    else:
        cfg_result = uncond_pred + (cond_pred - uncond_pred) * cond_scale
    for fn in model_options.get("sampler_post_cfg_function", []):
        args = {"denoised": cfg_result, "cond": cond, "uncond": uncond, "cond_scale": cond_scale, "model": model,
                "uncond_denoised": uncond_pred, "cond_denoised": cond_pred, "sigma": timestep,
                "model_options": model_options, "input": x}
        cfg_result = fn(args)
    return cfg_result


def sampling_function(model, x, timestep, uncond, cond, cond_scale, model_options=None, seed=None) -> torch.Tensor:
    """The guided denoised prediction at sigma `timestep`. At cfg 1 the unconditional pass is skipped unless
    `model_options["disable_cfg1_optimization"]`."""
    model_options = model_options or {}
    if math.isclose(cond_scale, 1.0) and not model_options.get("disable_cfg1_optimization", False):
        uncond_ = None
    else:
        uncond_ = uncond
    conds = [cond, uncond_]
    if "sampler_calc_cond_batch_function" in model_options:
        args = {"conds": conds, "input": x, "sigma": timestep, "model": model, "model_options": model_options}
        out = model_options["sampler_calc_cond_batch_function"](args)
    else:
        out = calc_cond_batch(model, conds, x, timestep, model_options)
    for fn in model_options.get("sampler_pre_cfg_function", []):
        args = {"conds": conds, "conds_out": out, "cond_scale": cond_scale, "timestep": timestep, "input": x,
                "sigma": timestep, "model": model, "model_options": model_options}
        out = fn(args)
    return cfg_function(model, out[0], out[1], cond_scale, x, timestep, model_options=model_options, cond=cond,
                        uncond=uncond_)


class KSamplerX0Inpaint:
    """The denoiser a k-diffusion sampler sees: checks for interrupts, and with a `denoise_mask` keeps the
    unmasked region on the original latent (re-noised to the current sigma before, pasted back after)."""

    def __init__(self, model, sigmas: torch.Tensor):
        self.inner_model = model
        self.sigmas = sigmas
        self.noise = None
        self.latent_image = None

    def __call__(self, x, sigma, denoise_mask=None, model_options=None, seed=None):
        comfy.model_management.throw_exception_if_processing_interrupted()
        model_options = model_options or {}
        if denoise_mask is not None:
            if "denoise_mask_function" in model_options:
                denoise_mask = model_options["denoise_mask_function"](
                    sigma, denoise_mask, extra_options={"model": self.inner_model, "sigmas": self.sigmas})
            latent_mask = 1.0 - denoise_mask
            renoised = scale_latent_inpaint(self.inner_model.inner_model, sigma, self.noise, self.latent_image)
            x = x * denoise_mask + renoised * latent_mask
        out = self.inner_model(x, sigma, model_options=model_options, seed=seed)
        if denoise_mask is not None:
            out = out * denoise_mask + self.latent_image * latent_mask
        return out


def scale_latent_inpaint(model, sigma: torch.Tensor, noise: torch.Tensor, latent_image: torch.Tensor) -> torch.Tensor:
    """The kept (unmasked) latent at noise level `sigma`: the model's own `scale_latent_inpaint` where it has one
    (Wan 2.2 TI2V 5B keeps the given frames clean), else its sampling's noise scaling of the original latent."""
    own = getattr(model, "scale_latent_inpaint", None)
    if own is not None:
        return own(sigma=sigma, noise=noise, latent_image=latent_image)
    sigma_b = sigma.reshape([sigma.shape[0]] + [1] * (noise.ndim - 1))
    return model.model_sampling.noise_scaling(sigma_b, noise, latent_image)


def prepare_mask(noise_mask: torch.Tensor, noise_shape, device) -> torch.Tensor:
    """A latent noise mask `[B?, H, W]` resized (bilinear) to the noise `[B, C, h, w]`, repeated over channels
    and batch."""
    return comfy.utils.reshape_mask(noise_mask, noise_shape).to(device)


class Sampler:
    """A sampling method: `sample(model_wrap, sigmas, extra_args, callback, noise, latent_image, denoise_mask,
    disable_pbar)` → x at sigmas[-1], in model space."""

    def sample(self, *args, **kwargs):
        raise NotImplementedError

    def max_denoise(self, model_wrap, sigmas: torch.Tensor) -> bool:
        """Whether sampling starts from (about) the model's maximum sigma, i.e. from pure noise."""
        max_sigma = float(model_wrap.inner_model.model_sampling.sigma_max)
        sigma = float(sigmas[0])
        return math.isclose(max_sigma, sigma, rel_tol=1e-05) or sigma > max_sigma


class KSAMPLER(Sampler):
    """Runs a k-diffusion style `sampler_function(model, x, sigmas, extra_args, callback, disable, **options)`."""

    def __init__(self, sampler_function, extra_options=None, inpaint_options=None):
        self.sampler_function = sampler_function
        self.extra_options = extra_options or {}
        self.inpaint_options = inpaint_options or {}

    def sample(self, model_wrap, sigmas, extra_args, callback, noise, latent_image=None, denoise_mask=None,
               disable_pbar=False):
        extra_args["denoise_mask"] = denoise_mask
        model_k = KSamplerX0Inpaint(model_wrap, sigmas)
        model_k.latent_image = latent_image
        if self.inpaint_options.get("random", False):
            seed = extra_args.get("seed")
            generator = torch.manual_seed((41 if seed is None else seed) + 1)
            model_k.noise = torch.randn(noise.shape, generator=generator, device="cpu").to(noise.dtype).to(noise.device)
        else:
            model_k.noise = noise
        model_sampling = model_wrap.inner_model.model_sampling
        x = model_sampling.noise_scaling(sigmas[0], noise, latent_image, self.max_denoise(model_wrap, sigmas))
        total_steps = len(sigmas) - 1
        k_callback = None
        if callback is not None:
            def k_callback(d):
                callback(d["i"], d["denoised"], d["x"], total_steps)
        samples = self.sampler_function(model_k, x, sigmas, extra_args=extra_args, callback=k_callback,
                                        disable=disable_pbar, **self.extra_options)
        return model_sampling.inverse_noise_scaling(sigmas[-1], samples)


def _stop_at_last_sigma(sigmas: torch.Tensor) -> tuple[float, float] | None:
    """(sigma_min, sigma_max) for the DPM-Solver samplers, which stop at the last non-zero sigma."""
    if len(sigmas) <= 1:
        return None
    sigma_min = sigmas[-1]
    if sigma_min == 0:
        sigma_min = sigmas[-2]
    return sigma_min, sigmas[0]


def ksampler(sampler_name: str, extra_options=None, inpaint_options=None) -> KSAMPLER:
    """The KSAMPLER for one of KSAMPLER_NAMES (dpm_fast / dpm_adaptive get their sigma-range adapters)."""
    extra_options = extra_options or {}
    if sampler_name == "dpm_fast":
        def sampler_function(model, noise, sigmas, extra_args, callback, disable):
            bounds = _stop_at_last_sigma(sigmas)
            if bounds is None:
                return noise
            return k_diffusion_sampling.sample_dpm_fast(model, noise, bounds[0], bounds[1], len(sigmas) - 1,
                                                        extra_args=extra_args, callback=callback, disable=disable)
    elif sampler_name == "dpm_adaptive":
        def sampler_function(model, noise, sigmas, extra_args, callback, disable, **options):
            bounds = _stop_at_last_sigma(sigmas)
            if bounds is None:
                return noise
            return k_diffusion_sampling.sample_dpm_adaptive(model, noise, bounds[0], bounds[1],
                                                            extra_args=extra_args, callback=callback,
                                                            disable=disable, **options)
    else:
        sampler_function = getattr(k_diffusion_sampling, f"sample_{sampler_name}", None)
        if sampler_function is None:
            raise ValueError(f"unknown sampler {sampler_name!r}; expected one of {KSAMPLER_NAMES}")
    return KSAMPLER(sampler_function, extra_options, inpaint_options)


def sampler_object(name: str) -> KSAMPLER:
    """The sampler for one of SAMPLER_NAMES: uni_pc(_bh2) from extra_samplers, ddim = euler with random
    inpaint noise, every other name a k-diffusion sampler."""
    if name == "uni_pc":
        return KSAMPLER(uni_pc.sample_unipc)
    if name == "uni_pc_bh2":
        return KSAMPLER(uni_pc.sample_unipc_bh2)
    if name == "ddim":
        return ksampler("euler", inpaint_options={"random": True})
    return ksampler(name)


class CFGGuider:
    """Classifier-free guidance over a model patcher: `set_conds(positive, negative)`, `set_cfg(cfg)`, then
    `sample(...)`. Calling the guider gives the guided denoised prediction."""

    def __init__(self, model_patcher):
        self.model_patcher = model_patcher
        self.model_options = model_patcher.model_options
        self.original_conds: dict[str, list[dict]] = {}
        self.conds: dict[str, list[dict]] = {}
        self.cfg = 1.0
        self.inner_model = None

    def set_conds(self, positive, negative) -> None:
        self.inner_set_conds({"positive": positive, "negative": negative})

    def set_cfg(self, cfg: float) -> None:
        self.cfg = cfg

    def inner_set_conds(self, conds: dict[str, list]) -> None:
        for k, v in conds.items():
            self.original_conds[k] = convert_cond(v)

    def __call__(self, *args, **kwargs):
        return self.outer_predict_noise(*args, **kwargs)

    def outer_predict_noise(self, x, timestep, model_options=None, seed=None):
        """`predict_noise` inside the `WrappersMP.PREDICT_NOISE` wrappers of the guider's model_options, called
        as `wrapper(executor, x, timestep, model_options, seed)` (`executor.class_obj` is the guider)."""
        wrappers = comfy.patcher_extension.get_all_wrappers(comfy.patcher_extension.WrappersMP.PREDICT_NOISE,
                                                            self.model_options, is_model_options=True)
        if not wrappers:
            return self.predict_noise(x, timestep, model_options, seed)
        executor = comfy.patcher_extension.WrapperExecutor.new_class_executor(self.predict_noise, self, wrappers)
        return executor.execute(x, timestep, model_options, seed)

    def predict_noise(self, x, timestep, model_options=None, seed=None):
        return sampling_function(self.inner_model, x, timestep, self.conds.get("negative"),
                                 self.conds.get("positive"), self.cfg, model_options=model_options, seed=seed)

    def inner_sample(self, noise, latent_image, device, sampler, sigmas, denoise_mask, callback, disable_pbar,
                     seed):
        latent_format = self.inner_model.latent_format
        if latent_image is not None and torch.count_nonzero(latent_image) > 0:
            # An all-zero (empty) latent is not shifted into model space, as in ComfyUI: with a shifted format
            # (SD3, Flux, Playground 2.5) it would become a constant.
            latent_image = latent_format.process_in(latent_image)
        self.conds = process_conds(self.inner_model, noise, self.conds, latent_image, denoise_mask, seed)
        # The run's schedule is a fact patches read (transformer_options["sample_sigmas"]), as in ComfyUI.
        model_options = comfy.model_patcher.create_model_options_clone(self.model_options)
        model_options.setdefault("transformer_options", {})["sample_sigmas"] = sigmas
        hooked = comfy.hooked_weights.HookedWeights.for_conds(self.model_patcher, self.inner_model, self.conds)
        if hooked is not None:
            model_options[comfy.hooked_weights.MODEL_OPTIONS_KEY] = hooked
        extra_args = {"model_options": model_options, "seed": seed}
        try:
            executor = comfy.patcher_extension.WrapperExecutor.new_class_executor(
                sampler.sample, sampler, comfy.patcher_extension.get_all_wrappers(
                    comfy.patcher_extension.WrappersMP.SAMPLER_SAMPLE, model_options, is_model_options=True))
            samples = executor.execute(self, sigmas, extra_args, callback, noise, latent_image, denoise_mask,
                                       disable_pbar)
        finally:
            if hooked is not None:
                hooked.restore()
        return latent_format.process_out(samples.to(torch.float32))

    def sample(self, noise, latent_image, sampler, sigmas, denoise_mask=None, callback=None, disable_pbar=False,
               seed=None):
        """Sample from `noise` `[B, C, H, W]` (unit variance) and `latent_image` (VAE space) over `sigmas`;
        returns the result in VAE space. An empty schedule returns `latent_image` unchanged."""
        if sigmas.shape[-1] == 0:
            return latent_image
        self.conds = {k: [dict(c) for c in v] for k, v in self.original_conds.items()}
        original_options = self.model_options
        self.model_options = self.options_with_patcher_extensions()
        try:
            executor = comfy.patcher_extension.WrapperExecutor.new_class_executor(
                self.outer_sample, self, comfy.patcher_extension.get_all_wrappers(
                    comfy.patcher_extension.WrappersMP.OUTER_SAMPLE, self.model_options, is_model_options=True))
            return executor.execute(noise, latent_image, sampler, sigmas, denoise_mask, callback, disable_pbar, seed)
        finally:
            self.model_options = original_options

    def options_with_patcher_extensions(self) -> dict:
        """A copy of model_options whose transformer_options also hold the patcher's wrappers and callbacks
        (`comfy.patcher_extension`), as ComfyUI merges them before sampling."""
        options = comfy.model_patcher.create_model_options_clone(self.model_options)
        transformer_options = options.setdefault("transformer_options", {})
        for name in ("wrappers", "callbacks"):
            comfy.patcher_extension.merge_nested_dicts(transformer_options.setdefault(name, {}),
                                                       getattr(self.model_patcher, name, {}), copy_dict1=False)
        return options

    def outer_sample(self, noise, latent_image, sampler, sigmas, denoise_mask=None, callback=None,
                     disable_pbar=False, seed=None):
        """Load the model (with its patches) and the models the conditioning needs, sample, clean up."""
        import comfy.sampler_helpers

        self.inner_model, self.conds, loaded = comfy.sampler_helpers.prepare_sampling(
            self.model_patcher, noise.shape, self.conds, self.model_options)
        device = self.model_patcher.load_device
        if denoise_mask is not None:
            denoise_mask = prepare_mask(denoise_mask, noise.shape, device)
        noise, latent_image, sigmas = noise.to(device), latent_image.to(device), sigmas.to(device)
        for callback_function in comfy.patcher_extension.get_all_callbacks(
                comfy.patcher_extension.CallbacksMP.ON_PRE_RUN, self.model_options, is_model_options=True):
            callback_function(self.model_patcher)
        try:
            return self.inner_sample(noise, latent_image, device, sampler, sigmas, denoise_mask, callback,
                                     disable_pbar, seed)
        finally:
            cleanup_controls(self.conds)
            comfy.sampler_helpers.cleanup_additional_models(loaded)
            self.conds = {}


def sample(model, noise, positive, negative, cfg, device, sampler, sigmas, model_options=None, latent_image=None,
           denoise_mask=None, callback=None, disable_pbar=False, seed=None) -> torch.Tensor:
    """Guided sampling with an explicit sampler object and sigmas (what SamplerCustom does)."""
    guider = CFGGuider(model)
    guider.set_conds(positive, negative)
    guider.set_cfg(cfg)
    return guider.sample(noise, latent_image, sampler, sigmas, denoise_mask, callback, disable_pbar, seed)


def _model_sampling_of(patcher):
    """The patcher's model_sampling, honouring object patches (ModelSamplingSD3 & co.) when it can."""
    get_model_object = getattr(patcher, "get_model_object", None)
    if get_model_object is not None:
        return get_model_object("model_sampling")
    return patcher.model.model_sampling


class KSampler:
    """ComfyUI's KSampler: a sampler name, a scheduler and a step count turned into sigmas, then `sample`."""

    SCHEDULERS = SCHEDULER_NAMES
    SAMPLERS = SAMPLER_NAMES
    DISCARD_PENULTIMATE_SIGMA_SAMPLERS = {"dpm_2", "dpm_2_ancestral", "uni_pc", "uni_pc_bh2"}

    def __init__(self, model, steps, device, sampler=None, scheduler=None, denoise=None, model_options=None):
        self.model = model
        self.device = device
        self.scheduler = scheduler if scheduler in self.SCHEDULERS else self.SCHEDULERS[0]
        self.sampler = sampler if sampler in self.SAMPLERS else self.SAMPLERS[0]
        self.set_steps(steps, denoise)
        self.denoise = denoise
        self.model_options = model_options if model_options is not None else {}

    def calculate_sigmas(self, steps: int) -> torch.Tensor:
        """The schedule for `steps` steps; the DPM-2 / UniPC samplers compute one more and drop the penultimate."""
        discard_penultimate = self.sampler in self.DISCARD_PENULTIMATE_SIGMA_SAMPLERS
        if discard_penultimate:
            steps += 1
        sigmas = calculate_sigmas(_model_sampling_of(self.model), self.scheduler, steps)
        if discard_penultimate:
            sigmas = torch.cat([sigmas[:-2], sigmas[-1:]])
        return sigmas

    def set_steps(self, steps: int, denoise: float | None = None) -> None:
        """`self.sigmas` for `steps` steps; with denoise < 1 the last steps+1 sigmas of int(steps / denoise)."""
        self.steps = steps
        if denoise is None or denoise > 0.9999:
            self.sigmas = self.calculate_sigmas(steps).to(self.device)
        elif denoise <= 0.0:
            self.sigmas = torch.FloatTensor([])
        else:
            new_steps = int(steps / denoise)
            self.sigmas = self.calculate_sigmas(new_steps).to(self.device)[-(steps + 1):]

    def sample(self, noise, positive, negative, cfg, latent_image=None, start_step=None, last_step=None,
               force_full_denoise=False, denoise_mask=None, sigmas=None, callback=None, disable_pbar=False,
               seed=None) -> torch.Tensor:
        """Sample, optionally only steps [start_step, last_step) of the schedule (KSamplerAdvanced); with
        `force_full_denoise` a truncated schedule still ends at sigma 0."""
        if sigmas is None:
            sigmas = self.sigmas
        if last_step is not None and last_step < len(sigmas) - 1:
            sigmas = sigmas[: last_step + 1]
            if force_full_denoise:
                sigmas = sigmas.clone()
                sigmas[-1] = 0
        if start_step is not None:
            if start_step < len(sigmas) - 1:
                sigmas = sigmas[start_step:]
            elif latent_image is not None:
                return latent_image
            else:
                return torch.zeros_like(noise)
        return sample(self.model, noise, positive, negative, cfg, self.device, sampler_object(self.sampler), sigmas,
                      self.model_options, latent_image=latent_image, denoise_mask=denoise_mask, callback=callback,
                      disable_pbar=disable_pbar, seed=seed)


__all__ = [
    "KSAMPLER_NAMES", "SAMPLER_NAMES", "SCHEDULER_NAMES", "SCHEDULER_HANDLERS", "calculate_sigmas", "KSampler",
    "KSAMPLER", "ksampler", "sampler_object", "CFGGuider", "sampling_function", "calc_cond_batch", "cfg_function",
    "Sampler", "sample",
]


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_function  # noqa: E402

_REASON = "a helper of ComfyUI's cond batching and hooks, which Kiln's sampler does its own way"

add_area_dims = unsupported_function(__name__, 'add_area_dims', 'area, num_dims', _REASON)
calc_cond_uncond_batch = unsupported_function(__name__, 'calc_cond_uncond_batch', 'model, cond, uncond, x_in, timestep, model_options', _REASON)
can_concat_cond = unsupported_function(__name__, 'can_concat_cond', 'c1, c2', _REASON)
cast_to_load_options = unsupported_function(__name__, 'cast_to_load_options', 'model_options, device=, dtype=', _REASON)
cond_cat = unsupported_function(__name__, 'cond_cat', 'c_list', _REASON)
cond_equal_size = unsupported_function(__name__, 'cond_equal_size', 'c1, c2', _REASON)
filter_registered_hooks_on_conds = unsupported_function(__name__, 'filter_registered_hooks_on_conds', 'conds, model_options', _REASON)
finalize_default_conds = unsupported_function(__name__, 'finalize_default_conds', 'model, hooked_to_run, default_conds, x_in, timestep, model_options', _REASON)
preprocess_conds_hooks = unsupported_function(__name__, 'preprocess_conds_hooks', 'conds', _REASON)
resolve_areas_and_cond_masks_multidim = unsupported_function(__name__, 'resolve_areas_and_cond_masks_multidim', 'conditions, dims, device', _REASON)
