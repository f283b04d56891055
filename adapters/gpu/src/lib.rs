//! `entrain-gpu` (experimental): mixes the engine's voice buffers in a WGSL compute shader
//! through wgpu, with an automatic fallback to the CPU.
//!
//! The engine stays on the CPU and `no_std`: [`Engine::stage_block`] synthesises the
//! voices of a block into buffers this crate owns, a mixer folds them (the voice sums in
//! voice order, the per-step gains, the per-sample crossfade gains and the host's voice
//! gain; see `entrain_engine::mixplan`), and [`Engine::finish_block`] adds what stays on
//! the CPU: the background noise, the overlay clips, the output gain and the limiter.
//!
//! * [`GpuMixer`]: the wgpu side. Device, pipeline, bind group and every buffer are
//!   created once, for a fixed number of voice buffers and frames per block; a block is
//!   two or three `write_buffer`s, one dispatch (one invocation per frame), one copy and
//!   one mapped read-back.
//! * [`StagedRenderer`]: renders an engine like [`Engine::render`] through the staged
//!   path, on the GPU when [`MixerChoice::Gpu`] finds an adapter, else on the CPU with a
//!   one-line [`StagedRenderer::notice`] (not an error). If the device fails mid-render the
//!   block is mixed on the CPU from the same buffers and the renderer stays on the CPU.
//!
//! Accuracy: the shader performs the CPU reference's f32 operations in its order, so an
//! implementation that neither fuses `o·g_out + s·g_in` into a fused multiply-add nor
//! approximates the division by a step's peak reproduces the CPU bit for bit. WGSL allows
//! both (division to 2.5 ULP), so the GPU path is compared with the CPU within
//! [`TOLERANCE`], never by hash (STYLE.md §6); golden hashes always come from the CPU.
//! Mesa's lavapipe (llvmpipe) was measured bit-exact on every shared track (see the
//! crate's tests and BENCHMARKS.md).
//!
//! Real time: the audio thread never waits for a GPU. The cpal player (and Python's
//! stream) mix on the CPU whatever `enable_gpu` says; GPU mixing is for offline renders
//! (CLI `render`/`--generate`, Python's `render*` functions). Mixing is memory-bound and
//! tiny next to synthesis, so a GPU mix cannot pay for its transfers (BENCHMARKS.md,
//! "GPU mixing"); a double-buffered real-time path would add a block of latency for
//! nothing.
//!
//! Not replicated: the original's GPU path averaged the voice buffers and averaged
//! crossfade groups twice (FEATURES.md row 116); this one computes the CPU's mix.

use entrain_dsp::Frame;
use entrain_engine::engine::{Engine, Memory, TrackSource, MAX_ACTIVE};
use entrain_engine::mixplan::{mix_staged, StageBuffers, StagedBlock, StepScale};
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// Largest |GPU − CPU| allowed on a folded (pre-output-gain) sample, and therefore on an
/// output sample (the output gain is at most 1). A fold of up to 4 × 32 voices whose sums
/// stay below ~4 in magnitude: a few ULP of 4 (4.8e-7 each) from fused multiply-adds or a
/// 2.5-ULP division stay far below it. lavapipe measures 0.
pub const TOLERANCE: f32 = 1e-5;

/// Frames per staged block (the GPU dispatch size): large enough that the fixed cost
/// of a submission and a read-back is spread over ~93 ms of audio at 44.1 kHz.
pub const DEFAULT_BLOCK: usize = 4096;

/// Frames per workgroup of the shader (`@workgroup_size(64)` in mix.wgsl).
const WORKGROUP: usize = 64;

/// Bytes of the uniform block (`Params` in mix.wgsl): 8 words, then 4 steps of 8 words.
const PARAMS_BYTES: usize = 4 * (8 + 8 * MAX_ACTIVE);

/// Why the GPU mixer is not available or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GpuError {
    /// No adapter for the requested backends (no GPU, no Vulkan driver, or forced).
    NoAdapter(String),
    /// The adapter refused a device (or the limits this mixer needs).
    Device(String),
    /// The block does not fit the buffers the mixer was created with.
    Capacity {
        /// Voice buffers × frames the block needs.
        needed: usize,
        /// Voice buffers × frames available.
        available: usize,
    },
    /// Waiting for the device or reading back failed (device lost, timeout).
    Readback(String),
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuError::NoAdapter(m) => write!(f, "no GPU adapter found ({m})"),
            GpuError::Device(m) => write!(f, "the GPU adapter refused a device ({m})"),
            GpuError::Capacity { needed, available } => write!(
                f,
                "block needs {needed} voice frames, the GPU buffers hold {available}"
            ),
            GpuError::Readback(m) => write!(f, "GPU read-back failed ({m})"),
        }
    }
}

