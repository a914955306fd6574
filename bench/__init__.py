"""Benchmarks: relay latency and throughput, command latency at scale, scheduler, memory.

Run with ``python -m bench`` (see README). Never part of the test run's
pass/fail: machines here are shared and noisy, so figures that compare are
measured in the same run and reported as ratios.
"""
