"""The module renders exactly what the `realtime_backend` CLI renders: numpy samples equal
the CLI's float WAV bit for bit (and its FNV-1a fingerprint), and the WAV functions write the
CLI's 16-bit files byte for byte."""

import os
import re

import numpy as np
import pytest

import realtime_backend as rb
from conftest import fnv1a64, read_wav_f32, run_cli, same_bits, short_track

CASES = [
    # (track, start, duration, sample_rate, mode)
    ("demo", 0.0, None, None, "compatible"),
    ("demo", 10.0, 5.0, None, "streaming"),
    ("demo", 29.5, 3.0, 22050, "compatible"),
    ("focus_alpha.json", 0.0, None, None, "compatible"),  # with a relative noise preset
    ("focus_alpha.json", 100.0, None, None, "streaming"),
    ("transitions_showcase.json", 37.25, 10.0, 48000, "streaming"),
    ("subliminal_and_clips.json", 0.0, None, None, "compatible"),  # clips and subliminal files
]


def track_path(name, demo_path, tracks):
    return demo_path if name == "demo" else tracks / name


@pytest.mark.parametrize("name,start,duration,rate,mode", CASES)
def test_render_equals_cli_f32(cli, demo_path, tracks, tmp_path, name, start, duration, rate, mode):
    path = track_path(name, demo_path, tracks)
    out = tmp_path / "cli.wav"
    args = ["render", str(path), "-o", str(out), "--format", "f32", "--mode", mode, "--quiet"]
    args += ["--start", repr(start)]
    if duration is not None:
        args += ["--duration", repr(duration)]
    if rate is not None:
        args += ["--sample-rate", str(rate)]
    run_cli(cli, *args)
    want = read_wav_f32(out)
    got = rb.render(path, start=start, duration=duration, sample_rate=rate, mode=mode)
    assert got.shape == want.shape
    assert same_bits(got, want)


@pytest.mark.parametrize("mode", ["compatible", "streaming"])
def test_render_equals_cli_hash(cli, demo_path, mode):
    r = run_cli(cli, "hash", str(demo_path), "--mode", mode, "--duration", "1.5")
    digest, frames = re.match(r"([0-9a-f]{16})\s+(\d+) frames", r.stdout).groups()
    got = rb.render(demo_path, duration=1.5, mode=mode)
    assert got.shape[0] == int(frames)
    assert fnv1a64(got) == int(digest, 16)


@pytest.mark.parametrize("name", ["demo", "focus_alpha.json", "spec_example_relax.json"])
def test_render_full_wav_equals_cli_wav(cli, demo_path, tracks, tmp_path, name):
    path = track_path(name, demo_path, tracks)
    cli_out = tmp_path / "cli.wav"
    run_cli(cli, "render", str(path), "-o", str(cli_out), "--quiet")
    ours = tmp_path / "py.wav"
    r = rb.render_full_wav(path, ours)
    assert ours.read_bytes() == cli_out.read_bytes()
    assert r["frames"] == rb.track_info(path)["total_frames"]


def test_render_full_wav_from_json_text_equals_cli_wav(cli, demo_path, demo_json, tmp_path):
    cli_out = tmp_path / "cli.wav"
    run_cli(cli, "render", str(demo_path), "-o", str(cli_out), "--quiet")
    ours = tmp_path / "py.wav"
    rb.render_full_wav(demo_json, str(ours))
    assert ours.read_bytes() == cli_out.read_bytes()


def test_render_sample_wav_equals_cli_first_minute(cli, demo_path, tmp_path):
    cli_out = tmp_path / "cli.wav"
    run_cli(cli, "render", str(demo_path), "-o", str(cli_out), "--duration", "60", "--quiet")
    ours = tmp_path / "py.wav"
    rb.render_sample_wav(demo_path, ours)
    assert ours.read_bytes() == cli_out.read_bytes()


def test_short_track_sample_equals_cli_full(cli, tmp_path):
    track = tmp_path / "short.json"
    track.write_text(short_track(4.0))
    cli_out = tmp_path / "cli.wav"
    run_cli(cli, "render", str(track), "-o", str(cli_out), "--quiet")
    ours = tmp_path / "py.wav"
    rb.render_sample_wav(track, ours)
    assert ours.read_bytes() == cli_out.read_bytes()



@pytest.mark.parametrize("name", ["demo", "focus_alpha.json"])
def test_render_full_wav_from_its_spill_equals_two_renders(cli, demo_path, tracks, tmp_path, name):
    """render_full_wav keeps the analysis's render in a spill file next to the output and
    writes the WAV from it (both tracks crossfade, so the spill is the assembled track;
    focus_alpha adds noise): the bytes of the CLI's `--spill never` render and of
    `spill=False`, and nothing but the WAV is left in the folder."""
    path = track_path(name, demo_path, tracks)
    cli_out = tmp_path / "cli.wav"
    run_cli(cli, "render", str(path), "-o", str(cli_out), "--spill", "never", "--quiet")
    folder = tmp_path / "py"
    folder.mkdir()
    rb.render_full_wav(path, folder / "py.wav", spill=True)
    assert (folder / "py.wav").read_bytes() == cli_out.read_bytes()
    assert [p.name for p in folder.iterdir()] == ["py.wav"]
    rb.render_full_wav(path, tmp_path / "twice.wav", spill=False)
    assert (tmp_path / "twice.wav").read_bytes() == cli_out.read_bytes()


def test_render_full_wav_without_a_spill_warns_and_renders_twice(cli, demo_path, tmp_path):
    """When the spill file cannot be created (here its name is taken by a folder) the
    render still succeeds, rendering the track a second time, and says why."""
    cli_out = tmp_path / "cli.wav"
    run_cli(cli, "render", str(demo_path), "-o", str(cli_out), "--spill", "never", "--quiet")
    folder = tmp_path / "py"
    folder.mkdir()
    (folder / f".py.wav.spill-{os.getpid()}").mkdir()
    with pytest.warns(RuntimeWarning, match=r"\.spill-.*rendered a second time"):
        rb.render_full_wav(demo_path, folder / "py.wav", spill=True)
    assert (folder / "py.wav").read_bytes() == cli_out.read_bytes()


@pytest.mark.parametrize("name", ["demo", "subliminal_and_clips.json", "short"])
def test_whole_compatible_render_in_place_equals_two_renders(demo_path, tracks, name):
    """`render` of a whole track in compatible mode writes the analysis's frames into the
    output array and makes the output from them in place (one render); a render with a
    `duration` takes the usual path (analysis, then a second render). Same bits, for a
    crossfaded track, one with clips, and a one-step track (its step render is spilled)."""
    path = short_track(seconds=4.0) if name == "short" else track_path(name, demo_path, tracks)
    info = rb.track_info(path)
    once = rb.render(path)
    twice = rb.render(path, duration=info["total_seconds"] + 1.0)
    assert once.shape == (info["total_frames"], 2)
    assert same_bits(once, twice)
    assert np.abs(once).max() > 0.2
