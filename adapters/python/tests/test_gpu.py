"""GPU mixing of offline renders: ``enable_gpu(True)`` moves the voice fold of ``render``
and ``render_*_wav`` to wgpu, with a CPU fallback that warns.

scripts/test.sh sets ``XDG_RUNTIME_DIR`` and installs Mesa's lavapipe (the CPU Vulkan
driver), and sets ``ENTRAIN_EXPECT_GPU=1`` so that a missing adapter fails the test instead
of being taken for the fallback. Run elsewhere without a GPU, the adapter test is skipped
(it says so); the fallback test always runs (``WGPU_BACKEND=metal`` finds no adapter on
Linux).
"""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import realtime_backend as rb

#: Largest |GPU - CPU| allowed on an output sample (entrain_gpu::TOLERANCE).
TOLERANCE = 1e-5


def render_with_gpu(track, **kw):
    """(samples, warnings) of a render with GPU mixing on."""
    rb.enable_gpu(True)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = rb.render(track, **kw)
    finally:
        rb.enable_gpu(False)
    return out, [str(x.message) for x in w if issubclass(x.category, RuntimeWarning)]


@pytest.mark.parametrize("mode", ["compatible", "streaming"])
def test_gpu_render_equals_cpu_render(demo_path, mode):
    cpu = rb.render(demo_path, duration=20.0, mode=mode)
    gpu, notes = render_with_gpu(demo_path, duration=20.0, mode=mode)
    if notes:
        if os.environ.get("ENTRAIN_EXPECT_GPU") == "1":
            pytest.fail(f"no GPU adapter although the test command provides lavapipe: {notes}")
        pytest.skip(f"no GPU adapter here (the fallback is tested separately): {notes}")
    assert gpu.shape == cpu.shape
    assert gpu.dtype == np.float32
    diff = float(np.max(np.abs(gpu.astype(np.float64) - cpu.astype(np.float64))))
    assert diff <= TOLERANCE, diff
    # Not silence: the comparison compared something.
    assert float(np.max(np.abs(cpu))) > 0.1


def test_gpu_wav_render_equals_cpu_wav(demo_path, tmp_path):
    cpu_wav = tmp_path / "cpu.wav"
    gpu_wav = tmp_path / "gpu.wav"
    rb.render_sample_wav(demo_path, cpu_wav)
    rb.enable_gpu(True)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            rb.render_sample_wav(demo_path, gpu_wav)
    finally:
        rb.enable_gpu(False)
    notes = [str(x.message) for x in w if issubclass(x.category, RuntimeWarning)]
    if notes and os.environ.get("ENTRAIN_EXPECT_GPU") != "1":
        pytest.skip(f"no GPU adapter here: {notes}")
    assert not notes, notes
    a = np.frombuffer(cpu_wav.read_bytes()[44:], "<i2").astype(np.int32)
    b = np.frombuffer(gpu_wav.read_bytes()[44:], "<i2").astype(np.int32)
    assert a.shape == b.shape
    # 16-bit samples: a difference within the float tolerance moves at most one step.
    assert int(np.max(np.abs(a - b))) <= 1


def test_without_an_adapter_renders_fall_back_to_the_cpu_bits_with_a_warning(demo_path):
    # A child process: WGPU_BACKEND is read when the GPU is first looked for.
    code = textwrap.dedent(
        f"""
        import warnings
        import numpy as np
        import realtime_backend as rb
        cpu = rb.render({str(demo_path)!r}, duration=5.0)
        rb.enable_gpu(True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            gpu = rb.render({str(demo_path)!r}, duration=5.0)
        notes = [str(x.message) for x in w if issubclass(x.category, RuntimeWarning)]
        assert len(notes) == 1 and "mixing on the CPU" in notes[0], notes
        assert cpu.tobytes() == gpu.tobytes()
        print("fallback ok:", notes[0])
        """
    )
    env = dict(os.environ, WGPU_BACKEND="metal")
    r = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fallback ok" in r.stdout
