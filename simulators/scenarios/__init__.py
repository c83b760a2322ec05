"""Shipped scenario files (TOML), read by `simulators.load_scenario`."""
