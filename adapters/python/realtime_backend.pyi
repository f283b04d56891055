"""Brainwave-entrainment audio from the original application's JSON track files.

Type stubs of the ``realtime_backend`` extension module (crate ``entrain-py``). The
docstrings of the module itself carry the full behaviour; the short notes here are for
editors.

Tracks (every ``track_json`` parameter) are given as JSON text (a ``str`` whose first
non-blank character is ``{``, or ``bytes``), a ``dict``, or the path of a ``.json`` file
(any other ``str``, or an ``os.PathLike``). Relative background-noise presets resolve
against the track file's folder, or the working directory for JSON text.

Errors: ``ValueError`` for invalid tracks (located messages) and arguments, ``OSError``
for files and the audio device, ``RuntimeError`` when a live control cannot be queued.
"""

import os
from types import TracebackType
from typing import Any, Dict, List, Literal, Optional, Sequence, Type, Union

import numpy as np
import numpy.typing as npt

TrackInput = Union[str, bytes, "os.PathLike[str]", Dict[str, Any]]
PathInput = Union[str, "os.PathLike[str]"]
Samples = Union[Sequence[float], npt.NDArray[np.floating[Any]]]

__version__: str
SAMPLE_SECONDS: float
"""Length of ``render_sample_wav``'s render, seconds (60)."""

# ---- the original API (FEATURES.md rows 101-111) -----------------------------------------

def start_stream(track_json: TrackInput, start_time: Optional[float] = 0.0) -> None:
    """Play on the default output device from ``start_time`` s (``None`` = 0).

    One module-level stream per process: starting again stops the old stream first.
    ``ValueError`` (bad track/time), ``OSError`` (no device)."""

def stop_stream() -> None:
    """Stop and close the module-level stream; no-op without one."""

def pause_stream() -> None:
    """Silence, position kept; no-op without a stream."""

def resume_stream() -> None:
    """Continue where paused; no-op without a stream."""

def start_from(position: float) -> None:
    """Seek to ``position`` seconds; no-op without a stream; ``ValueError`` if negative."""

def update_track(track_json: TrackInput) -> None:
    """Hot-swap the track keeping the position (0.1 s crossfade); the track is checked even
    without a stream (``ValueError``)."""

def set_master_gain(gain: float) -> None:
    """Live gain clamped to 0..1; no-op without a stream; ``ValueError`` for NaN."""

def enable_gpu(enable: bool) -> None:
    """Mix offline renders (``render``, ``render_*_wav``) on the GPU (wgpu), or not.

    Within 1e-5 of the CPU mix (lavapipe: bit-identical); without a usable adapter renders
    mix on the CPU with a ``RuntimeWarning``. Streams always mix on the CPU; the request is
    recorded in ``stream_status()["gpu"]``."""

def push_clip_samples(index: int, samples: Samples, finished: bool = False) -> int:
    """Feed interleaved stereo samples to overlay clip ``index`` of the playing track.

    Clips are rendered from their files (an unreadable clip fails the load), so pushed
    samples are checked (even count, finite) and counted, not played; a
    ``RuntimeWarning`` says so. Returns the clip's frames so far (0 without a
    stream). ``ValueError`` for a bad index, bad samples, or a finished clip."""

def render_sample_wav(track_json: TrackInput, out_path: PathInput) -> Dict[str, Any]:
    """First min(60 s, length) as 16-bit WAV at the track rate (compatible mode).

    Returns ``path``, ``frames``, ``seconds``, ``sample_rate``, ``peak``, ``clipped``
    (samples clipped by the 16-bit conversion) and ``elapsed`` (render time, s)."""

def render_full_wav(
    track_json: TrackInput, out_path: PathInput, *, spill: Optional[bool] = None
) -> Dict[str, Any]:
    """The whole track as 16-bit WAV, byte-identical to ``realtime_backend render``.

    ``spill``: keep the analysis's render in a temporary file next to the output and
    write from it (one render instead of two; 8 bytes per frame, removed at the end):
    ``None`` unless the track renders faster than the file would save, ``True`` always,
    ``False`` never. Same bytes either way."""

# ---- additions -------------------------------------------------------------------------

def render(
    track_json: TrackInput,
    start: float = 0.0,
    duration: Optional[float] = None,
    sample_rate: Optional[int] = None,
    mode: Literal["compatible", "streaming"] = "compatible",
    level: float = 0.25,
) -> npt.NDArray[np.float32]:
    """Render to a ``(frames, 2)`` float32 array, bit-identical to the CLI's f32 render."""

def validate(track_json: TrackInput, warnings: bool = False) -> List[str]:
    """Located problems of a track (empty: valid); ``warnings=True`` appends warnings."""

def track_info(track_json: TrackInput) -> Dict[str, Any]:
    """``sample_rate``, ``total_seconds``, ``total_frames``, ``crossfade_duration``,
    ``crossfade_curve``, ``output_filename``, ``background_noise``, ``clips``,
    ``warnings`` and ``steps`` (``index``, ``start``, ``end``, ``duration``,
    ``description``, ``voices``)."""

def stream_status() -> Optional[Dict[str, Any]]:
    """Status of the module-level stream, ``None`` without one: ``position`` (s),
    ``position_frames``, ``delivered_frames``, ``duration``, ``sample_rate``, ``channels``,
    ``paused``, ``finished``, ``step``, ``underruns``, ``gpu``."""

class Player:
    """A track playing on the default device; a context manager that closes it.

    ``close()``/``stop()`` are idempotent; other methods on a closed player raise
    ``ValueError``."""

    def __init__(self, track_json: TrackInput, start: float = 0.0) -> None: ...
    def __enter__(self) -> "Player": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...
    def close(self) -> None: ...
    def stop(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def seek(self, seconds: float) -> None: ...
    def set_master_gain(self, gain: float) -> None: ...
    def enable_gpu(self, enable: bool) -> None: ...
    def update_track(self, track_json: TrackInput) -> None: ...
    def push_clip_samples(self, index: int, samples: Samples, finished: bool = False) -> int: ...
    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the track ends (``True``) or ``timeout`` s pass (``False``)."""
    def status(self) -> Dict[str, Any]: ...
    @property
    def position(self) -> float: ...
    @property
    def duration(self) -> float: ...
    @property
    def sample_rate(self) -> int: ...
    @property
    def paused(self) -> bool: ...
    @property
    def finished(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
