"""Fault tests: real server processes through restarts, crashes, signals and late timers."""
