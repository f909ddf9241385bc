"""Test doubles and simulated ground truths shipped for tests and benchmarks."""
