"""The strap link against a replaying fake: streaming, link loss, retries, shutdown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from ingest.ble_state import LinkEvent, LinkState
from ingest.errors import BluetoothUnavailableError, ConnectError, MissingCharacteristicError
from ingest.hrm import HeartRateMeasurement, encode
from tests.ingest.fake_ble import (
    HANG,
    NOT_FOUND,
    SCAN_HANG,
    Harness,
    ScriptItem,
    Session,
    beats_of,
)
from tests.ingest.replay import START_S, load_rr_ms, strap_replay

ADDRESS = "C0:FF:EE:00:00:01"


async def test_ten_minute_replay_with_two_disconnects_stays_within_50_ms(
    data_dir: Path,
) -> None:
    """Done-when: 10 min, two link losses, failed reconnects: beats within 50 ms, 2 gaps."""
    replay = strap_replay(load_rr_ms(data_dir / "pyhrv_long_60min.csv", limit_s=600))
    notes = replay.notifications

    def between(a_s: float, b_s: float) -> list[tuple[float, bytes]]:
        return [n for n in notes if START_S + a_s <= n[0] < START_S + b_s]

    script: list[ScriptItem] = [
        Session(between(0, 200)),
        ConnectError(ADDRESS, "le-connection-abort-by-local"),
        HANG,
        Session(between(212, 400)),
        NOT_FOUND,
        Session(between(431, 601), link_loss=False),
    ]
    h = Harness(script)
    beats = beats_of(await h.run())

    nearest = np.abs(beats.t_s[:, None] - replay.beat_t_s[None, :]).argmin(axis=1)
    np.testing.assert_array_equal(beats.rr_ms, replay.rr_ms[nearest])
    errors_s = beats.t_s - replay.beat_t_s[nearest]
    assert np.abs(errors_s).max() < 0.05
    delivered = sum(len(s.notifications) for s in script if isinstance(s, Session))
    assert len(beats) == np.unique(nearest).size
    assert delivered > 550
    gaps = beats.t_s[beats.gap] - START_S
    assert gaps.size == 2
    assert 200 < gaps[0] < 213
    assert 400 < gaps[1] < 432
    assert h.events().count(LinkEvent.LINK_LOST) == 2
    assert h.events().count(LinkEvent.CONNECT_FAILED) == 2
    assert h.events().count(LinkEvent.NOT_FOUND) == 1
    assert h.counters.link_downs == 2
    last = h.backend.clients[-1].calls
    assert last[-2:] == ["stop_notify 2a37", "disconnect"]
    assert h.link.state is LinkState.STOPPED


async def test_backoff_grows_and_resets_after_a_good_connection() -> None:
    """Waits double (with jitter) across failures and start over once streaming worked."""
    fail = ConnectError(ADDRESS, "timeout")
    note = [(START_S + 1, encode(HeartRateMeasurement(hr_bpm=60, rr_ms=(1000.0,))))]
    h = Harness([fail, fail, fail, Session(note), fail])
    await h.run()
    first, second, third, after_stream, _ = h.waits_s[:5]
    assert 0.5 <= first <= 1
    assert 1 <= second <= 2
    assert 2 <= third <= 4
    assert 0.5 <= after_stream <= 1


async def test_resubscribes_and_reads_device_information_on_every_connection() -> None:
    """Each connection reads battery, manufacturer and model and starts 0x2A37 notifications."""
    note = [(START_S + 1, encode(HeartRateMeasurement(hr_bpm=60)))]
    h = Harness([Session(note), Session(note, link_loss=False)])
    await h.run()
    for client in h.backend.clients:
        assert client.calls[:4] == ["read 2a19", "read 2a29", "read 2a24", "start_notify 2a37"]
    streaming = [c for c in h.changes if c.after is LinkState.STREAMING]
    assert len(streaming) == 2
    info = streaming[0].info
    assert info is not None
    assert (info.battery_pct, info.manufacturer, info.model) == (
        87,
        "Polar Electro Oy",
        "Polar H10",
    )


async def test_device_that_never_sends_rr_reports_hrv_unavailable() -> None:
    """An optical sensor with HR only: HR samples flow, no beats are invented."""
    notes = [
        (START_S + i, encode(HeartRateMeasurement(hr_bpm=64 + i % 4, sensor_contact=True)))
        for i in range(1, 20)
    ]
    h = Harness([Session(notes, link_loss=False)])
    steps = await h.run()
    assert len(beats_of(steps)) == 0
    hr = [float(v) for s in steps for v in s.hr.hr_bpm]
    assert hr[:4] == [65.0, 66.0, 67.0, 64.0]
    assert all(s.hrv_unavailable for s in steps if len(s.hr))


async def test_malformed_payloads_are_counted_and_skipped() -> None:
    """A truncated notification is counted as a decode error; the stream goes on."""
    good = encode(HeartRateMeasurement(hr_bpm=60, rr_ms=(1000.0,)))
    notes = [(START_S + 1, good), (START_S + 2, b"\x10"), (START_S + 3, good)]
    h = Harness([Session(notes, link_loss=False)])
    steps = await h.run()
    assert h.counters.decode_errors == 1
    assert h.counters.last_decode_error is not None
    assert sum(len(s.hr) for s in steps) == 2


async def test_device_without_heart_rate_measurement_is_fatal() -> None:
    """A device lacking 0x2A37 fails for good: run raises, the state is failed, no retry."""
    h = Harness([Session([])])
    h.backend.offers_hrm = False
    with pytest.raises(ExceptionGroup) as info:
        await h.run()
    assert info.group_contains(MissingCharacteristicError)
    assert h.link.state is LinkState.FAILED
    assert h.waits_s == []


async def test_no_bluetooth_is_fatal() -> None:
    """BluetoothUnavailableError from the backend is not retried."""
    h = Harness([BluetoothUnavailableError("no adapter")])
    with pytest.raises(ExceptionGroup) as info:
        await h.run()
    assert info.group_contains(BluetoothUnavailableError)
    assert h.events()[-1] is LinkEvent.FATAL


async def test_cancel_while_streaming_stops_notify_and_disconnects() -> None:
    """Cancelling the link task is a clean shutdown: notifications stopped, link closed."""
    note = [(START_S + 1, encode(HeartRateMeasurement(hr_bpm=60)))]
    h = Harness([Session(note, link_loss=False)])
    streaming = asyncio.Event()
    h.backend.when_done = streaming.set
    task = asyncio.create_task(h.link.run())
    async with asyncio.timeout(5):
        await streaming.wait()
    assert h.link.state is LinkState.STREAMING
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert h.backend.clients[0].calls[-2:] == ["stop_notify 2a37", "disconnect"]
    assert h.link.state is LinkState.STOPPED


async def test_scan_that_never_returns_times_out_and_retries() -> None:
    """A hung scan is cut by the link's timeout, reported as not_found, and retried."""
    note = [(START_S + 1, encode(HeartRateMeasurement(hr_bpm=60)))]
    h = Harness([SCAN_HANG, Session(note, link_loss=False)])
    await h.run()
    not_found = [c for c in h.changes if c.event is LinkEvent.NOT_FOUND]
    assert len(not_found) == 1
    assert not_found[0].before is LinkState.SCANNING
    assert LinkEvent.SUBSCRIBED in h.events()
