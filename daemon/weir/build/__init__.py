"""weir.build: the state store, the worker pool and the executor that runs a BuildPlan."""
