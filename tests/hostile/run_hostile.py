"""Runs burnish on every case of a corpus written by ``gen_hostile.py`` and counts outcomes.

Each case runs ``inspect``, ``run``, ``optimize`` and ``optimize --quantize static-int8
--calibration`` (data cases: the three commands that read the data file) under
``ulimit -v 4000000`` and a 20 s timeout. Outcomes:

* ``ok``: exit 0 (and the output files exist);
* ``error``: exit 2 with one line ``error: ...`` on stderr that names the file;
* failures: ``error-unnamed`` (no file named), ``error-repeated`` (a cause repeated, "X: X"),
  ``error-lines`` (more than one line), ``accepted-invalid`` (exit 0 on an input ONNX/numpy
  reject), ``panic`` (exit 101 or a panic message), ``abort`` (a signal, an allocation abort),
  ``timeout``, ``partial-output`` (an output or temp file left after a failure), ``exit-N``.

Usage: python tests/hostile/run_hostile.py CORPUS_DIR [--bin target/debug/burnish] [--jobs 2]
Writes CORPUS_DIR/results.json and prints the counts.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT_KB = 4_000_000
TIMEOUT_S = 20
FAILURES = (
    "panic",
    "abort",
    "timeout",
    "partial-output",
    "accepted-invalid",
    "error-unnamed",
    "error-repeated",
    "error-lines",
)


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_KB * 1024, LIMIT_KB * 1024))


def commands(case: dict, out: Path) -> list[tuple[str, list[str], list[Path], str]]:
    """(label, argv, expected outputs on success, file the error must name)."""
    m = case["model"]
    if case["kind"] == "data":
        d = case["data"]
        return [
            ("run", ["run", m, "--inputs", d, "-o", str(out / "run.npz")], [out / "run.npz"], d),
            ("optimize", ["optimize", m, "--inputs", d, "-o", str(out / "opt.onnx")], [out / "opt.onnx", out / "opt.json"], d),
            (
                "quantize",
                ["optimize", m, "--quantize", "static-int8", "--calibration", d, "-o", str(out / "q.onnx")],
                [out / "q.onnx", out / "q.json"],
                d,
            ),
        ]
    inputs = ["--inputs", case["inputs"]] if case.get("inputs") else []
    run_inputs = inputs or ["--random-inputs"]
    cal = ["--calibration", case["calibration"]] if case.get("calibration") else []
    return [
        ("inspect", ["inspect", m], [], m),
        ("run", ["run", m, *run_inputs, "-o", str(out / "run.npz")], [out / "run.npz"], m),
        ("optimize", ["optimize", m, *inputs, "-o", str(out / "opt.onnx")], [out / "opt.onnx", out / "opt.json"], m),
        (
            "quantize",
            ["optimize", m, *inputs, "--quantize", "static-int8", *cal, "-o", str(out / "q.onnx")],
            [out / "q.onnx", out / "q.json"],
            m,
        ),
    ]


def repeated_cause(line: str) -> bool:
    parts = [p.strip() for p in line.split(": ")]
    return any(len(a) > 8 and a == b for a, b in zip(parts, parts[1:]))


def classify(rc, stderr: str, expect: str, command: str, produced: list[Path], leftovers: list[str], named: str) -> str:
    if rc == "timeout":
        return "timeout"
    if rc < 0 or rc == 134 or "memory allocation of" in stderr:
        return "abort"
    if rc == 101 or "panicked at" in stderr:
        return "panic"
    if leftovers:
        return "partial-output"
    if rc == 0:
        if not all(p.exists() for p in produced):
            return "partial-output"
        invalid = expect == "error" or (expect == "run-error" and command != "inspect")
        return "accepted-invalid" if invalid else "ok"
    if rc != 2:
        return f"exit-{rc}"
    lines = [l for l in stderr.splitlines() if l.strip()]
    errors = [l for l in lines if l.startswith("error:")]
    if len(errors) != 1 or lines[-1] != errors[0]:
        return "error-lines"
    if repeated_cause(errors[0]):
        return "error-repeated"
    if Path(named).name not in errors[0]:
        return "error-unnamed"
    return "error"


def run_case(binary: str, case: dict) -> list[dict]:
    results = []
    for i in range(len(commands(case, Path(".")))):
        with tempfile.TemporaryDirectory(prefix="hostile-run-") as tmp:
            out = Path(tmp)
            label, argv, produced, named = commands(case, out)[i]
            try:
                p = subprocess.run(
                    [binary, *argv],
                    capture_output=True,
                    text=True,
                    errors="replace",
                    timeout=TIMEOUT_S,
                    preexec_fn=limit_memory,
                    cwd=tmp,
                    env={k: v for k, v in os.environ.items() if k != "RUST_BACKTRACE"} | {"RAYON_NUM_THREADS": "2"},
                )
                rc, stderr = p.returncode, p.stderr
            except subprocess.TimeoutExpired as e:
                rc, stderr = "timeout", (e.stderr or b"").decode("utf8", "replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
            files = sorted(f.name for f in out.iterdir())
            expected_names = {p.name for p in produced}
            leftovers = [f for f in files if f not in expected_names] if rc == 0 else files
            outcome = classify(rc, stderr, case["expect"], label, produced, leftovers, named)
            results.append(
                {
                    "case": case["name"],
                    "command": label,
                    "outcome": outcome,
                    "rc": rc,
                    "stderr": stderr[-600:],
                    "leftovers": leftovers,
                }
            )
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--bin", default=str(ROOT / "target" / "debug" / "burnish"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--filter", default="")
    args = ap.parse_args()
    cases = [c for c in json.loads((args.corpus / "cases.json").read_text()) if args.filter in c["name"]]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = [r for rs in pool.map(lambda c: run_case(args.bin, c), cases) for r in rs]
    (args.corpus / "results.json").write_text(json.dumps(results, indent=1))
    counts = collections.Counter(r["outcome"] for r in results)
    by_cmd = collections.defaultdict(collections.Counter)
    for r in results:
        by_cmd[r["command"]][r["outcome"]] += 1
    print(f"{len(cases)} cases, {len(results)} command runs")
    for outcome, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {outcome:<18} {n:>6}   " + ", ".join(f"{c} {by_cmd[c][outcome]}" for c in by_cmd if by_cmd[c][outcome]))
    bad = [r for r in results if r["outcome"] in FAILURES or r["outcome"].startswith("exit-")]
    for r in bad[:400]:
        last = r["stderr"].strip().splitlines()[-1:] if r["stderr"].strip() else [""]
        print(f"{r['outcome']:<16} {r['command']:<9} {r['case']}: {last[0][:220]}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
