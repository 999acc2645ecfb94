"""weir.server: the daemon — a live Flow kept current from file events, served over HTTP."""
