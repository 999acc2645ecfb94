"""weir: Dataiku's data-driven Flow as plain files in a git repo.

Recipes import ``recipe`` and ``var`` from here. This module stays light: importing it must not
pull in pandas or pyarrow, so the CLI starts fast.
"""

from weir._version import __version__
from weir.dataset_api import Dataset
from weir.folder_api import Folder
from weir.recipe_api import partition, recipe, var

__all__ = ["Dataset", "Folder", "Partition", "__version__", "partition", "recipe", "var"]


def __getattr__(name: str) -> object:
    """``weir.Partition`` (a recipe's annotation for the partition it builds), imported only
    when a recipe names it: a scheduler's ``weir.client`` never loads the model."""
    if name == "Partition":
        from weir.model.partitions import Partition

        return Partition
    raise AttributeError(f"module 'weir' has no attribute {name!r}")
