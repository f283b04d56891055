// The fold of a staged block (entrain_engine::mixplan, module docs), one invocation per
// frame. Every operation is the CPU reference's, in its order: voice sums in voice order
// starting from 0, the step scale, the crossfade o·g_out + s·g_in (or o + s), the voice gain.
// Bit-exact with the CPU when the implementation neither fuses a multiply and an add nor
// approximates the division (WGSL allows both: the result is compared within a tolerance).

struct Step {
    first: u32,   // first voice buffer
    count: u32,   // voice buffers
    kind: u32,    // 0 sum, 1 sum / value, 2 sum · value, 3 prepared (buffer `first` as is)
    xfade: u32,   // 1: gains row of this step holds (g_out, g_in) per frame
    value: f32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

struct Params {
    frames: u32,
    stride: u32,
    nsteps: u32,
    gain_on: u32,
    voice_gain: f32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
    steps: array<Step, 4>,   // MAX_ACTIVE
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> voices: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> gains: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> mixed: array<vec2<f32>>;

@compute @workgroup_size(64)
fn mix(@builtin(global_invocation_id) id: vec3<u32>) {
    let k = id.x;
    if (k >= params.frames) {
        return;
    }
    let stride = params.stride;
    var o = vec2<f32>(0.0, 0.0);
    for (var i = 0u; i < params.nsteps; i = i + 1u) {
        let st = params.steps[i];
        var s = vec2<f32>(0.0, 0.0);
        if (st.kind == 3u) {
            s = voices[st.first * stride + k];
        } else {
            for (var b = 0u; b < st.count; b = b + 1u) {
                s = s + voices[(st.first + b) * stride + k];
            }
            if (st.kind == 1u) {
                s = s / st.value;
            } else if (st.kind == 2u) {
                s = s * st.value;
            }
        }
        if (st.xfade != 0u) {
            let g = gains[i * stride + k];
            o = o * g.x + s * g.y;
        } else {
            o = o + s;
        }
    }
    if (params.gain_on != 0u) {
        o = o * params.voice_gain;
    }
    mixed[k] = o;
}
