#!/usr/bin/env python3
"""Benchmark `weir build` on synthetic layered Flows.

A generator writes a project of N datasets: layer 0 holds 10 sources (1,000-row Parquet files),
every further layer holds 10 datasets, each a trivial pandas @recipe in its own file reading two
datasets of the previous layer. For each size the bench times, as whole-process wall time of the
CLI (`python -m weir ...` in a subprocess, interpreter start included), median of --repeats runs:

  cold         `weir build --all` with .weir/ and the built data deleted (true cold: no parse
               cache, no state, no kept outputs)
  cold_j1      the same with `--jobs 1` (for the per-recipe overhead)
  noop         `weir build --all` when everything is up to date
  one_recipe   `weir build --all` after editing one recipe of the last layer (exactly one job:
               the fixed cost of a build that starts a worker pool)
  incremental  `weir build --all` after editing one recipe of the middle layer; the bench checks
               (with `weir plan --all --json` before and the build's `--json` after) that exactly
               the edited dataset and its downstream were run, and fails loudly otherwise

plus `python -c pass` and `weir --version` for reference, an in-process baseline of one recipe's
own work (what a hand-written script does: read two Parquet inputs with pyarrow -> pandas, the
same pandas expression, write Parquet), the per-recipe overhead derived from those, and the
growth ratio between the two largest sizes. See bench/README.md for the method.

Usage: python bench/bench_build.py [--sizes 100 1000 5000] [--repeats 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WIDTH = 10  # datasets per layer
ROWS = 1_000


# -- how to run weir ---------------------------------------------------------------------------

def weir_env(pycache: Path | None) -> dict[str, str]:
    """The environment for `sys.executable -m weir`: PYTHONPATH gets the repo's daemon/ dir when
    weir is not importable otherwise (or the absolute directory weir was found in, when that is
    not site-packages, since the CLI runs in the generated projects' directories). With ``pycache``, byte code is cached there (as for an
    installed package, whose .pyc files pip writes at install time) even if the environment says
    PYTHONDONTWRITEBYTECODE, and nothing is written into the source tree."""
    env = dict(os.environ)
    env.pop("WEIR_PROJECT", None)
    env["NO_COLOR"] = "1"
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    spec = importlib.util.find_spec("weir")
    if spec is None or not spec.origin:
        where = REPO / "daemon"
    else:  # importable here, maybe through a relative PYTHONPATH or the current directory:
        where = Path(spec.origin).resolve().parent.parent  # the same weir, from any cwd
    import site

    installed = {str(Path(p).resolve()) for p in site.getsitepackages()}
    if str(where) not in installed:
        env["PYTHONPATH"] = str(where) + (os.pathsep + env["PYTHONPATH"]
                                          if env.get("PYTHONPATH") else "")
    return env


ENV: dict[str, str] = {}


def weir_source_hash() -> str:
    """A hash of the weir package's source the bench runs (weir changes under active
    development; the results file records which code it measured)."""
    import hashlib

    spec = importlib.util.find_spec("weir")
    pkg = Path(spec.origin).parent if spec and spec.origin else REPO / "daemon" / "weir"
    h = hashlib.blake2b(digest_size=8)
    for f in sorted(pkg.rglob("*.py")):
        h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + f.read_bytes())
    return f"{pkg}: {h.hexdigest()}"


def run(args: list[str], cwd: Path, check: bool = True) -> tuple[float, str]:
    """Run a command; return (wall seconds, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if check and proc.returncode != 0:
        raise SystemExit(f"FAILED ({proc.returncode}): {' '.join(args)} in {cwd}\n"
                         f"--- stdout ---\n{proc.stdout[-4000:]}\n"
                         f"--- stderr ---\n{proc.stderr[-4000:]}")
    return wall, proc.stdout


def weir(project: Path, *args: str) -> tuple[float, str]:
    return run([sys.executable, "-m", "weir", *args], cwd=project)


def weir_json(project: Path, *args: str) -> tuple[float, dict]:
    wall, out = weir(project, *args, "--json")
    try:
        return wall, json.loads(out)
    except json.JSONDecodeError:
        raise SystemExit(f"weir {' '.join(args)} --json printed no JSON:\n{out[-2000:]}") \
            from None


# -- the generator ------------------------------------------------------------------------------

def name(layer: int, j: int) -> str:
    return f"src_0_{j}" if layer == 0 else f"d_{layer}_{j}"


def inputs_of(layer: int, j: int) -> tuple[str, str]:
    return name(layer - 1, j), name(layer - 1, (j + 1) % WIDTH)


RECIPE = '''\
import pandas as pd
from weir import recipe


@recipe
def {out}({a}: pd.DataFrame, {b}: pd.DataFrame) -> pd.DataFrame:
    return {a}.assign(x=({a}.x + {b}.x) * 0.5 + {const})
'''


def recipe_text(layer: int, j: int, const: int = 0) -> str:
    a, b = inputs_of(layer, j)
    return RECIPE.format(out=name(layer, j), a=a, b=b, const=f"{const}.0")


def generate(root: Path, n: int) -> dict:
    """Write a project of ``n`` datasets (``n // 10`` layers of 10, sources included)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if n % WIDTH or n < 2 * WIDTH:
        raise SystemExit(f"--sizes: {n} is not a multiple of {WIDTH} of at least {2 * WIDTH}")
    layers = n // WIDTH
    if root.exists():
        shutil.rmtree(root)
    (root / "datasets").mkdir(parents=True)
    (root / "recipes").mkdir()
    (root / "data").mkdir()
    (root / "weir.yaml").write_text("name: bench\n")
    rng = np.random.default_rng(0)
    for j in range(WIDTH):
        src = name(0, j)
        (root / "datasets" / f"{src}.yaml").write_text(f"path: {src}.parquet\n")
        table = pa.table({"id": pa.array(np.arange(ROWS, dtype=np.int64)),
                          "x": pa.array(rng.random(ROWS))})
        pq.write_table(table, root / "data" / f"{src}.parquet")
    downstream: dict[str, set[str]] = {name(layer, j): set()
                                       for layer in range(layers) for j in range(WIDTH)}
    for layer in range(1, layers):
        for j in range(WIDTH):
            (root / "recipes" / f"{name(layer, j)}.py").write_text(recipe_text(layer, j))
            for inp in inputs_of(layer, j):
                downstream[inp].add(name(layer, j))
    return {"layers": layers, "recipes": (layers - 1) * WIDTH, "downstream": downstream}


def closure(start: str, downstream: dict[str, set[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in downstream[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# -- the baseline: one recipe's own work, in process --------------------------------------------

def baseline_recipe_seconds(root: Path, iterations: int = 300) -> dict:
    """Median time of what a hand-written script does for one recipe: read two 1,000-row Parquet
    files with pyarrow -> pandas, run the recipe's pandas expression, write Parquet."""
    import pandas as pd  # noqa: F401 - imported before timing, as in a warm worker
    import pyarrow as pa
    import pyarrow.parquet as pq

    a_path, b_path = root / "data" / "src_0_0.parquet", root / "data" / "src_0_1.parquet"
    out = root / "baseline_out.parquet"
    times, read_times = [], []
    for i in range(iterations + 20):
        t0 = time.perf_counter()
        a = pq.read_table(a_path).to_pandas()
        b = pq.read_table(b_path).to_pandas()
        t1 = time.perf_counter()
        df = a.assign(x=(a.x + b.x) * 0.5 + 0.0)
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out)
        t2 = time.perf_counter()
        if i >= 20:  # warm-up
            times.append(t2 - t0)
            read_times.append(t1 - t0)
    out.unlink()
    return {"median": statistics.median(times), "min": min(times),
            "read_inputs_median": statistics.median(read_times), "iterations": iterations}


