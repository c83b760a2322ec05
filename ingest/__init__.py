"""Bluetooth LE heart-rate ingest: the 0x2A37 codec, beat timing, the bleak client, recording importers."""
