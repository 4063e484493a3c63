"""Run notebooks/demo.ipynb top to bottom in a real kernel and print what each cell printed.

    python notebooks/run_demo.py [--keep DIR]

The notebook runs in a fresh folder (a temporary one, or DIR) against the default store, or
$JUPYTER_ARTIFACTS_ROOT; jobs run on two simulated GPUs unless JUPYTER_ARTIFACTS_GPUS says otherwise.
The executed notebook is written next to it as demo.ipynb, to open in Jupyter afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def text_of(output: dict) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    if "text/plain" in data and "application/vnd.jupyter.widget-view+json" not in data:
        return data["text/plain"]
    if "application/vnd.jupyter.widget-view+json" in data:
        return "[widget]"
    return ""


def run(folder: str, timeout: int = 300):
    import nbformat
    from nbclient import NotebookClient

    path = os.path.join(folder, "demo.ipynb")
    shutil.copy(os.path.join(HERE, "demo.ipynb"), path)
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("JUPYTER_ARTIFACTS_GPUS", "fake:2")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": folder}})
    try:
        client.execute()
    finally:
        nbformat.write(nb, path)
    return nb, path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", metavar="DIR", help="run in DIR (created) and keep it")
    args = parser.parse_args(argv)
    folder = args.keep or tempfile.mkdtemp(prefix="jupyter-artifacts-notebook-")
    os.makedirs(folder, exist_ok=True)
    nb, path = run(folder)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        print("\n>>> " + cell.source.replace("\n", "\n... "))
        for output in cell.get("outputs", []):
            text = text_of(output)
            if text:
                sys.stdout.write(text if text.endswith("\n") else text + "\n")
    print(f"\nThe executed notebook: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
