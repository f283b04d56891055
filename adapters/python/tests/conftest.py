"""Shared fixtures of the realtime_backend tests.

The tests import the *installed* wheel (``scripts/test.sh --only python`` builds it with
maturin and installs it into a fresh venv), never the source tree.

Environment:
  ENTRAIN_CLI     the ``realtime_backend`` CLI binary (default: target/release/realtime_backend)
  ENTRAIN_TRACKS  the shared example tracks (default: ../shared/tracks next to the repository)

Anything that opens an audio device runs in a child Python process whose ``HOME`` holds an
``.asoundrc`` (see ``alsa_home``): ALSA's ``file`` PCM writes the raw samples the device
received to a file (over the ``null`` PCM, which has no clock, so playback runs as fast as
the audio thread renders), or a ``null`` PCM for the start/stop soak, or a missing card.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]


def _cli_path() -> Path:
    return Path(os.environ.get("ENTRAIN_CLI", REPO / "target" / "release" / "realtime_backend"))


def _tracks_dir() -> Path:
    return Path(os.environ.get("ENTRAIN_TRACKS", REPO.parent / "shared" / "tracks"))


@pytest.fixture(scope="session")
def cli() -> Path:
    p = _cli_path()
    if not p.is_file():
        pytest.fail(
            f"the CLI binary {p} is missing: run `cargo build --release -p entrain-cli` "
            "or set ENTRAIN_CLI (scripts/test.sh builds it)"
        )
    return p


@pytest.fixture(scope="session")
def demo_path() -> Path:
    return REPO / "assets" / "demo.json"


@pytest.fixture(scope="session")
def demo_json(demo_path: Path) -> str:
    return demo_path.read_text()


@pytest.fixture(scope="session")
def tracks() -> Path:
    d = _tracks_dir()
    if not (d / "focus_alpha.json").is_file():
        pytest.fail(f"the shared example tracks are missing in {d} (set ENTRAIN_TRACKS)")
    return d


def short_track(seconds: float = 3.0, beat: float = 10.0, amp: float = 0.4, rate: int = 44100) -> str:
    """A one-step binaural track (JSON text)."""
    return json.dumps(
        {
            "global": {"sample_rate": rate, "crossfade_duration": 0.5},
            "progression": [
                {
                    "duration": seconds,
                    "description": "short test step",
                    "voices": [
                        {
                            "synth_function_name": "binaural_beat",
                            "params": {
                                "ampL": amp,
                                "ampR": amp,
                                "baseFreq": 200.0,
                                "beatFreq": beat,
                            },
                        }
                    ],
                }
            ],
        }
    )


def run_cli(cli: Path, *args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([str(cli), *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"realtime_backend {' '.join(args)} failed:\n{r.stderr}"
    return r


def read_wav_f32(path: Path) -> np.ndarray:
    """Samples of a 32-bit float WAV (Python's wave module reads PCM only)."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", "not a WAV file"
    pos = 12
    fmt = None
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            assert fmt is not None
            tag = int.from_bytes(fmt[0:2], "little")
            channels = int.from_bytes(fmt[2:4], "little")
            bits = int.from_bytes(fmt[14:16], "little")
            if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes
                tag = int.from_bytes(fmt[24:26], "little")
            assert (tag, channels, bits) == (3, 2, 32), f"not stereo float32: {(tag, channels, bits)}"
            return np.frombuffer(body, dtype="<f4").reshape(-1, 2)
        pos += 8 + size + (size & 1)
    raise AssertionError("no data chunk")


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool((a.view(np.uint32) == b.view(np.uint32)).all())


def fnv1a64(samples: np.ndarray) -> int:
    """The engine's fingerprint: FNV-1a 64 over the little-endian f32 bytes."""
    h = 0xCBF29CE484222325
    for byte in np.ascontiguousarray(samples, dtype="<f4").tobytes():
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# ---- child processes with an ALSA configuration --------------------------------------------


def alsa_home(tmp: Path, kind: str = "file") -> Path:
    """A HOME folder whose .asoundrc makes the default PCM a `file` device capturing to
    tmp/capture.raw ("file"), a `null` device ("null"), or a card that does not exist
    ("missing")."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    if kind == "file":
        rc = (
            "pcm.!default {\n  type file\n  slave.pcm \"null\"\n"
            f"  file \"{tmp / 'capture.raw'}\"\n  format \"raw\"\n}}\n"
        )
    elif kind == "null":
        rc = "pcm.!default {\n  type null\n}\n"
    elif kind == "missing":
        rc = "pcm.!default { type hw; card 97; device 0 }\nctl.!default { type hw; card 97 }\n"
    else:
        raise ValueError(kind)
    (home / ".asoundrc").write_text(rc)
    return home


def run_child(code: str, home: Path, timeout: float = 300, **env: str) -> str:
    """Runs `code` in a child Python with HOME=home; returns its stdout (fails on error)."""
    e = dict(os.environ, HOME=str(home), **env)
    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=e,
    )
    assert r.returncode == 0, f"child failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r.stdout


def read_capture(tmp: Path) -> np.ndarray:
    raw = (tmp / "capture.raw").read_bytes()
    return np.frombuffer(raw[: len(raw) // 8 * 8], dtype="<f4").reshape(-1, 2)
