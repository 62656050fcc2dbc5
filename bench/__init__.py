"""Benchmarks of the deploy: ours against the old pipeline and the floor (make bench)."""
