"""Live playback through ALSA, in child processes (see conftest.alsa_home): the captured
samples equal offline renders bit for bit, the controls act on the stream, starting twice
replaces the stream, a missing device is an OSError, and 1,000 start/stop cycles neither
leak nor crash."""

import json

import numpy as np
import pytest

import realtime_backend as rb
from conftest import alsa_home, read_capture, run_child, same_bits, short_track

SR = 44100

# Waits (in the child) until the module-level stream has delivered `n` frames.
WAIT = """
import time, json, realtime_backend as rb
def wait_delivered(n, status=rb.stream_status):
    t0 = time.time()
    while status()["delivered_frames"] < n:
        assert time.time() - t0 < 60, "playback stalled"
        time.sleep(0.002)
    return status()
"""


def test_stream_plays_the_streaming_render(tmp_path, demo_path):
    home = alsa_home(tmp_path)
    out = run_child(
        WAIT
        + f"""
rb.start_stream({str(demo_path)!r}, start_time=10)
st = wait_delivered({SR})
rb.stop_stream()
assert rb.stream_status() is None
print(json.dumps(st))
""",
        home,
    )
    st = json.loads(out)
    assert st["sample_rate"] == SR and st["channels"] == 2 and st["duration"] == 89.0
    assert st["paused"] is False and st["finished"] is False and st["step"] == 0
    got = read_capture(tmp_path)
    want = rb.render(demo_path, start=10.0, duration=1.0, mode="streaming")
    assert got.shape[0] >= SR
    assert same_bits(got[:SR], want)


def find(haystack: np.ndarray, needle: np.ndarray) -> int:
    """Index of the first exact (bitwise) occurrence of `needle` in `haystack`."""
    h = haystack.view(np.uint64).ravel()
    n = needle.view(np.uint64).ravel()
    for i in np.flatnonzero(h[: len(h) - len(n) + 1] == n[0]):
        if np.array_equal(h[i : i + len(n)], n):
            return int(i)
    raise AssertionError("not found in the capture")


def test_pause_resume_seek_gain_act_on_the_stream(tmp_path, demo_path):
    home = alsa_home(tmp_path)
    out = run_child(
        WAIT
        + f"""
rb.start_stream({str(demo_path)!r})
wait_delivered(20000)
rb.pause_stream()
while not rb.stream_status()["paused"]:
    time.sleep(0.001)
p = rb.stream_status()  # position and delivered once the pause applies
wait_delivered(p["delivered_frames"] + 30000)
q = rb.stream_status()
assert q["position_frames"] == p["position_frames"], "the position moves while paused"
rb.resume_stream()
while rb.stream_status()["paused"]:
    time.sleep(0.001)
r = wait_delivered(rb.stream_status()["delivered_frames"] + 20000)
rb.start_from(40.0)
wait_delivered(r["delivered_frames"] + 3 * {SR})
rb.set_master_gain(0.0)
s = wait_delivered(rb.stream_status()["delivered_frames"] + 10000)
t = wait_delivered(s["delivered_frames"] + 10000)
rb.stop_stream()
print(json.dumps([p, r, s, t]))
""",
        home,
    )
    p, r, s, t = json.loads(out)
    got = read_capture(tmp_path)
    ref = rb.render(demo_path, duration=4.0, mode="streaming")
    paused_at = p["delivered_frames"]
    pos = p["position_frames"]  # frames of track played before the pause took effect
    assert 20000 <= pos <= paused_at
    # Before the pause: the track from 0.
    assert same_bits(got[:pos], ref[:pos])
    # From there: silence until the resume ...
    resumed = find(got[pos:], ref[pos : pos + 256]) + pos
    assert resumed >= paused_at + 30000
    assert not got[pos:resumed].any(), "paused output must be silent"
    # ... then the track continues from the position where it paused.
    n = min(20000, len(got) - resumed)
    assert same_bits(got[resumed : resumed + n], ref[pos : pos + n])
    # The seek: the track from exactly 40 s.
    at40 = rb.render(demo_path, start=40.0, duration=2.0, mode="streaming")
    k = find(got[resumed:], at40[:256]) + resumed
    assert same_bits(got[k : k + 2 * SR], at40)
    # Master gain 0: silence once applied.
    assert not got[t["delivered_frames"] - 5000 : t["delivered_frames"]].any()


def test_player_context_manager(tmp_path, demo_path):
    home = alsa_home(tmp_path)
    out = run_child(
        f"""
import json, time, realtime_backend as rb
with rb.Player({str(demo_path)!r}, start=5.0) as p:
    assert rb.stream_status() is None  # independent of the module-level stream
    assert p.sample_rate == {SR} and p.duration == 89.0 and not p.closed
    assert p.wait(timeout=0.0) is False
    t0 = time.time()
    while p.status()["delivered_frames"] < {SR}:
        assert time.time() - t0 < 60
        time.sleep(0.002)
    assert p.position >= 5.0
    r = repr(p)
assert p.closed and repr(p) == "<realtime_backend.Player closed>"
p.close()  # idempotent
for call in (p.pause, p.resume, lambda: p.seek(1), lambda: p.position, p.status):
    try:
        call()
    except ValueError as e:
        assert "closed" in str(e)
    else:
        raise AssertionError("a closed player must raise ValueError")
print(json.dumps(r))
""",
        home,
    )
    assert json.loads(out).startswith("<realtime_backend.Player ")
    got = read_capture(tmp_path)
    want = rb.render(demo_path, start=5.0, duration=1.0, mode="streaming")
    assert same_bits(got[:SR], want)


