"""Simulators: physiological RR model, virtual wearables, fleets."""