# -- the measurements ---------------------------------------------------------------------------

def reset_cold(project: Path) -> None:
    """Forget every build: state, parse cache, logs, kept outputs, built data, and the recipes'
    byte code (weir's own stays cached, as in an installed package)."""
    shutil.rmtree(project / ".weir", ignore_errors=True)
    shutil.rmtree(project / "data" / "bench", ignore_errors=True)
    shutil.rmtree(project / "recipes" / "__pycache__", ignore_errors=True)
    prefix = ENV.get("PYTHONPYCACHEPREFIX")
    if prefix:
        shutil.rmtree(Path(prefix + str(project.resolve() / "recipes")), ignore_errors=True)


def built_names(result: dict) -> list[str]:
    if not result.get("ok"):
        bad = [d for d in result.get("datasets", []) if d["status"] not in ("built", "restored")]
        raise SystemExit(f"build failed: {json.dumps(bad[:3], indent=2)}")
    return [d["name"] for d in result["datasets"] if d["status"] == "built"]


def cold_builds(project: Path, recipes: int, repeats: int, jobs: int | None) -> dict:
    walls, inside = [], []
    extra = ["--jobs", str(jobs)] if jobs else []
    for _ in range(repeats):
        reset_cold(project)
        wall, result = weir_json(project, "build", "--all", *extra)
        names = built_names(result)
        if len(names) != recipes or len(result["datasets"]) != recipes:
            raise SystemExit(f"cold build ran {len(names)} recipes, expected {recipes}")
        walls.append(wall)
        inside.append(sum(d["seconds"] for d in result["datasets"]))
    return {"walls": walls, "median": statistics.median(walls),
            "worker_seconds_median": statistics.median(inside)}