impl std::error::Error for GpuError {}

/// How to find a GPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuOptions {
    /// Backends to search. `None`: every backend this build has (Vulkan), overridden by
    /// wgpu's `WGPU_BACKEND` environment variable (`WGPU_BACKEND=metal` on Linux forces
    /// the fallback). `Some(wgpu::Backends::empty())` never finds an adapter.
    pub backends: Option<wgpu::Backends>,
}

impl GpuOptions {
    /// Options that find no adapter (tests of the fallback).
    pub fn no_adapter() -> Self {
        Self {
            backends: Some(wgpu::Backends::empty()),
        }
    }
}

/// The wgpu mixer: a compute pipeline and buffers for `voices` voice buffers of
/// `stride` frames, created once.
pub struct GpuMixer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    params: wgpu::Buffer,
    voices: wgpu::Buffer,
    gains: wgpu::Buffer,
    mixed: wgpu::Buffer,
    readback: wgpu::Buffer,
    capacity: usize,
    stride: usize,
    adapter: String,
    mapped: Arc<AtomicU8>,
    /// Frames of the last block mixed (what [`GpuMixer::dispatch_only`] re-runs).
    last_frames: usize,
}

impl fmt::Debug for GpuMixer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuMixer")
            .field("adapter", &self.adapter)
            .field("capacity", &self.capacity)
            .field("stride", &self.stride)
            .finish()
    }
}

const MAP_PENDING: u8 = 0;
const MAP_OK: u8 = 1;
const MAP_FAILED: u8 = 2;

