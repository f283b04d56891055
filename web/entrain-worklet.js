// The AudioWorklet side: the entrain engine (pkg/realtime_backend, wasm-bindgen) runs
// inside the processor. The main thread compiles the WebAssembly.Module once and posts it
// in processorOptions; the processor instantiates it synchronously, builds the Player
// before the first quantum, and renders each 128-frame quantum straight into the output
// (no ring buffer, no SharedArrayBuffer, no extra thread). See WASM_GUIDE.md.
//
// processorOptions:
//   module          WebAssembly.Module of realtime_backend_bg.wasm (required)
//   json            track JSON text (required)
//   noisePreset     text of the .noise preset the track names, if it names one
//   mode            "streaming" (default) or "compatible"
//   startTime       seconds
//   masterGain      0..1
//   statusInterval  frames between status messages (0: none) [4096]
//   hashFrames      fingerprint the first N frames the processor outputs (0: off); posts
//                   {type: "hash", hash, frames} once N frames are hashed
//
// Port messages in: {type: "pause" | "resume" | "stop" | "status"},
//   {type: "seek", seconds}, {type: "gain", value}, {type: "update", json, noisePreset}
// Port messages out: {type: "ready", summary}, {type: "status", position, seconds, step,
//   paused, finished}, {type: "error", message, during}, {type: "hash", hash, frames}

import "./textcodec.js"; // must come before the glue: it needs TextEncoder/TextDecoder
import { initSync, Player } from "./pkg/realtime_backend.js";
import { Fnv1a64 } from "./fnv1a64.js";

class EntrainProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions || {};
    this.player = null;
    this.stopped = false;
    this.statusInterval = o.statusInterval ?? 4096;
    this.sinceStatus = 0;
    this.hashLeft = o.hashFrames || 0;
    this.hashTotal = this.hashLeft;
    this.hash = this.hashLeft > 0 ? new Fnv1a64() : null;
    this.port.onmessage = (e) => this.onMessage(e.data);
    try {
      this.wasm = initSync({ module: o.module });
      this.player = new Player(o.json, {
        noise_preset: o.noisePreset ?? undefined,
        mode: o.mode || "streaming",
        start_time: o.startTime || 0,
        master_gain: o.masterGain ?? 1,
        // The engine renders at the context's rate (the page creates the context at the
        // track's rate, so this is normally the track's own).
        sample_rate: sampleRate,
      });
      this.view = null;
      this.port.postMessage({ type: "ready", summary: this.player.summary() });
      this.postStatus();
    } catch (err) {
      this.port.postMessage({ type: "error", during: "load", message: String(err?.message ?? err) });
    }
  }

  onMessage(m) {
    const p = this.player;
    if (!p) return;
    try {
      switch (m.type) {
        case "pause":
          p.pause();
          break;
        case "resume":
          p.resume();
          break;
        case "seek":
          p.seek(Number(m.seconds));
          break;
        case "gain":
          p.set_master_gain(Number(m.value));
          break;
        case "update":
          // Builds the new engine here, between two quanta (allocates); it crossfades in.
          p.update_track(m.json, m.noisePreset ?? undefined);
          this.view = null; // the memory may have grown
          this.port.postMessage({ type: "ready", summary: p.summary(), updated: true });
          break;
        case "stop":
          this.stopped = true;
          break;
        case "status":
          break;
        default:
          throw new Error(`unknown message ${m.type}`);
      }
      this.postStatus();
    } catch (err) {
      this.port.postMessage({ type: "error", during: m.type, message: String(err?.message ?? err) });
    }
  }

  postStatus() {
    const p = this.player;
    this.sinceStatus = 0;
    this.port.postMessage({
      type: "status",
      position: Number(p.position),
      seconds: p.position_seconds,
      step: p.current_step(),
      paused: p.paused,
      finished: p.finished,
    });
  }

  /** The player's interleaved output buffer as a view on the module's memory (re-made
   *  when the memory has grown, which detaches the old buffer). */
  output() {
    const mem = this.wasm.memory.buffer;
    if (this.view === null || this.view.buffer !== mem) {
      this.view = new Float32Array(mem, this.player.output_ptr(), 2 * this.player.max_block_frames());
    }
    return this.view;
  }

  process(_inputs, outputs) {
    const out = outputs[0];
    if (!this.player || this.stopped) return !this.stopped;
    const left = out[0];
    const right = out[1] ?? out[0];
    const n = left.length;
    this.player.render(n);
    const buf = this.output();
    for (let i = 0; i < n; i++) {
      left[i] = buf[2 * i];
      right[i] = buf[2 * i + 1];
    }
    if (this.hash !== null && this.hashLeft > 0) {
      // The worklet's own output, before the audio graph.
      const m = Math.min(n, this.hashLeft);
      this.hash.samples(buf, 0, 2 * m);
      this.hashLeft -= m;
      if (this.hashLeft === 0) {
        this.port.postMessage({ type: "hash", hash: this.hash.hex(), frames: this.hashTotal });
      }
    }
    if (this.statusInterval > 0) {
      this.sinceStatus += n;
      if (this.sinceStatus >= this.statusInterval) this.postStatus();
    }
    return true;
  }
}

registerProcessor("entrain", EntrainProcessor);
