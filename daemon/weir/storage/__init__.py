"""weir.storage: where datasets live and how their bytes are read, written and versioned."""
