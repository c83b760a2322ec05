"""`WindowTable`: many windows as one numpy array per column, the batch face's result."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hrv._records import FloatArray, Quality, WindowMetrics
from hrv._stress import Baseline

IntArray = NDArray[np.int64]
StrArray = NDArray[np.str_]

#: Metric columns in the order of `WindowMetrics` (after ``device``).
METRIC_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(WindowMetrics))[1:]
_ARRAYS = ("device_idx", *METRIC_COLUMNS)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WindowTable:
    """Sliding windows as columns; row ``i`` of every array is one window.

    ``device_idx`` numbers the device of each row (all 0 in the batch face;
    the stream engine's fleet push numbers devices in the order they were
    first seen). ``quality`` holds `Quality` values as strings. ``baselines``
    is each device's baseline after its last window (by ``device_idx``; empty
    in the stream engine's results, which keeps them itself).
    """

    device_idx: IntArray
    t_end_s: FloatArray
    n_beats: IntArray
    mean_rr_ms: FloatArray
    hr_bpm: FloatArray
    rmssd_ms: FloatArray
    ln_rmssd: FloatArray
    sdnn_ms: FloatArray
    pnn50_pct: FloatArray
    sd1_ms: FloatArray
    sd2_ms: FloatArray
    stress_index: FloatArray
    stress: FloatArray
    artifact_pct: FloatArray
    quality: StrArray
    baseline_ln_rmssd: FloatArray
    baseline_hr_bpm: FloatArray
    ln_rmssd_z: FloatArray
    hr_z: FloatArray
    lf_ms2: FloatArray
    hf_ms2: FloatArray
    lf_hf: FloatArray
    lf_peak_hz: FloatArray
    total_power_ms2: FloatArray
    coherence: FloatArray
    rsa_bpm: FloatArray
    breathing_hz: FloatArray
    baselines: tuple[Baseline, ...] = ()

    def __len__(self) -> int:
        return int(self.t_end_s.size)

    def column(self, name: str) -> NDArray[np.generic]:
        """One column by name (``device_idx`` or any `METRIC_COLUMNS` entry)."""
        if name != "device_idx" and name not in METRIC_COLUMNS:
            raise KeyError(name)
        value: NDArray[np.generic] = getattr(self, name)
        return value

    def records(self, devices: str | Sequence[str]) -> Iterator[WindowMetrics]:
        """Every row as a `WindowMetrics`; ``devices[device_idx]`` names each (or one name).

        Columns become Python lists once (``tolist``), not a numpy scalar per field:
        the daemon turns thousands of windows a second into records.
        """
        columns = {name: getattr(self, name).tolist() for name in METRIC_COLUMNS}
        floats = [name for name in METRIC_COLUMNS if name not in ("n_beats", "quality")]
        n_beats, quality = columns["n_beats"], columns["quality"]
        index = self.device_idx.tolist()
        for i in range(len(self)):
            yield WindowMetrics(
                device=devices if isinstance(devices, str) else devices[index[i]],
                **{name: float(columns[name][i]) for name in floats},
                n_beats=int(n_beats[i]),
                quality=Quality(str(quality[i])),
            )

    def take(self, index: NDArray[np.intp] | NDArray[np.bool_]) -> WindowTable:
        """The rows selected by an index or mask array, in that order."""
        return WindowTable(
            **{name: getattr(self, name)[index] for name in _ARRAYS}, baselines=self.baselines
        )

    @staticmethod
    def concat(tables: Sequence[WindowTable]) -> WindowTable:
        """Rows of ``tables`` one after another."""
        columns: dict[str, Any] = {
            name: np.concatenate([getattr(t, name) for t in tables]) for name in _ARRAYS
        }
        return WindowTable(**columns)