def noop_builds(project: Path, repeats: int) -> dict:
    weir(project, "build", "--all")  # warm-up (page cache)
    walls = []
    for _ in range(repeats):
        wall, result = weir_json(project, "build", "--all")
        if result["datasets"]:
            raise SystemExit(f"no-op build ran {len(result['datasets'])} datasets")
        walls.append(wall)
    wall_plain, out = weir(project, "build", "--all")  # the human form, for the record
    if "Nothing to do" not in out:
        raise SystemExit(f"no-op build (plain) said: {out[:500]}")
    return {"walls": walls, "median": statistics.median(walls)}


class Editor:
    """Edits one recipe's constant to a value never used before, so each edit is a real change
    that no kept output (restore by fingerprint) can satisfy."""

    def __init__(self) -> None:
        self.counter = 0

    def edit(self, project: Path, layer: int, j: int) -> None:
        self.counter += 1
        path = project / "recipes" / f"{name(layer, j)}.py"
        path.write_text(recipe_text(layer, j, self.counter))


def edit_builds(project: Path, layer: int, j: int, expected: set[str], repeats: int,
                editor: Editor, label: str) -> dict:
    walls, inside = [], []
    for _ in range(repeats):
        editor.edit(project, layer, j)
        _, plan = weir_json(project, "plan", "--all")
        planned = {o for job in plan["jobs"] for o in job["outputs"]}
        actions = {job["action"] for job in plan["jobs"]}
        if planned != expected or actions != {"run"}:
            raise SystemExit(f"{label}: plan differs from the edited dataset's downstream: "
                             f"{len(planned)} planned ({sorted(actions)}), {len(expected)} "
                             f"expected; missing {sorted(expected - planned)[:10]}, extra "
                             f"{sorted(planned - expected)[:10]}")
        wall, result = weir_json(project, "build", "--all")
        ran = built_names(result)
        if set(ran) != expected or len(ran) != len(expected) \
                or len(result["datasets"]) != len(expected):
            raise SystemExit(f"{label}: the build ran {len(ran)} recipes, expected exactly "
                             f"{len(expected)} (the edited dataset and its downstream); missing "
                             f"{sorted(expected - set(ran))[:10]}, extra "
                             f"{sorted(set(ran) - expected)[:10]}")
        walls.append(wall)
        inside.append(sum(d["seconds"] for d in result["datasets"]))
    return {"walls": walls, "median": statistics.median(walls), "jobs": len(expected),
            "worker_seconds_median": statistics.median(inside)}


