"""weir.gitops: everything weir does with git — creating a project, and the commit a build ran
at. Every git call lives in this package."""
