"""The module without an audio device: surface, inputs, validation, info, numpy render,
WAV files, errors, and the live controls' behaviour when no stream exists."""

import ast
import json
import math
import os
import pathlib
import threading
import time
import wave

import numpy as np
import pytest

import realtime_backend as rb
from conftest import same_bits, short_track

ORIGINAL_API = [
    "start_stream",
    "stop_stream",
    "pause_stream",
    "resume_stream",
    "start_from",
    "update_track",
    "set_master_gain",
    "enable_gpu",
    "push_clip_samples",
    "render_sample_wav",
    "render_full_wav",
]
ADDED_API = ["render", "validate", "track_info", "stream_status", "Player"]


# ---- surface --------------------------------------------------------------------------------


def test_every_function_exists_and_is_documented():
    assert rb.__doc__ and "entrainment" in rb.__doc__
    assert isinstance(rb.__version__, str)
    for name in ORIGINAL_API + ADDED_API:
        obj = getattr(rb, name)
        assert callable(obj), name
        assert obj.__doc__ and len(obj.__doc__) > 40, f"{name} has no docstring"


def test_signatures_keep_the_original_defaults():
    # Text signatures are generated from the Rust signatures.
    assert rb.start_stream.__text_signature__ == "(track_json, start_time=0.0)"
    assert rb.push_clip_samples.__text_signature__ == "(index, samples, finished=False)"
    assert rb.render.__text_signature__ == (
        '(track_json, start=0.0, duration=None, sample_rate=None, mode="compatible", level=0.25)'
    )
    # The original's two positional parameters; `spill` is keyword-only.
    assert rb.render_full_wav.__text_signature__ == "(track_json, out_path, *, spill=None)"


def test_type_stubs_ship_and_cover_the_api():
    pkg = pathlib.Path(rb.__file__).parent
    assert (pkg / "py.typed").is_file()
    stub = pkg / "__init__.pyi"
    assert stub.is_file()
    tree = ast.parse(stub.read_text())
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    missing = set(ORIGINAL_API + ADDED_API) - names
    assert not missing, f"not in the stubs: {missing}"
    public = {n for n in dir(rb) if not n.startswith("_") and n != "realtime_backend"}
    assert public - {"SAMPLE_SECONDS"} <= names


# ---- track inputs ---------------------------------------------------------------------------


def test_track_may_be_text_bytes_dict_str_path_or_pathlike(demo_json, demo_path):
    want = rb.render(demo_json, duration=0.5)
    for src in (
        demo_json,
        demo_json.encode(),
        json.loads(demo_json),
        str(demo_path),
        demo_path,
        "\n  " + demo_json,
    ):
        assert same_bits(rb.render(src, duration=0.5), want), type(src)


def test_relative_noise_presets_resolve_against_the_track_file(tracks, tmp_path, monkeypatch):
    path = tracks / "focus_alpha.json"
    info = rb.track_info(path)
    assert info["background_noise"] is True
    # As JSON text the preset resolves against the working directory (the original's
    # Python behaviour): from elsewhere the file is not found ...
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as e:
        rb.render(path.read_text(), duration=0.1)
    assert "pink_gentle_sweep.noise" in str(e.value)
    # ... and from the track's folder it is the same track.
    monkeypatch.chdir(tracks)
    assert same_bits(
        rb.render(path.read_text(), duration=1.0, mode="streaming"),
        rb.render(path, duration=1.0, mode="streaming"),
    )


def test_bad_argument_types_raise_typeerror():
    for bad in (None, 12, 1.5, ["{}"], object()):
        with pytest.raises(TypeError):
            rb.render(bad)
    with pytest.raises(TypeError):
        rb.render(short_track(), start="1")


# ---- validate -------------------------------------------------------------------------------


def test_valid_tracks_have_no_problems(demo_json, tracks):
    assert rb.validate(demo_json) == []
    for name in ("focus_alpha.json", "sleep_delta_descent.json", "spec_example_relax.json"):
        assert rb.validate(tracks / name) == [], name


def test_problems_are_located_strings(demo_json, tmp_path):
    t = json.loads(demo_json)
    t["global"]["sample_rate"] = 5
    t["progression"][1]["voices"][0]["params"]["beatFreq"] = "fast"
    bad = json.dumps(t, indent=1)
    problems = rb.validate(bad)
    assert len(problems) >= 2
    assert all(isinstance(p, str) for p in problems)
    assert any("sample_rate" in p and "line" in p for p in problems), problems
    assert any("beatFreq" in p for p in problems), problems
    # With a path, every problem names the file.
    f = tmp_path / "bad.json"
    f.write_text(bad)
    assert all(p.startswith(str(f)) for p in rb.validate(f))
    # The same track raises ValueError everywhere, with the located message.
    with pytest.raises(ValueError) as e:
        rb.render(bad)
    assert "sample_rate" in str(e.value)