def reference(repeats: int, project: Path) -> dict:
    py = [run([sys.executable, "-c", "pass"], cwd=project)[0] for _ in range(repeats + 1)][1:]
    ver = [weir(project, "--version")[0] for _ in range(repeats + 1)][1:]
    return {"python_c_pass": {"walls": py, "median": statistics.median(py)},
            "weir_version": {"walls": ver, "median": statistics.median(ver)}}


def bench_size(n: int, workdir: Path, repeats: int, cold_repeats: int, j1_repeats: int,
               jobs: int | None) -> dict:
    project = workdir / f"flow_{n}"
    t0 = time.perf_counter()
    gen = generate(project, n)
    layers, recipes = gen["layers"], gen["recipes"]
    print(f"\n== N={n}: {layers} layers, {recipes} recipes ({project}) ==", flush=True)
    out: dict = {"n": n, "layers": layers, "recipes": recipes}

    out["baseline_recipe"] = baseline_recipe_seconds(project)
    print(f"  baseline recipe work   {out['baseline_recipe']['median'] * 1e3:.2f} ms", flush=True)

    out["cold_j1"] = cold_builds(project, recipes, j1_repeats, jobs=1)
    print(f"  cold --jobs 1          {out['cold_j1']['median']:.2f} s  {_walls(out['cold_j1'])}",
          flush=True)
    out["cold"] = cold_builds(project, recipes, cold_repeats, jobs=jobs)
    print(f"  cold                   {out['cold']['median']:.2f} s  {_walls(out['cold'])}",
          flush=True)
    out["noop"] = noop_builds(project, repeats)
    print(f"  no-op                  {out['noop']['median']:.3f} s  {_walls(out['noop'])}",
          flush=True)

    editor = Editor()
    last = layers - 1
    out["one_recipe"] = edit_builds(project, last, 0, {name(last, 0)}, repeats, editor,
                                    "one-recipe rebuild")
    print(f"  one recipe (leaf)      {out['one_recipe']['median']:.3f} s  "
          f"{_walls(out['one_recipe'])}", flush=True)
    middle = layers // 2
    expected = closure(name(middle, 0), gen["downstream"])
    out["incremental"] = edit_builds(project, middle, 0, expected, repeats, editor,
                                     "incremental rebuild")
    out["incremental"]["edited"] = name(middle, 0)
    print(f"  incremental ({name(middle, 0)}, {len(expected)} jobs) "
          f"{out['incremental']['median']:.2f} s  {_walls(out['incremental'])}", flush=True)

    # Per-recipe overhead (see README): weir's wall time per executed recipe beyond the recipe's
    # own work, with start-up removed.
    base = out["baseline_recipe"]["median"]
    j1, noop, one = out["cold_j1"]["median"], out["noop"]["median"], out["one_recipe"]["median"]
    out["overhead_ms"] = {
        # the brief's formula: start-up = the no-op build (interpreter, imports, load, status)
        "per_recipe_minus_noop": ((j1 - noop) / recipes - base) * 1e3,
        # start-up = a build that runs one recipe (also pays for the worker pool's start)
        "per_recipe_minus_one_recipe": ((j1 - one) / (recipes - 1) - base) * 1e3,
        # inside the worker (weir's `seconds`, includes the recipe's work) minus the baseline
        "worker_side": (out["cold_j1"]["worker_seconds_median"] / recipes - base) * 1e3,
        # wall per job not spent inside the worker: dispatch, commit, state store, bookkeeping
        "parent_side": ((j1 - one) / (recipes - 1)
                        - out["cold_j1"]["worker_seconds_median"] / recipes) * 1e3,
        "pool_start_s": one - noop - out["one_recipe"]["worker_seconds_median"],
    }
    print("  overhead/recipe        " + ", ".join(f"{k} {v:.2f}"
                                                  for k, v in out["overhead_ms"].items()),
          flush=True)
    out["bench_seconds"] = time.perf_counter() - t0
    return out


