"""Architecture invariants: the core imports no I/O framework and `import weir` stays light."""

import subprocess
import sys

HEAVY = ["pandas", "pyarrow", "duckdb", "rich", "git", "watchdog", "apscheduler", "pygls",
         "fastapi", "polars"]


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return set(out.split())


def test_model_and_flow_import_no_io_framework() -> None:
    loaded = _loaded_after("import weir.model.loader, weir.flow.plan, weir.flow.status")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_import_weir_is_light_for_recipes_and_cli() -> None:
    loaded = _loaded_after("import weir, weir.cli.main, weir.workspace")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
