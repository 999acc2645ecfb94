"""weir: Dataiku's data-driven Flow as plain files in a git repo.

Recipes import ``recipe`` and ``var`` from here. This module stays light: importing it must not
pull in pandas or pyarrow, so the CLI starts fast.
"""

from weir._version import __version__
from weir.dataset_api import Dataset
from weir.folder_api import Folder
from weir.recipe_api import partition, recipe, var

__all__ = ["Dataset", "Folder", "__version__", "partition", "recipe", "var"]