impl GpuMixer {
    /// A mixer for blocks of up to `voices` voice buffers of `stride` frames.
    pub fn new(voices: usize, stride: usize, opts: &GpuOptions) -> Result<Self, GpuError> {
        let stride = stride.max(1);
        let voices = voices.max(1);
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        if let Some(b) = opts.backends {
            desc.backends = b;
        }
        let instance = wgpu::Instance::new(desc);
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        }))
        .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let name = format!("{} ({:?}, {})", info.name, info.backend, info.driver_info);
        let frame_bytes = std::mem::size_of::<Frame>() as u64;
        let voice_bytes = voices as u64 * stride as u64 * frame_bytes;
        let gain_bytes = MAX_ACTIVE as u64 * stride as u64 * frame_bytes;
        let out_bytes = stride as u64 * frame_bytes;
        let have = adapter.limits();
        let need = voice_bytes.max(gain_bytes);
        if need > have.max_storage_buffer_binding_size as u64 || need > have.max_buffer_size {
            return Err(GpuError::Device(format!(
                "{name}: {need} bytes of voice buffers exceed its limits"
            )));
        }
        let mut limits = wgpu::Limits::downlevel_defaults();
        limits.max_storage_buffer_binding_size = have.max_storage_buffer_binding_size;
        limits.max_buffer_size = have.max_buffer_size;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("entrain-gpu mixer"),
            required_features: wgpu::Features::empty(),
            required_limits: limits,
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device(format!("{name}: {e}")))?;
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("mix.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("mix.wgsl").into()),
        });
        let buffer = |label, size, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as U;
        let params = buffer("params", PARAMS_BYTES as u64, U::UNIFORM | U::COPY_DST);
        let voices_buf = buffer("voices", voice_bytes, U::STORAGE | U::COPY_DST);
        let gains = buffer("gains", gain_bytes, U::STORAGE | U::COPY_DST);
        let mixed = buffer("mixed", out_bytes, U::STORAGE | U::COPY_SRC);
        let readback = buffer("readback", out_bytes, U::MAP_READ | U::COPY_DST);
        let entry = |binding, ty| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty,
            count: None,
        };
        let storage = |read_only| wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("mix layout"),
            entries: &[
                entry(
                    0,
                    wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                ),
                entry(1, storage(true)),
                entry(2, storage(true)),
                entry(3, storage(false)),
            ],
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("mix bind group"),
            layout: &layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: params.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: voices_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: gains.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: mixed.as_entire_binding(),
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("mix pipeline layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("mix"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("mix"),
            compilation_options: Default::default(),
            cache: None,
        });
        Ok(Self {
            device,
            queue,
            pipeline,
            bind_group,
            params,
            voices: voices_buf,
            gains,
            mixed,
            readback,
            capacity: voices,
            stride,
            adapter: name,
            mapped: Arc::new(AtomicU8::new(MAP_PENDING)),
            last_frames: 0,
        })
    }

    /// The adapter: name, backend and driver.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// Voice buffers the mixer holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Frames per voice buffer.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Folds a staged block on the GPU into `out[..block.frames]`: what
    /// [`mix_staged`] computes, from the same `voices` and `gains` (the buffers
    /// [`Engine::stage_block`] filled, laid out with this mixer's stride).
    pub fn mix(
        &mut self,
        block: &StagedBlock,
        voices: &[Frame],
        gains: &[[f32; 2]],
        out: &mut [Frame],
    ) -> Result<(), GpuError> {
        let m = block.frames.min(out.len());
        let stride = self.stride;
        if block.stride != stride || block.voices > self.capacity || m > stride {
            return Err(GpuError::Capacity {
                needed: block.voices.max(1) * block.stride,
                available: self.capacity * stride,
            });
        }
        if m == 0 {
            return Ok(());
        }
        // Parameters.
        let mut words = [0u32; PARAMS_BYTES / 4];
        words[0] = m as u32;
        words[1] = stride as u32;
        words[2] = block.steps.len() as u32;
        words[3] = u32::from(block.voice_gain != 1.0);
        words[4] = block.voice_gain.to_bits();
        for (i, s) in block.steps.iter().enumerate() {
            let w = &mut words[8 + 8 * i..16 + 8 * i];
            let (kind, value) = match (s.prepared, s.scale) {
                (true, _) => (3, 1.0f32),
                (false, StepScale::Unity) => (0, 1.0),
                (false, StepScale::Divide(p)) => (1, p),
                (false, StepScale::Multiply(g)) => (2, g),
            };
            w[0] = s.first as u32;
            w[1] = s.count as u32;
            w[2] = kind;
            w[3] = u32::from(s.xfade);
            w[4] = value.to_bits();
        }
        let mut bytes = [0u8; PARAMS_BYTES];
        for (b, w) in bytes.chunks_exact_mut(4).zip(words) {
            b.copy_from_slice(&w.to_le_bytes());
        }
        self.queue.write_buffer(&self.params, 0, &bytes);
        // Voice buffers in use (whole strides: one contiguous upload).
        let used = block.voices * stride;
        if used > 0 {
            self.queue
                .write_buffer(&self.voices, 0, bytemuck::cast_slice(&voices[..used]));
        }
        // Gain rows, up to the last crossfading step.
        if let Some(last) = block.steps.iter().rposition(|s| s.xfade) {
            let rows = (last + 1) * stride;
            self.queue
                .write_buffer(&self.gains, 0, bytemuck::cast_slice(&gains[..rows]));
        }
        self.last_frames = m;
        let mut enc = self.encode_fold(m);
        let bytes_out = (m * std::mem::size_of::<Frame>()) as u64;
        enc.copy_buffer_to_buffer(&self.mixed, 0, &self.readback, 0, bytes_out);
        self.queue.submit([enc.finish()]);
        self.mapped.store(MAP_PENDING, Ordering::Relaxed);
        let flag = self.mapped.clone();
        self.readback
            .map_async(wgpu::MapMode::Read, 0..bytes_out, move |r| {
                flag.store(
                    if r.is_ok() { MAP_OK } else { MAP_FAILED },
                    Ordering::Release,
                );
            });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        if self.mapped.load(Ordering::Acquire) != MAP_OK {
            return Err(GpuError::Readback(
                "the read-back buffer was not mapped".into(),
            ));
        }
        {
            let view = self
                .readback
                .get_mapped_range(0..bytes_out)
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            for (o, b) in out[..m].iter_mut().zip(view.chunks_exact(8)) {
                let w = |i: usize| f32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
                *o = [w(0), w(4)];
            }
        }
        self.readback.unmap();
        Ok(())
    }

    /// Runs the fold of the last block given to [`GpuMixer::mix`] again on the buffers
    /// already on the device and waits for it: no upload, no read-back (a no-op before
    /// the first `mix`). The GPU's share of a block, for benchmarks: `mix` minus this is
    /// what the transfers and the mapping cost.
    pub fn dispatch_only(&mut self) -> Result<(), GpuError> {
        if self.last_frames == 0 {
            return Ok(());
        }
        let enc = self.encode_fold(self.last_frames);
        self.queue.submit([enc.finish()]);
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        Ok(())
    }

    /// A command encoder holding the fold's compute pass over `frames` frames.
    fn encode_fold(&self, frames: usize) -> wgpu::CommandEncoder {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("mix") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("mix"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.dispatch_workgroups(frames.div_ceil(WORKGROUP) as u32, 1, 1);
        }
        enc
    }
}

