"""BLE heart-rate ingest: 0x2A37 codec, beat timing, bleak client, recording importers."""