def test_syntax_errors_and_missing_preset_are_problems(tmp_path):
    [p] = rb.validate('{"global": {"sample_rate": 44100}, "progression": [')
    assert "line 1" in p
    t = json.loads(short_track())
    t["background_noise"] = {"params_path": "nowhere.noise", "gain": 0.5}
    f = tmp_path / "t.json"
    f.write_text(json.dumps(t))
    [p] = rb.validate(f)
    assert "nowhere.noise" in p


def test_an_unreadable_clip_is_an_oserror_and_a_problem(tmp_path):
    t = json.loads(short_track())
    t["overlay_clips"] = [{"path": "missing_clip.wav", "start_time": 0.5, "gain": 1.0}]
    f = tmp_path / "t.json"
    f.write_text(json.dumps(t))
    with pytest.raises(OSError) as e:
        rb.render(f)
    assert "missing_clip.wav" in str(e.value)
    [p] = rb.validate(f)
    assert "missing_clip.wav" in p


def test_validate_warnings_are_opt_in():
    t = json.loads(short_track())
    t["progression"][0]["voices"][0]["synth_function_name"] = "no_such_voice"
    s = json.dumps(t)
    assert rb.validate(s) == []
    w = rb.validate(s, warnings=True)
    assert w and all(x.startswith("warning: ") for x in w)


def test_validate_of_a_missing_file_raises_oserror(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        rb.validate(tmp_path / "missing.json")
    assert e.value.filename == str(tmp_path / "missing.json")
    with pytest.raises(ValueError):
        rb.validate("   ")


# ---- track_info -----------------------------------------------------------------------------


def test_track_info_describes_the_demo(demo_json):
    info = rb.track_info(demo_json)
    assert info["sample_rate"] == 44100
    assert info["total_seconds"] == 89.0
    assert info["total_frames"] == 89 * 44100
    assert info["crossfade_duration"] == 3.0
    assert info["crossfade_curve"] == "equal_power"
    assert info["output_filename"] == "demo.wav"
    assert info["background_noise"] is False
    assert info["clips"] == 0
    steps = info["steps"]
    assert [s["index"] for s in steps] == list(range(len(steps)))
    assert steps[0]["start"] == 0.0 and steps[0]["duration"] == 30.0
    assert steps[0]["voices"] == ["binaural_beat_transition", "binaural_beat"]
    assert steps[0]["description"].startswith("Arrive")
    # Consecutive steps overlap by the crossfade; the last one ends at the total.
    for a, b in zip(steps, steps[1:]):
        assert math.isclose(b["start"], a["end"] - 3.0)
    assert steps[-1]["end"] == info["total_seconds"]


def test_track_info_of_clips_and_unplaced_steps(tracks):
    info = rb.track_info(tracks / "subliminal_and_clips.json")
    assert info["clips"] >= 2
    t = json.loads(short_track())
    t["progression"].append(dict(t["progression"][0], duration=0))
    info = rb.track_info(t)
    assert info["steps"][1]["start"] is None and info["steps"][1]["end"] is None


# ---- render ---------------------------------------------------------------------------------


def test_render_returns_frames_by_two_float32(demo_json):
    a = rb.render(demo_json, start=1.0, duration=2.0)
    assert a.shape == (88200, 2) and a.dtype == np.float32
    assert a.flags["C_CONTIGUOUS"] and a.flags["WRITEABLE"]
    assert 0.0 < np.abs(a).max() <= 0.25
    full = rb.render(demo_json)
    assert full.shape == (89 * 44100, 2)
    # Compatible mode normalises over the whole track: a window is a slice of the whole.
    assert same_bits(a, full[44100 : 3 * 44100])


def test_render_options():
    t = short_track(3.0)
    assert rb.render(t, sample_rate=22050).shape == (3 * 22050, 2)
    assert rb.render(t, start=10.0).shape == (0, 2)
    assert rb.render(t, duration=100.0).shape == (3 * 44100, 2)
    s = rb.render(t, mode="streaming")
    c = rb.render(t, mode="compatible")
    assert s.shape == c.shape and not same_bits(s, c)
    half = rb.render(t, level=0.125)
    assert np.allclose(half, c / 2, atol=1e-6)
    assert same_bits(rb.render(t, mode="STREAMING"), s)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": -1.0},
        {"start": float("nan")},
        {"duration": float("inf")},
        {"sample_rate": 100},
        {"sample_rate": 400000},
        {"mode": "fast"},
        {"level": 0.0},
        {"level": 1.5},
    ],
)
def test_render_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        rb.render(short_track(), **kwargs)


def test_render_releases_the_gil(demo_json):
    """The main thread keeps running while another thread renders 89 s of audio."""
    done = threading.Event()
    took = []

    def work():
        t0 = time.perf_counter()
        rb.render(demo_json)
        took.append(time.perf_counter() - t0)
        done.set()

    th = threading.Thread(target=work)
    ticks, worst, last = 0, 0.0, time.perf_counter()
    th.start()
    while not done.is_set():
        now = time.perf_counter()
        worst = max(worst, now - last)
        last = now
        ticks += 1
        time.sleep(0.001)
    th.join()
    assert took[0] > 0.3, "render too quick to tell"
    # Holding the GIL would stall this loop for the whole render.
    assert worst < took[0] / 2, (worst, took[0])
    assert ticks > 50


