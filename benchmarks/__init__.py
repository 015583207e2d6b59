"""Benchmarks: scripts that print tables and write JSON (never timed tests); `python benchmarks/run.py`."""
