"""weir.gitops: everything weir does with git (project creation today; environments and
promotion later). Every git call lives in this package."""
