"""Record the public names ComfyUI 0.3.64's Python modules define, as facts for Kiln's surface test.

    python tools/oracle/record_public_names.py COMFYUI_DIR OUT.json

Reads the source with `ast` (nothing is imported or copied): for every module of `nodes`, `comfy.*`,
`comfy_extras.*`, `comfy_api.*`, `comfy_execution.*`, `folder_paths`, `latent_preview`, `node_helpers` and
`server`, each top-level name that does not start with an underscore and that the module itself defines: a class,
a function (its parameters: names, kinds, which have defaults) or a constant (a top-level assignment). Names a
module only imports are not its own. A class records its `__init__` parameters when it defines one.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT_MODULES = ("nodes.py", "folder_paths.py", "latent_preview.py", "node_helpers.py", "server.py")
PACKAGES = ("comfy", "comfy_extras", "comfy_api", "comfy_execution")


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[list]:
    """[[name, kind, has_default], ...] with kind positional / keyword / var_positional / var_keyword."""
    arguments = function.args
    out: list[list] = []
    positional = arguments.posonlyargs + arguments.args
    defaults_from = len(positional) - len(arguments.defaults)
    for index, argument in enumerate(positional):
        out.append([argument.arg, "positional", index >= defaults_from])
    if arguments.vararg:
        out.append([arguments.vararg.arg, "var_positional", False])
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        out.append([argument.arg, "keyword", default is not None])
    if arguments.kwarg:
        out.append([arguments.kwarg.arg, "var_keyword", False])
    return out


def module_names(path: Path) -> dict[str, dict]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: dict[str, dict] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            init = next((item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and item.name == "__init__"), None)
            names[node.name] = {"kind": "class", "init": _parameters(init) if init else None}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            names[node.name] = {"kind": "function", "parameters": _parameters(node),
                                "async": isinstance(node, ast.AsyncFunctionDef)}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for element in (target.elts if isinstance(target, ast.Tuple) else [target]):
                    if isinstance(element, ast.Name) and not element.id.startswith("_"):
                        names.setdefault(element.id, {"kind": "constant"})
    return names


def main() -> None:
    comfy_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    modules: dict[str, dict] = {}
    for name in ROOT_MODULES:
        modules[name.removesuffix(".py")] = module_names(comfy_dir / name)
    for package in PACKAGES:
        for path in sorted((comfy_dir / package).rglob("*.py")):
            relative = path.relative_to(comfy_dir).with_suffix("")
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if any(part.startswith(("_", ".")) and part != "__init__" for part in parts) or "tests" in parts:
                continue
            modules[".".join(parts)] = module_names(path)
    out.write_text(json.dumps({"comfyui": "0.3.64 (a125cd84)", "modules": modules}, indent=1, sort_keys=True) + "\n")
    print(f"{len(modules)} modules, {sum(len(names) for names in modules.values())} names")


if __name__ == "__main__":
    main()