def test_player_wait_returns_at_the_end_and_exceptions_propagate(tmp_path):
    home = alsa_home(tmp_path)
    run_child(
        f"""
import realtime_backend as rb
track = {short_track(1.0)!r}
with rb.Player(track) as p:
    assert p.wait(timeout=60) is True
    assert p.finished and p.status()["finished"]
try:
    with rb.Player(track) as q:
        raise KeyError("boom")
except KeyError:
    pass
assert q.closed
""",
        home,
    )


def test_starting_twice_replaces_the_stream(tmp_path):
    a, b = short_track(20.0, beat=4.0), short_track(7.0, beat=9.0, amp=0.3)
    home = alsa_home(tmp_path)
    run_child(
        WAIT
        + f"""
rb.start_stream({a!r})
wait_delivered(10000)
rb.start_stream({b!r}, start_time=1.0)
st = wait_delivered({SR})
assert st["duration"] == 7.0, st
rb.stop_stream()
""",
        home,
    )
    # Only the second stream wrote to the (re-opened) capture: a leaked first stream would
    # keep writing into it.
    got = read_capture(tmp_path)
    want = rb.render(b, start=1.0, duration=1.0, mode="streaming")
    assert same_bits(got[:SR], want)


def test_live_controls_of_a_stream(tmp_path, tracks):
    home = alsa_home(tmp_path)
    clips = tracks / "subliminal_and_clips.json"
    n = rb.track_info(clips)["clips"]
    out = run_child(
        WAIT
        + f"""
import warnings
warnings.simplefilter("ignore", RuntimeWarning)
rb.start_stream({str(clips)!r})
assert rb.push_clip_samples(0, [0.1, -0.1] * 100) == 100
assert rb.push_clip_samples(0, [0.0] * 20, finished=True) == 110
for bad in [(0, [0.0, 0.0]), ({n}, [0.0, 0.0]), (-1, [0.0, 0.0])]:
    try:
        rb.push_clip_samples(*bad)
    except ValueError as e:
        print("ValueError:", e)
    else:
        raise AssertionError(bad)
rb.enable_gpu(True)
wait_delivered(rb.stream_status()["delivered_frames"] + 5000)
assert rb.stream_status()["gpu"] is True
rb.update_track({short_track(50.0)!r})  # no clips: the counts restart
wait_delivered(rb.stream_status()["delivered_frames"] + 5000)
assert rb.stream_status()["duration"] == 50.0
try:
    rb.push_clip_samples(0, [0.0, 0.0])
except ValueError as e:
    print("ValueError:", e)
try:
    rb.update_track('{{"progression": []')
except ValueError as e:
    print("ValueError:", e)
assert rb.stream_status()["duration"] == 50.0  # a bad track changes nothing
rb.stop_stream()
""",
        home,
    )
    errors = [l for l in out.splitlines() if l.startswith("ValueError:")]
    assert len(errors) == 5, out
    assert "finished" in errors[0]
    assert f"the track has {n} overlay clips" in errors[1]
    assert "has 0 overlay clips" in errors[3]


def test_missing_device_raises_oserror(tmp_path):
    home = alsa_home(tmp_path, "missing")
    out = run_child(
        f"""
import realtime_backend as rb
track = {short_track()!r}
for start in (lambda: rb.start_stream(track), lambda: rb.Player(track)):
    try:
        start()
    except OSError as e:
        print("OSError:", e)
    else:
        raise AssertionError("expected OSError")
assert rb.stream_status() is None
rb.stop_stream()
""",
        home,
    )
    assert out.count("OSError:") == 2, out


def test_a_thousand_start_stop_cycles_do_not_leak(tmp_path, demo_json):
    """1,000 start/stop cycles on the null device (module-level starts, replacing starts and
    Player objects). RSS may grow by at most 16 MiB after a 50-cycle warm-up: a leaked
    stream (engine, 64 KiB of callback scratch, an ALSA handle and a thread) would cost
    more than 16 KiB per cycle, i.e. over 16 MiB."""
    home = alsa_home(tmp_path, "null")
    out = run_child(
        f"""
import gc, json, time, realtime_backend as rb
track = {demo_json!r}
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
def cycle(i):
    if i % 3 == 0:
        rb.start_stream(track, start_time=i % 80)
        if i % 2:
            rb.start_stream(track)  # replaces the first
        rb.pause_stream(); rb.start_from(3.0); rb.resume_stream()
        rb.stop_stream()
    elif i % 3 == 1:
        with rb.Player(track, start=1.0) as p:
            p.seek(2.0)
    else:
        rb.start_stream(track)
        if i % 10 == 2:  # the stream really runs
            t0 = time.time()
            while rb.stream_status()["delivered_frames"] == 0:
                assert time.time() - t0 < 10, "the null device never pulled audio"
                time.sleep(0.0005)
        rb.stop_stream()
        rb.stop_stream()
for i in range(50):
    cycle(i)
gc.collect()
before = rss()
t0 = time.time()
for i in range(1000):
    cycle(i)
gc.collect()
print(json.dumps({{"before": before, "after": rss(), "seconds": time.time() - t0}}))
""",
        home,
        timeout=600,
    )
    r = json.loads(out.splitlines()[-1])
    growth = r["after"] - r["before"]
    print(f"RSS {r['before'] / 2**20:.1f} -> {r['after'] / 2**20:.1f} MiB in {r['seconds']:.1f} s")
    assert growth < 16 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB over 1,000 cycles"


def test_exiting_while_a_stream_plays_is_clean(tmp_path, demo_path):
    """No stop_stream(): the atexit hook closes the device, the interpreter exits with 0."""
    home = alsa_home(tmp_path)
    run_child(
        WAIT
        + f"""
rb.start_stream({str(demo_path)!r})
wait_delivered({SR})
p = rb.Player({str(demo_path)!r})  # and a player that is never closed
""",
        home,
    )
    assert read_capture(tmp_path).shape[0] >= SR
