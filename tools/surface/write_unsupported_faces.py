"""Write the faces (comfy/unsupported.py) for ComfyUI 0.3.64 public names that Kiln lacks.

    python tools/surface/write_unsupported_faces.py MISSING.json

MISSING.json is {module: [name, ...]} (the names `tests/unit/test_public_surface.py` reports missing). Names come
from the committed list tests/fixtures/comfyui/public_names_0.3.64.json (facts: module, name, kind, parameter
names). A module Kiln lacks gets a new file; a module Kiln has gets a block appended. Faces for names Kiln can
honour should then be replaced by real code by hand; this only makes the rest importable and honest.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMES = ROOT / "tests" / "fixtures" / "comfyui" / "public_names_0.3.64.json"


def reason_for(module: str) -> str:
    parts = module.split(".")
    if module.startswith("comfy.ldm."):
        return f"Kiln does not carry ComfyUI's `{parts[2]}` network code (Kiln's models are diffusers modules)"
    if module.startswith("comfy.text_encoders."):
        return f"Kiln has no `{parts[2]}` text encoder"
    if module.startswith(("comfy.audio_encoders", "comfy.image_encoders")):
        return "Kiln has no audio or DINO image encoders"
    if module.startswith("comfy_extras.nodes_"):
        return f"Kiln does not implement this `{parts[1]}` node yet"
    if module.startswith("comfy.weight_adapter"):
        return "Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters"
    if module.startswith(("comfy.cldm", "comfy.t2i_adapter")):
        return "Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks"
    if module in ("comfy.supported_models", "comfy.model_base", "comfy.latent_formats", "comfy.model_sampling"):
        return "Kiln does not support this model family"
    return "Kiln has no equivalent of this ComfyUI internal"


def parameters(spec: list[list] | None, drop_self: bool) -> str | None:
    if spec is None:
        return None
    spec = spec[1:] if drop_self and spec else spec
    items, seen_star = [], False
    for name, kind, has_default in spec:
        if kind == "var_positional":
            items.append("*" + name)
            seen_star = True
        elif kind == "var_keyword":
            items.append("**" + name)
        else:
            if kind == "keyword" and not seen_star:
                items.append("*")
                seen_star = True
            items.append(name + ("=" if has_default else ""))
    return ", ".join(items)


def face_lines(module: str, names: list[str], facts: dict) -> list[str]:
    lines = []
    for name in names:
        fact = facts[name]
        if fact["kind"] == "class":
            lines.append(f"{name} = unsupported_class(__name__, {name!r}, {parameters(fact['init'], True)!r}, "
                         f"_REASON)")
        elif fact["kind"] == "function":
            lines.append(f"{name} = unsupported_function(__name__, {name!r}, "
                         f"{parameters(fact['parameters'], False)!r}, _REASON)")
        elif name == "ops":
            lines.append("ops = comfy.ops.disable_weight_init")
        elif name in ("NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"):
            lines.append(f"{name}: dict = {{}}  # Kiln registers none of this module's nodes")
        else:
            lines.append(f"{name} = UnsupportedValue(__name__, {name!r}, _REASON)")
    return lines


def module_path(module: str) -> tuple[Path, bool]:
    """(the file of `module` in Kiln, whether it exists)."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate, True
    return base.with_suffix(".py"), False


def main() -> None:
    missing = json.loads(Path(sys.argv[1]).read_text())
    facts = json.loads(NAMES.read_text())["modules"]
    all_modules = set(facts)
    for module, names in sorted(missing.items()):
        path, exists = module_path(module)
        if not exists and any(other.startswith(module + ".") for other in all_modules):
            path = ROOT.joinpath(*module.split(".")) / "__init__.py"
        uses = {facts[module][name]["kind"] for name in names}
        imports = [f"from comfy.unsupported import {', '.join(sorted(filter(None, ['UnsupportedValue' if any(facts[module][n]['kind'] == 'constant' and n not in ('ops', 'NODE_CLASS_MAPPINGS', 'NODE_DISPLAY_NAME_MAPPINGS') for n in names) else '', 'unsupported_class' if 'class' in uses else '', 'unsupported_function' if 'function' in uses else ''])))}"]
        if "ops" in names:
            imports.insert(0, "import comfy.ops")
        body = face_lines(module, names, facts[module])
        reason = f"_REASON = {reason_for(module)!r}"
        if exists:
            block = ["", "", "# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used",
                     *[line + "  # noqa: E402" for line in imports], "", reason.replace("_REASON", "_REASON"), "",
                     *body]
            path.write_text(path.read_text().rstrip("\n") + "\n" + "\n".join(block) + "\n")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            for parent in path.relative_to(ROOT).parents:
                init = ROOT / parent / "__init__.py"
                if parent != Path(".") and not init.exists():
                    init.write_text(f'"""ComfyUI\'s `{".".join(parent.parts)}` package (faces; see comfy/unsupported.py)."""\n')
            if not names:
                if not path.exists():
                    path.write_text(f'"""ComfyUI\'s `{module}` package (faces; see comfy/unsupported.py)."""\n')
                continue
            doc = (f'"""ComfyUI\'s `{module}`, as faces: {reason_for(module)}.\n\nEvery name is importable with '
                   f'ComfyUI\'s kind and signature and raises UnsupportedError when used (comfy/unsupported.py).\n"""')
            path.write_text("\n".join([doc, "", *imports, "", reason, "", *body]) + "\n")
        print(module, len(names), "appended" if exists else "new")


if __name__ == "__main__":
    main()
