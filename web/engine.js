// Main-thread integration of the realtime_backend package: compile the module once,
// validate tracks with it, hand it to the AudioWorklet (live or offline). No framework.
//
//   const module = await loadModule();            // also initialises the glue here
//   const track = await fetchTrack("/tracks/focus_alpha.json");   // + its noise preset
//   const node = await createPlayerNode(ctx, module, track, { startTime: 0 });
//   node.port.postMessage({ type: "pause" });
//   const r = await renderOffline(module, track, { seconds: 10 });   // fingerprints

import { initSync, noise_preset_path, Player, validate_track } from "./pkg/realtime_backend.js";
import { Fnv1a64 } from "./fnv1a64.js";

export const WASM_URL = new URL("./pkg/realtime_backend_bg.wasm", import.meta.url);
export const WORKLET_URL = new URL("./entrain-worklet.js", import.meta.url);

/** Compiles realtime_backend_bg.wasm and initialises the glue on this thread. */
export async function loadModule(url = WASM_URL) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const module = await WebAssembly.compileStreaming(res);
  initSync({ module });
  return module;
}

/** Only same-origin locations are read (the page never fetches remote tracks or presets). */
function sameOrigin(url) {
  const u = new URL(url, globalThis.location?.href);
  if (u.origin !== globalThis.location?.origin) {
    throw new Error(`${url}: remote locations are not supported (use a local file)`);
  }
  return u;
}

async function text(u) {
  const res = await fetch(u);
  if (!res.ok) throw new Error(`${u.pathname}: HTTP ${res.status}`);
  return res.text();
}

/**
 * A track from its JSON text: validated (throws the located message), with the text of
 * the noise preset it names obtained from `readPreset(path)` (path relative to the
 * track's folder, as written in the track).
 */
export async function prepareTrack(json, name, readPreset) {
  const presetPath = noise_preset_path(json); // throws for an invalid track or a URL
  let noisePreset;
  if (presetPath !== undefined) {
    noisePreset = await readPreset(presetPath);
    if (noisePreset === undefined) {
      throw new Error(
        `${name}: its background noise names the preset ${presetPath}: pick that file as the noise preset`,
      );
    }
  }
  const summary = validate_track(json, noisePreset);
  return { name, json, noisePreset, presetPath, summary };
}

/** A track served by the page's origin, with its noise preset fetched next to it. */
export async function fetchTrack(url) {
  const u = sameOrigin(url);
  const json = await text(u);
  return prepareTrack(json, decodeURIComponent(u.pathname.split("/").pop()), (p) =>
    text(sameOrigin(new URL(p.replaceAll("\\", "/"), u))),
  );
}

/** Adds the worklet module to `ctx` once. */
const added = new WeakSet();
export async function addWorklet(ctx) {
  if (!added.has(ctx)) {
    await ctx.audioWorklet.addModule(WORKLET_URL);
    added.add(ctx);
  }
}

/**
 * An AudioWorkletNode playing `track` (stereo out, no inputs). Resolves once the engine
 * is built ("ready"), rejects with the engine's message if the track is refused.
 */
export async function createPlayerNode(ctx, module, track, opts = {}) {
  await addWorklet(ctx);
  const node = new AudioWorkletNode(ctx, "entrain", {
    numberOfInputs: 0,
    numberOfOutputs: 1,
    outputChannelCount: [2],
    channelCount: 2,
    channelCountMode: "explicit",
    channelInterpretation: "discrete",
    processorOptions: {
      module,
      json: track.json,
      noisePreset: track.noisePreset,
      mode: opts.mode || "streaming",
      startTime: opts.startTime || 0,
      masterGain: opts.masterGain ?? 1,
      statusInterval: opts.statusInterval ?? 4096,
      hashFrames: opts.hashFrames || 0,
    },
  });
  await new Promise((resolve, reject) => {
    node.port.onmessage = (e) => {
      if (e.data.type === "ready") resolve();
      else if (e.data.type === "error") reject(new Error(e.data.message));
    };
  });
  node.port.onmessage = null;
  return node;
}

/**
 * Renders the first `seconds` of `track` (default: all of it) through the AudioWorklet in
 * an OfflineAudioContext at the track's sample rate, with the worklet connected straight
 * to the destination (no gain, no resampling). Returns the FNV-1a 64 fingerprints of the
 * rendered AudioBuffer (`graphHash`, after the audio graph) and of the worklet's own
 * output (`workletHash`, before it). With `compare`, the same frames are also rendered
 * on this thread (`mainHash`) and compared with the AudioBuffer sample by sample:
 * `firstDiff` is null or the first frame where the graph changed a bit.
 */
export async function renderOffline(module, track, { seconds, mode = "streaming", compare = false } = {}) {
  const sr = track.summary.sample_rate;
  const total = track.summary.total_frames;
  const frames = seconds === undefined ? total : Math.min(total, Math.round(seconds * sr));
  const ctx = new OfflineAudioContext({ numberOfChannels: 2, length: frames, sampleRate: sr });
  ctx.destination.channelCount = 2;
  ctx.destination.channelInterpretation = "discrete";
  const t0 = performance.now();
  const node = await createPlayerNode(ctx, module, track, { mode, statusInterval: 0, hashFrames: frames });
  const workletHash = new Promise((resolve) => {
    node.port.onmessage = (e) => {
      if (e.data.type === "hash") resolve(e.data.hash);
    };
  });
  node.connect(ctx.destination);
  const buffer = await ctx.startRendering();
  const ms = performance.now() - t0;
  const left = buffer.getChannelData(0);
  const right = buffer.getChannelData(1);
  const h = new Fnv1a64();
  h.stereo(left, right);
  const result = {
    frames: buffer.length,
    sampleRate: buffer.sampleRate,
    graphHash: h.hex(),
    workletHash: await workletHash,
    ms,
  };
  if (compare) Object.assign(result, compareWithMainThread(track, mode, left, right));
  return result;
}

/** Renders the same frames with a Player on this thread; first frame that differs. */
function compareWithMainThread(track, mode, left, right) {
  const p = new Player(track.json, { noise_preset: track.noisePreset, mode });
  const h = new Fnv1a64();
  const block = new Float32Array(2 * 4096);
  let firstDiff = null;
  for (let done = 0; done < left.length; ) {
    const n = Math.min(4096, left.length - done);
    const view = block.subarray(0, 2 * n);
    p.render_into(view);
    h.samples(view);
    for (let i = 0; firstDiff === null && i < n; i++) {
      const [l, r] = [view[2 * i], view[2 * i + 1]];
      if (!Object.is(l, left[done + i]) || !Object.is(r, right[done + i])) {
        firstDiff = { frame: done + i, engine: [l, r], graph: [left[done + i], right[done + i]] };
      }
    }
    done += n;
  }
  p.free();
  return { mainHash: h.hex(), firstDiff };
}
