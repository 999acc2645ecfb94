"""Which Rscript runs R recipes: weir.yaml's ``r: {rscript: …}``, else the one on PATH.

Asked by a build's parent once, and only when an R recipe must run: a machine without R builds
every other recipe, and the R ones fail with what to do.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from weir.errors import WeirError
from weir.model.project import ProjectConfig


class RscriptMissing(WeirError):
    """R is not installed (or not where weir.yaml says): an R recipe cannot run."""


def find_rscript(config: ProjectConfig, root: Path) -> str:
    """The Rscript to run, or RscriptMissing saying how to get one."""
    given = config.rscript
    if given:
        path = Path(os.path.expandvars(os.path.expanduser(given)))
        path = path if path.is_absolute() else root / path
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        where = f"weir.yaml:{config.rscript_line}: " if config.rscript_line else "weir.yaml: "
        raise RscriptMissing(f"{where}r.rscript {given!r} is not an executable file",
                             hint="install R (e.g. apt-get install r-base-core) or fix "
                             "`rscript:` under `r:` in weir.yaml")
    found = shutil.which("Rscript")
    if found is None:
        raise RscriptMissing("R recipes need Rscript, which is not on PATH",
                             hint="install R (e.g. apt-get install r-base-core), or set "
                             "`r: {rscript: /path/to/Rscript}` in weir.yaml")
    return found