def _walls(m: dict) -> str:
    return "[" + " ".join(f"{w:.3f}" for w in m["walls"]) + "]"


# -- the report ---------------------------------------------------------------------------------

MEASURES = [("cold", "cold build `--all` (s)"), ("cold_j1", "cold build `--all --jobs 1` (s)"),
            ("noop", "no-op `build --all` (s)"), ("one_recipe", "rebuild after editing 1 leaf (s)"),
            ("incremental", "rebuild after editing the middle layer (s)")]


def table(results: dict) -> str:
    sizes = results["sizes"]
    by_n = {r["n"]: r for r in sizes}
    ns = [r["n"] for r in sizes]
    ratio_pair = (1000, 5000) if {1000, 5000} <= set(ns) else (tuple(ns[-2:]) if len(ns) > 1
                                                                 else None)
    head = "| measure | " + " | ".join(f"N={n:,}" for n in ns)
    if ratio_pair:
        head += f" | ratio {ratio_pair[0]:,}→{ratio_pair[1]:,}"
    lines = [head + " |", "|" + "---|" * (len(ns) + 1 + (1 if ratio_pair else 0))]

    def row(label: str, values: list[float], fmt: str, ratio: bool = True) -> None:
        cells = [format(v, fmt) for v in values]
        line = f"| {label} | " + " | ".join(cells)
        if ratio_pair:
            a, b = (values[ns.index(ratio_pair[0])], values[ns.index(ratio_pair[1])])
            line += " | " + (f"{b / a:.2f}×" if ratio and a > 0 else "–")
        lines.append(line + " |")

    row("recipes (jobs in a full build)", [by_n[n]["recipes"] for n in ns], ",d")
    for key, label in MEASURES:
        row(label, [by_n[n][key]["median"] for n in ns], ".3f")
    row("jobs in the middle-layer rebuild", [by_n[n]["incremental"]["jobs"] for n in ns], ",d")
    row("cold build per recipe, `--jobs 1` (ms)",
        [by_n[n]["cold_j1"]["median"] / by_n[n]["recipes"] * 1e3 for n in ns], ".2f")
    row("middle-layer rebuild per job (ms)",
        [by_n[n]["incremental"]["median"] / by_n[n]["incremental"]["jobs"] * 1e3 for n in ns],
        ".2f")
    row("baseline: the recipe's own work, in process (ms)",
        [by_n[n]["baseline_recipe"]["median"] * 1e3 for n in ns], ".2f")
    row("overhead per recipe, start-up = no-op (ms)",
        [by_n[n]["overhead_ms"]["per_recipe_minus_noop"] for n in ns], ".2f")
    row("overhead per recipe, start-up = 1-recipe build (ms)",
        [by_n[n]["overhead_ms"]["per_recipe_minus_one_recipe"] for n in ns], ".2f")
    row("… of which in the worker (ms)", [by_n[n]["overhead_ms"]["worker_side"] for n in ns],
        ".2f")
    row("… of which in the parent (ms)", [by_n[n]["overhead_ms"]["parent_side"] for n in ns],
        ".2f")
    ref = results["reference"]
    lines.append("")
    lines.append(f"Reference: `python -c pass` {ref['python_c_pass']['median'] * 1e3:.0f} ms, "
                 f"`python -m weir --version` {ref['weir_version']['median'] * 1e3:.0f} ms "
                 f"(medians of {len(ref['weir_version']['walls'])}).")
    return "\n".join(lines)