# ---- WAV files ------------------------------------------------------------------------------


def wav_frames(path):
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 44100)
        return w.getnframes()


def test_render_sample_wav_is_the_first_minute(demo_json, tmp_path):
    out = tmp_path / "sub" / "sample.wav"  # missing folders are created
    r = rb.render_sample_wav(demo_json, out)
    assert r["path"] == str(out)
    assert r["frames"] == 60 * 44100 and r["seconds"] == 60.0 and r["sample_rate"] == 44100
    assert 0.2 < r["peak"] <= 0.25 and r["clipped"] == 0 and r["elapsed"] > 0
    assert wav_frames(out) == 60 * 44100
    assert rb.SAMPLE_SECONDS == 60.0
    # A track shorter than a minute is rendered whole.
    r = rb.render_sample_wav(short_track(3.0), str(tmp_path / "short.wav"))
    assert r["frames"] == 3 * 44100 and wav_frames(tmp_path / "short.wav") == 3 * 44100
    # The sample is the first minute of the full render (the same normalisation).
    full = tmp_path / "full.wav"
    rb.render_full_wav(demo_json, full)
    with wave.open(str(out), "rb") as a, wave.open(str(full), "rb") as b:
        assert a.readframes(a.getnframes()) == b.readframes(60 * 44100)


def test_render_full_wav_matches_render(demo_json, tmp_path):
    out = tmp_path / "full.wav"
    r = rb.render_full_wav(demo_json, out)
    assert r["frames"] == 89 * 44100 and wav_frames(out) == 89 * 44100
    with wave.open(str(out), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    f = rb.render(demo_json)
    # The original's quantisation: int16(clip(x * 32767)), truncating toward zero.
    want = np.clip(f * np.float32(32767.0), -32768, 32767).astype(np.int16)
    assert np.array_equal(pcm, want)


def test_wav_errors(tmp_path, demo_json):
    bad = json.dumps({"global": {"sample_rate": 44100}, "progression": [{"duration": "x"}]})
    out = tmp_path / "bad.wav"
    with pytest.raises(ValueError):
        rb.render_full_wav(bad, out)
    assert not out.exists()
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        rb.render_sample_wav(short_track(), blocker / "x.wav")
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if os.geteuid() != 0:  # root writes anyway
            with pytest.raises(PermissionError):
                rb.render_full_wav(short_track(), ro / "x.wav")
    finally:
        os.chmod(ro, 0o700)
    # Nothing partial is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "ro"]


# ---- live controls without a stream --------------------------------------------------------


def test_controls_without_a_stream_are_noops():
    assert rb.stream_status() is None
    assert rb.stop_stream() is None
    assert rb.stop_stream() is None  # twice: still fine
    assert rb.pause_stream() is None
    assert rb.resume_stream() is None
    assert rb.start_from(12.5) is None
    assert rb.set_master_gain(0.5) is None
    assert rb.set_master_gain(7.0) is None  # clamped
    assert rb.update_track(short_track()) is None
    assert rb.enable_gpu(True) is None  # renders would mix on the GPU; no stream to tell
    assert rb.enable_gpu(False) is None
    with pytest.warns(RuntimeWarning, match="clips"):
        assert rb.push_clip_samples(0, [0.0, 0.0, 0.1, 0.1]) == 0
    assert rb.stream_status() is None


def test_controls_check_their_arguments_even_without_a_stream():
    with pytest.raises(ValueError):
        rb.start_from(-1.0)
    with pytest.raises(ValueError):
        rb.start_from(float("nan"))
    with pytest.raises(ValueError):
        rb.set_master_gain(float("nan"))
    with pytest.raises(ValueError):
        rb.update_track('{"progression": 3}')
    with pytest.raises(ValueError, match="even"):
        rb.push_clip_samples(0, [0.0, 0.1, 0.2])
    with pytest.raises(ValueError, match="finite"):
        rb.push_clip_samples(0, [0.0, float("nan")])
    with pytest.raises(TypeError):
        rb.push_clip_samples(0, ["a", "b"])
    with pytest.raises(ValueError):
        rb.start_stream(short_track(), start_time=-3)
    with pytest.raises(ValueError):
        rb.start_stream("{not json")
    with pytest.raises(FileNotFoundError):
        rb.start_stream("/nonexistent/track.json")
    with pytest.raises(ValueError):
        rb.Player(short_track(), start=float("nan"))
    assert rb.stream_status() is None


def test_push_clip_samples_accepts_numpy_arrays():
    with pytest.warns(RuntimeWarning):
        assert rb.push_clip_samples(0, np.zeros((100, 2), dtype=np.float32), finished=True) == 0
    with pytest.raises(ValueError):  # checked before anything else: no warning
        rb.push_clip_samples(0, np.zeros(3))


def test_temporary_files_are_not_left_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rb.render_full_wav(short_track(1.0), "x.wav")
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]
