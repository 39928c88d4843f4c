"""Benchmarks of krmfn: see run.py."""