def targets(results: dict) -> list[str]:
    by_n = {r["n"]: r for r in results["sizes"]}
    out = []
    if 1000 in by_n:
        r = by_n[1000]
        noop = r["noop"]["median"]
        out.append(f"- no-op `weir build --all` at N=1,000 < 0.5 s: {noop:.3f} s — "
                   f"{'MET' if noop < 0.5 else 'NOT MET'}")
        o = r["overhead_ms"]["per_recipe_minus_noop"]
        o2 = r["overhead_ms"]["per_recipe_minus_one_recipe"]
        out.append(f"- overhead per executed recipe at N=1,000 < 5 ms: {o:.2f} ms (start-up = "
                   f"no-op) / {o2:.2f} ms (start-up = 1-recipe build) — "
                   f"{'MET' if max(o, o2) < 5 else 'NOT MET'}")
    inc = [f"N={n:,}: {r['incremental']['jobs']} jobs" for n, r in by_n.items()]
    out.append("- the middle-layer rebuild runs exactly the edited dataset's downstream (checked "
               "against the generator's graph, in the plan and in the build): MET (" +
               "; ".join(inc) + ")")
    if 1000 in by_n and 5000 in by_n:
        a, b = by_n[1000], by_n[5000]
        ratios = {k: b[k]["median"] / a[k]["median"] for k, _ in MEASURES}
        work = b["recipes"] / a["recipes"]
        out.append("- growth N=1,000→5,000 close to linear (work grows "
                   f"{work:.2f}×): " + ", ".join(f"{k} {v:.2f}×" for k, v in ratios.items()))
    return out


def main() -> None:
    global ENV
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--cold-repeats-large", type=int, default=None, metavar="R",
                   help="repeats of the two cold builds for sizes ≥ 5,000 (default: --repeats)")
    p.add_argument("--jobs", type=int, default=None,
                   help="--jobs for the cold build (default: weir's, the number of cores)")
    p.add_argument("--out", type=Path, default=None,
                   help="results JSON (default: bench/results/build-<date>.json)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="where to generate the projects (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the generated projects")
    p.add_argument("--no-pyc", action="store_true",
                   help="leave byte-code caching to the environment (by default the bench caches "
                   "it in its work directory, as for an installed weir, even under "
                   "PYTHONDONTWRITEBYTECODE)")
    args = p.parse_args()

    tmp = args.workdir or Path(tempfile.mkdtemp(prefix="weir-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    ENV = weir_env(None if args.no_pyc else tmp.resolve() / "pycache")
    started = time.perf_counter()
    results: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                    "python": sys.version.split()[0], "executable": sys.executable,
                    "load_before": os.getloadavg(),
                    "bytecode": "environment" if args.no_pyc else "cached (PYTHONPYCACHEPREFIX)"},
        "repeats": args.repeats, "sizes": []}
    try:
        # warm-up, untimed: byte code of weir and of everything it imports into the cache (with
        # PYTHONPYCACHEPREFIX even the standard library's and pandas' .pyc files live there)
        run([sys.executable, "-c", "import compileall, os, weir; compileall.compile_dir("
             "os.path.dirname(weir.__file__), quiet=1)"], cwd=tmp)
        warm = tmp / "flow_warmup"
        generate(warm, 2 * WIDTH)
        for args_ in (["build", "--all"], ["plan", "--all"], ["status"], ["build", "--all"]):
            weir(warm, *args_)
        shutil.rmtree(warm)
        _, version = weir(tmp, "--version")
        results["weir_version"] = version.strip()
        results["weir_source"] = weir_source_hash()
        results["reference"] = reference(max(args.repeats, 5), tmp)
        print(f"{version.strip()} | python {sys.version.split()[0]} | {os.cpu_count()} cores | "
              f"python -c pass {results['reference']['python_c_pass']['median'] * 1e3:.0f} ms | "
              f"weir --version {results['reference']['weir_version']['median'] * 1e3:.0f} ms",
              flush=True)
        for n in args.sizes:
            cold_r = args.cold_repeats_large if (args.cold_repeats_large and n >= 5000) \
                else args.repeats
            results["sizes"].append(bench_size(n, tmp, args.repeats, cold_r, cold_r, args.jobs))
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["load_after"] = os.getloadavg()
    results["total_seconds"] = time.perf_counter() - started
    md = table(results)
    results["table_markdown"] = md
    results["targets"] = targets(results)
    out = args.out or HERE / "results" / f"build-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("\n" + md + "\n")
    print("\n".join(results["targets"]))
    print(f"\nresults: {out} (bench took {results['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
