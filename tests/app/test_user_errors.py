"""Every user mistake reaches the user as one line per problem and exit code 2, never a traceback.

Config and file mistakes run the CLI in this process (`vagus.cli.main`);
mistakes only found when ``vagus run`` opens its state (the MQTT trigger
journal, the InfluxDB spool) run the real console command in a subprocess,
with a timeout in case the daemon starts instead of refusing to.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vagus.cli import main
from vagus.errors import UserError
from vagus.influx import Spool
from vagus.influx.errors import SpoolCorruptError
from vagus.mqtt import JournalCorruptError
from vagus.session import SessionFileError, SessionWriter

RECORDING = "rr_ms\n" + "".join(f"{800 + 10 * (i % 7)}\n" for i in range(200))


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Exit code and stderr lines of ``vagus ARGS`` run in this process."""
    code = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.splitlines()


def _console(args: list[str], cwd: Path) -> tuple[int, list[str]]:
    """Exit code and stderr lines of the ``vagus`` console command in a subprocess."""
    done = subprocess.run(
        [sys.executable, "-m", "vagus.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stdout + done.stderr
    return done.returncode, done.stderr.splitlines()


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return str(path)


# --- Config mistakes: `vagus config check` and `vagus run` refuse the same files ---------------


@pytest.mark.parametrize("command", ["config", "run"])
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[engine]\nwindow_s = 600\n", "engine.window_s = 600"),
        ("[engine]\nstep_s = 0.001\n", "engine.step_s = 0.001"),
        ('[sources.simulated]\nscenario = "no-such-scenario"\n', "sources.simulated.scenario"),
        ('[[sources.ble]]\nany = true\nlabel = "my strap"\n', "sources.ble.0.label = 'my strap'"),
    ],
)
def test_config_mistake_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, text: str, key: str
) -> None:
    """A bad engine setting, scenario or label: `config check` and `run` both say it in one line."""
    path = _config(tmp_path, text)
    args = ["config", "check", path] if command == "config" else ["run", "--config", path]
    code, lines = _cli(args, capsys)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"vagus {command}: {path}: {key}")


def test_state_dir_that_is_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``state_dir`` naming a regular file is refused by the check, before anything runs."""
    (tmp_path / "state").write_text("")
    path = _config(tmp_path, f'state_dir = "{tmp_path / "state"}"\n')
    code, lines = _cli(["config", "check", path], capsys)
    assert code == 2
    assert len(lines) == 1
    assert "state_dir = " in lines[0]
    assert "exists and is not a directory" in lines[0]


def test_files_dir_not_writable_is_one_line(
    tmp_path: Path, unwritable_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``files.dir`` that cannot be created in an unwritable directory is refused by the check."""
    path = _config(tmp_path, f'[files]\ndir = "{unwritable_dir / "sessions"}"\n')
    code, lines = _cli(["config", "check", path], capsys)
    assert code == 2
    assert len(lines) == 1
    assert "files.dir = " in lines[0]
    assert "cannot be created" in lines[0]


def test_several_mistakes_are_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three independent mistakes: three lines, one run."""
    path = _config(
        tmp_path,
        '[engine]\nwindow_s = 600\n[sources.simulated]\nscenario = "nope"\n'
        '[[sources.ble]]\nany = true\nlabel = ""\n',
    )
    code, lines = _cli(["config", "check", path], capsys)
    assert code == 2
    assert len(lines) == 3


def test_binary_config_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A config that is not text is one line, not a UnicodeDecodeError."""
    path = tmp_path / "config.toml"
    path.write_bytes(bytes(range(128, 256)))
    code, lines = _cli(["config", "check", str(path)], capsys)
    assert code == 2
    assert lines == [f"vagus config: {path}: not a TOML text file: byte 0 is not UTF-8"]


# --- Recordings that cannot be read: `vagus replay` and `vagus report` --------------------------


