"""weir.flow: the DAG, selection, fingerprints, status and build planning — pure functions over a
Project. No I/O: whatever the disk or the state store knows is passed in as plain values."""
