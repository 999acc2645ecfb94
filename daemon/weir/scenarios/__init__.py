"""Scenarios at run time: when they are due (``timing``); the daemon runs them."""