def _make(tmp_path: Path, kind: str) -> Path:
    """A recording path that cannot be read, of the given kind."""
    path = tmp_path / f"{kind}.csv"
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text-in-rr":
        path.write_text("rr_ms\n800\nabc\n820\n")
    elif kind == "huge-field":
        path.write_text('rr_ms\n"' + "x" * 200_000 + "\n800\n")
    return path


@pytest.mark.parametrize("command", ["replay", "report"])
@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing", "cannot read: No such file or directory"),
        ("binary", "not a text recording: byte 128 is not UTF-8"),
        ("empty", "empty file"),
        ("text-in-rr", "line 3: RR 'abc' is not a number"),
        ("huge-field", "line 2: not a CSV row"),
    ],
)
def test_unreadable_recording_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, kind: str, reason: str
) -> None:
    """A missing, binary, empty or malformed recording: one line naming file and reason, exit 2."""
    path = _make(tmp_path, kind)
    out = ["--out", str(tmp_path / "out")] if command == "replay" else ["-o", str(tmp_path / "r")]
    code, lines = _cli([command, str(path), *out], capsys)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"vagus {command}: {path}")
    assert reason in lines[0]


def test_replay_of_a_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vagus replay DIR` (a directory is not a recording) is one line."""
    path = _make(tmp_path, "directory")
    code, lines = _cli(["replay", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert lines == [f"vagus replay: {path}: cannot read: Is a directory"]


def test_report_of_a_directory_that_is_no_session_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vagus report DIR` reads DIR as a session directory; without its tables, one line."""
    path = _make(tmp_path, "directory")
    code, lines = _cli(["report", str(path), "-o", str(tmp_path / "r.html")], capsys)
    assert code == 2
    assert len(lines) == 1
    assert "beats.csv" in lines[0]


def test_report_of_a_session_with_a_binary_table_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A session directory whose table is not text is one line naming the directory."""
    session = tmp_path / "session"
    session.mkdir()
    (session / "beats.csv").write_bytes(bytes(range(128, 256)))
    code, lines = _cli(["report", str(session), "-o", str(tmp_path / "r.html")], capsys)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"vagus report: {session}: a session table is not CSV text")


# --- Where `vagus replay` writes ----------------------------------------------------------------


def test_replay_out_that_is_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--out`` naming an existing regular file is one line, not a FileExistsError."""
    recording = tmp_path / "rec.csv"
    recording.write_text(RECORDING)
    out = tmp_path / "taken"
    out.write_text("")
    code, lines = _cli(["replay", str(recording), "--out", str(out)], capsys)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"vagus replay: --out {out}: ")
    assert "not a directory" in lines[0]


def test_replay_out_not_writable_is_one_line(
    tmp_path: Path, unwritable_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--out`` that cannot be created (unwritable parent) is one line naming it."""
    recording = tmp_path / "rec.csv"
    recording.write_text(RECORDING)
    out = unwritable_dir / "session"
    code, lines = _cli(["replay", str(recording), "--out", str(out)], capsys)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"vagus replay: --out {out}: cannot be created: ")


def test_session_writer_on_a_binary_table_names_it(tmp_path: Path) -> None:
    """Continuing a session (the daemon's ``files.dir``) whose table is not text is a
    `SessionFileError` naming that table, not a UnicodeDecodeError."""
    (tmp_path / "beats.csv").write_bytes(bytes(range(128, 256)))
    with pytest.raises(SessionFileError) as caught:
        SessionWriter(tmp_path)
    assert (caught.value.path, caught.value.line) == (tmp_path / "beats.csv", 1)


# --- State found corrupt when `vagus run` opens it ----------------------------------------------


def _run_config(tmp_path: Path, outputs: str) -> str:
    state = tmp_path / "state"
    return _config(
        tmp_path,
        f'state_dir = "{state}"\n[sources.simulated]\nscenario = "demo"\n'
        f"[console]\nenabled = false\n{outputs}",
    )


