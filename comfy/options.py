"""ComfyUI's `comfy.options`: whether `comfy.cli_args` parses the command line (embedders turn it off).

Kiln's `main.py` parses its own flags; the switch is kept for code that sets or reads it."""

args_parsing = False


def enable_args_parsing(enable: bool = True) -> None:
    global args_parsing
    args_parsing = enable
