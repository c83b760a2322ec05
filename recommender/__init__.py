"""Rules recommender: sustained stress -> breathing-exercise triggers (pure core)."""
