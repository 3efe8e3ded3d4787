"""The template test bed's table: every local template of comfyui-workflow-templates 0.1.95 with its model family
and status (runs / missing node X / missing family Y / error), run on reduced random weights through a real Kiln
server (tests/template_bed.py).

    flock /tmp/kiln-flux.lock env OMP_NUM_THREADS=1 python bench/templates.py [--markdown] [NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.conftest import KilnServer  # noqa: E402
from tests.template_bed import Verdict, classify, kiln_node_classes, local_templates, run_template  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these templates")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    options = parser.parse_args()
    names = options.names or local_templates()
    if not names:
        print("comfyui-workflow-templates is not installed (pip install '.[test]')", file=sys.stderr)
        return 2
    kiln_classes = kiln_node_classes()
    verdicts: list[Verdict] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kiln-templates-") as scratch:
        server = KilnServer(Path(scratch), [])
        server.start()
        try:
            for name in names:
                family, status, _ = classify(name, kiln_classes)
                began = time.monotonic()
                if status == "ready":
                    try:
                        status = run_template(name, server.url, server.base_dir)
                    except Exception as error:  # noqa: BLE001 (reported in the table)
                        status = f"error: {error}"[:300]
                verdicts.append(Verdict(name, family, status, time.monotonic() - began))
                print(f"{name}: {status} ({verdicts[-1].seconds:.1f} s)", file=sys.stderr)
        finally:
            server.stop()
    if options.markdown:
        print("| template | family | status |\n| --- | --- | --- |")
        for verdict in verdicts:
            print(f"| `{verdict.name}` | {verdict.family} | {verdict.status.replace('|', '/')} |")
    else:
        width = max(len(verdict.name) for verdict in verdicts)
        for verdict in verdicts:
            print(f"{verdict.name:<{width}}  {verdict.family:<24}  {verdict.status}")
    runs = sum(verdict.status == "runs" for verdict in verdicts)
    print(f"{runs} of {len(verdicts)} templates run; {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
