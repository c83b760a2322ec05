"""Every literal copy of the window record's fields agrees with `hrv.WindowMetrics`.

`hrv.WindowMetrics` is the one source. Code derives from it: `hrv.WINDOW_FIGURES`
(its numeric fields) and `hrv.METRIC_COLUMNS`, and through them the MQTT
payload (`vagus.mqtt.metrics_json`), the InfluxDB ``hrv`` point
(`vagus.influx.window_line`), ``metrics.csv`` (`vagus.session`) and the
fields rules may test (`recommender`). What has to stay a literal — the
published JSON Schema, the typed columns of `hrv.WindowTable`, Home
Assistant's value templates and the field lists in the docs — is checked
here against it, so none of them can drift.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from hrv import METRIC_COLUMNS, WINDOW_FIGURES, Quality, WindowMetrics, WindowTable
from tests.recommender.windows import window
from vagus.mqtt import Topics, discovery_messages, metrics_json
from vagus.mqtt.payloads import METRICS_SCHEMA
from vagus.schemas import load_schema

DOCS = Path(__file__).parents[1] / "docs"
FIELDS = [field.name for field in dataclasses.fields(WindowMetrics)]
QUALITIES = [quality.value for quality in Quality]


def quoted_names(text: str) -> list[str]:
    """The identifiers written as ``name`` in a piece of Markdown, in order."""
    return re.findall(r"`([a-z][a-z0-9_]*)`", text)


def table_row(doc: str, first_cell: str) -> list[str]:
    """The cells of the Markdown table row of ``doc`` whose first cell is ``first_cell``."""
    for line in (DOCS / doc).read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in docs/{doc}")


def test_metrics_schema_matches_the_payload_and_the_record() -> None:
    """vagus/schemas/metrics.json requires exactly the payload's keys, in its order; every
    figure is a number or null (n_beats an integer) and quality lists every `Quality`."""
    schema = load_schema("metrics")
    payload = metrics_json(window(5.0, 30.0))
    assert schema["required"] == list(payload)
    assert list(schema["properties"]) == list(payload)
    assert list(payload) == ["schema", "device", "t_end_s", "n_beats", "quality"] + [
        name for name in WINDOW_FIGURES if name != "n_beats"
    ]
    assert schema["properties"]["schema"] == {"const": METRICS_SCHEMA}
    assert schema["properties"]["quality"]["enum"] == QUALITIES
    assert schema["properties"]["n_beats"]["type"] == "integer"
    for name in WINDOW_FIGURES:
        if name != "n_beats":
            assert schema["properties"][name]["type"] == ["number", "null"], name


def test_window_table_has_one_column_per_field() -> None:
    """`hrv.WindowTable` holds device_idx, then a column per field after device, then baselines."""
    columns = [field.name for field in dataclasses.fields(WindowTable)]
    assert columns == ["device_idx", *FIELDS[1:], "baselines"]
    assert list(METRIC_COLUMNS) == FIELDS[1:]


def test_home_assistant_sensors_read_fields_the_payload_has() -> None:
    """Each discovery sensor on the metrics topic reads a field of the metrics payload."""
    topics = Topics()
    read = []
    for message in discovery_messages("homeassistant", topics, "d1"):
        if not message.payload:
            continue  # clearing an old per-entity config
        config = json.loads(message.payload)
        for component in config.get("cmps", {}).values():
            if component.get("state_topic") == topics.metrics("d1"):
                read += re.findall(r"value_json\.(\w+)", component["value_template"])
    assert read
    assert set(read) <= set(WINDOW_FIGURES)


def test_storage_doc_lists_the_hrv_point() -> None:
    """docs/storage.md: the `hrv` measurement's fields are `WINDOW_FIGURES`, its quality tag
    values every `Quality`."""
    _, tags, fields, _ = table_row("storage.md", "`hrv`")
    assert quoted_names(fields) == list(WINDOW_FIGURES)
    assert quoted_names(tags) == ["device", "quality", *QUALITIES]


def test_session_files_doc_lists_the_metrics_csv_columns() -> None:
    """docs/replay-and-report.md: metrics.csv's columns are the fields of WindowMetrics."""
    _, _, columns = table_row("replay-and-report.md", "`metrics.csv`")
    assert quoted_names(columns.split("in order:")[1]) == FIELDS


def test_hrv_doc_lists_the_window_table_columns() -> None:
    """docs/hrv.md: WindowTable's columns are METRIC_COLUMNS plus device_idx."""
    text = (DOCS / "hrv.md").read_text(encoding="utf-8")
    match = re.search(r"`WindowTable` has one numpy array per column \((.*?)\),", text, re.S)
    assert match is not None
    assert quoted_names(match[1]) == [*METRIC_COLUMNS, "device_idx"]
