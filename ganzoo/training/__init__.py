"""The training engine: one small trainer on accelerate, and what it writes to a run directory."""
