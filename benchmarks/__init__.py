"""Benchmarks of the suite: figures printed and written as JSON, never asserted by timed tests."""