/// Where [`StagedRenderer`] mixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MixerChoice {
    /// The CPU reference fold (`mix_staged`).
    Cpu,
    /// The GPU, falling back to the CPU (with a notice) when no adapter is found.
    Gpu(GpuOptions),
}

impl MixerChoice {
    /// `Gpu` with default options when `gpu`, else `Cpu`.
    pub fn from_flag(gpu: bool) -> Self {
        if gpu {
            MixerChoice::Gpu(GpuOptions::default())
        } else {
            MixerChoice::Cpu
        }
    }
}

/// Renders an engine through the staged path: synthesis on the CPU, the fold on the GPU
/// (or the CPU), the output stage on the CPU. Owns the staging buffers (allocated once).
#[derive(Debug)]
pub struct StagedRenderer {
    stride: usize,
    capacity: usize,
    voices: Vec<Frame>,
    gains: Vec<[f32; 2]>,
    choice: MixerChoice,
    gpu: Option<GpuMixer>,
    notice: Option<String>,
}

impl StagedRenderer {
    /// A renderer for `engine` (its voice pool sizes the buffers) with blocks of
    /// [`DEFAULT_BLOCK`] frames.
    pub fn new<T: TrackSource, M: Memory>(engine: &mut Engine<T, M>, choice: MixerChoice) -> Self {
        Self::with_block(engine, choice, DEFAULT_BLOCK)
    }

    /// [`StagedRenderer::new`] with blocks of `block` frames.
    pub fn with_block<T: TrackSource, M: Memory>(
        engine: &mut Engine<T, M>,
        choice: MixerChoice,
        block: usize,
    ) -> Self {
        let stride = block.max(1);
        let mut r = Self {
            stride,
            capacity: 0,
            voices: Vec::new(),
            gains: vec![[0.0; 2]; MAX_ACTIVE * stride],
            choice,
            gpu: None,
            notice: None,
        };
        r.ensure(engine.stage_voice_capacity());
        r
    }

    /// Sizes the buffers (and the GPU mixer) for `capacity` voice buffers.
    fn ensure(&mut self, capacity: usize) {
        if capacity <= self.capacity {
            return;
        }
        self.capacity = capacity;
        self.voices = vec![[0.0; 2]; capacity * self.stride];
        if let MixerChoice::Gpu(opts) = self.choice {
            match GpuMixer::new(capacity, self.stride, &opts) {
                Ok(g) => self.gpu = Some(g),
                Err(e) => self.fall_back(&e),
            }
        }
    }

    fn fall_back(&mut self, e: &GpuError) {
        self.gpu = None;
        self.choice = MixerChoice::Cpu;
        self.notice = Some(format!("GPU mixing unavailable: {e}; mixing on the CPU"));
    }

    /// Whether blocks are mixed on the GPU.
    pub fn on_gpu(&self) -> bool {
        self.gpu.is_some()
    }

    /// The GPU adapter in use, if any.
    pub fn adapter(&self) -> Option<&str> {
        self.gpu.as_ref().map(GpuMixer::adapter)
    }

    /// Why a GPU that was asked for is not used (one line), if so.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Renders the next `out.len()` frames, like [`Engine::render`]: returns the frames
    /// of track written; frames past the end are zero.
    pub fn render<T: TrackSource, M: Memory>(
        &mut self,
        engine: &mut Engine<T, M>,
        out: &mut [Frame],
    ) -> usize {
        self.ensure(engine.stage_voice_capacity());
        let mut done = 0;
        while done < out.len() {
            let mut bufs = StageBuffers {
                voices: &mut self.voices,
                gains: &mut self.gains,
                stride: self.stride,
            };
            let block = match engine.stage_block(&mut bufs, out.len() - done) {
                Ok(Some(b)) => b,
                // Err cannot happen (the buffers were sized by `ensure`).
                Ok(None) | Err(_) => break,
            };
            let o = &mut out[done..done + block.frames];
            let gpu_result = self
                .gpu
                .as_mut()
                .map(|g| g.mix(&block, &self.voices, &self.gains, o));
            match gpu_result {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    // Same buffers, same fold: the render goes on, bit-exact with the CPU.
                    self.fall_back(&e);
                    mix_staged(&block, &self.voices, &self.gains, o);
                }
                None => mix_staged(&block, &self.voices, &self.gains, o),
            }
            engine.finish_block(&block, o);
            done += block.frames;
        }
        for f in out[done..].iter_mut() {
            *f = [0.0, 0.0];
        }
        done
    }
}
