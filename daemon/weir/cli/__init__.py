"""weir.cli: argument parsing, one module per command, and all terminal output."""
