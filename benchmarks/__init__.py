"""Benchmarks of pyramid_polydatum: ``python -m benchmarks --help`` (from the project root)."""
