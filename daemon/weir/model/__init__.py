"""weir.model: project files → an immutable Project, plus diagnostics. Knows nothing of builds,
the daemon, the editor or the terminal."""