def test_corrupt_trigger_journal_is_one_line(tmp_path: Path) -> None:
    """A damaged line in the MQTT trigger journal stops `vagus run` with one line naming the
    file and line and saying what to do."""
    path = _run_config(tmp_path, '[mqtt]\nhost = "127.0.0.1"\nport = 1\n')
    journal = tmp_path / "state" / "mqtt-journal.jsonl"
    journal.parent.mkdir()
    journal.write_text('not json\n{"op": "ack", "id": "1"}\n')
    code, lines = _console(["run", "--config", path], tmp_path)
    assert code == 2
    assert len(lines) == 1
    assert f"{journal}:1: not a journal record; move the file away" in lines[0]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("cursor", b"garbage\n", "'garbage' is not '<segment> <byte offset>'"),
        (
            "000000000001.lp",
            bytes(range(128, 256)) + b"\n",
            "byte 0 is not UTF-8, so this is not line protocol",
        ),
    ],
)
def test_corrupt_influx_spool_is_one_line(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    """A spool cursor or segment that the spool cannot have written stops `vagus run` with one
    line naming the file."""
    path = _run_config(tmp_path, '[influx]\nurl = "http://127.0.0.1:1"\nbucket = "v"\n')
    spool = tmp_path / "state" / "influx-spool"
    spool.mkdir(parents=True)
    (spool / name).write_bytes(content)
    code, lines = _console(["run", "--config", path], tmp_path)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"vagus run: InfluxDB spool file {spool / name}: {reason}; ")


@pytest.mark.parametrize(
    ("cursor", "reason"),
    [
        (b"1\n", "is not '<segment> <byte offset>'"),
        (b"1 -5\n", "is not '<segment> <byte offset>'"),
        (b"\xff\xfe\n", "not text"),
        (b"1 3\n", "offset 3 does not start a line of 000000000001.lp"),
        (b"1 999\n", "offset 999 does not start a line of 000000000001.lp"),
    ],
)
def test_spool_cursor_garbage_is_a_user_error(tmp_path: Path, cursor: bytes, reason: str) -> None:
    """Every cursor a crash cannot leave is a `SpoolCorruptError` (a `UserError`) at open,
    naming the cursor file; the segments are left as they were."""
    Spool(tmp_path, cap_bytes=10**6).append(["m v=1 1", "m v=2 2"])
    (tmp_path / "cursor").write_bytes(cursor)
    with pytest.raises(SpoolCorruptError) as caught:
        Spool(tmp_path, cap_bytes=10**6)
    assert isinstance(caught.value, UserError)
    assert caught.value.path == tmp_path / "cursor"
    assert reason in str(caught.value)
    assert (tmp_path / "000000000001.lp").read_text() == "m v=1 1\nm v=2 2\n"


def test_spool_cursor_at_a_line_start_is_fine(tmp_path: Path) -> None:
    """A cursor at the start of a line (what `commit` writes) opens as before."""
    Spool(tmp_path, cap_bytes=10**6).append(["m v=1 1", "m v=2 2"])
    (tmp_path / "cursor").write_text("1 8\n")
    chunk = Spool(tmp_path, cap_bytes=10**6).peek(10)
    assert chunk is not None
    assert chunk.lines == ["m v=2 2"]


def test_torn_multibyte_tail_is_cut_not_refused(tmp_path: Path) -> None:
    """A torn last line that ends inside a UTF-8 character is a crash's leftover: cut, not an
    error."""
    Spool(tmp_path, cap_bytes=10**6).append(["m v=1 1"])
    with (tmp_path / "000000000001.lp").open("ab") as file:
        file.write('m s="é'.encode()[:-1])
    chunk = Spool(tmp_path, cap_bytes=10**6).peek(10)
    assert chunk is not None
    assert chunk.lines == ["m v=1 1"]


def test_journal_corrupt_error_is_a_user_error(tmp_path: Path) -> None:
    """`JournalCorruptError` is a `UserError` whose one line names the file, the line and what
    to do."""
    error = JournalCorruptError(path=tmp_path / "q.jsonl", line=3)
    assert isinstance(error, UserError)
    assert len(str(error).splitlines()) == 1
    assert f"{tmp_path / 'q.jsonl'}:3" in str(error)
    assert "move the file away" in str(error)
