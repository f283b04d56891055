// The page: pick / paste a track, play it through the AudioWorklet, pause, seek, volume,
// and a canvas timeline of its steps. State for tests: <body data-state> is one of
// starting | idle | loaded | playing | paused | error; #time carries data-position (s).

import { createPlayerNode, fetchTrack, loadModule, prepareTrack, renderOffline } from "./engine.js";

const $ = (id) => document.getElementById(id);
const ui = {
  list: $("track-list"),
  loadExample: $("load-example"),
  file: $("track-file"),
  noise: $("noise-file"),
  text: $("track-text"),
  loadText: $("load-text"),
  name: $("track-name"),
  play: $("play"),
  seek: $("seek"),
  time: $("time"),
  gain: $("gain"),
  step: $("step"),
  canvas: $("timeline"),
  message: $("message"),
  warnings: $("warnings"),
};

let module = null; // the compiled WebAssembly.Module, shared with the worklet
let track = null; // { name, json, noisePreset, summary }
let ctx = null; // AudioContext at the track's sample rate
let node = null; // the AudioWorkletNode playing `track`
let status = { seconds: 0, step: -1, paused: true, finished: false }; // from the worklet
let paused = true; // what the user asked for (status.paused follows it)
let seeking = false; // the user is dragging the slider

function setState(s) {
  document.body.dataset.state = s;
}

function say(text, isError = false) {
  ui.message.textContent = text;
  ui.message.classList.toggle("error", isError);
  if (isError) console.warn(text);
}

function clock(s) {
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

// ---- loading -------------------------------------------------------------------------

async function useTrack(load) {
  try {
    say("Loading…");
    const t = await load();
    await setTrack(t);
  } catch (err) {
    say(String(err?.message ?? err), true);
    setState(track ? document.body.dataset.state : "error");
  }
}

async function setTrack(t) {
  const sameRate = track && node && t.summary.sample_rate === track.summary.sample_rate;
  const wasPlaying = node && !paused;
  track = t;
  ui.name.textContent = t.name;
  ui.seek.max = String(t.summary.duration_s);
  ui.seek.disabled = false;
  ui.play.disabled = false;
  ui.warnings.replaceChildren(
    ...t.summary.warnings.map((w) => Object.assign(document.createElement("li"), { textContent: w })),
  );
  if (sameRate) {
    // Replace the track in the running worklet: crossfaded, position kept.
    node.port.postMessage({ type: "update", json: t.json, noisePreset: t.noisePreset });
    say(`Switched to ${t.name} (crossfade).`);
  } else {
    await stopAudio();
    status = { seconds: 0, step: -1, paused: true, finished: false };
    paused = true;
    ui.seek.value = "0";
    setState("loaded");
    say(`${t.name}: ${t.summary.steps.length} steps, ${clock(t.summary.duration_s)}, ${t.summary.sample_rate} Hz.`);
    if (wasPlaying) await play();
  }
  render();
}

async function loadExample() {
  const url = ui.list.value;
  if (url) await useTrack(() => fetchTrack(url));
}

async function loadFile() {
  const f = ui.file.files[0];
  if (!f) return;
  await useTrack(async () => prepareTrack(await f.text(), f.name, readPickedPreset));
}

async function loadPasted() {
  const json = ui.text.value;
  await useTrack(() => prepareTrack(json, "pasted track", readPickedPreset));
}

/** The preset picked with the "Noise preset" button (any name: the user chose it). */
async function readPickedPreset() {
  const f = ui.noise.files[0];
  return f ? f.text() : undefined;
}

// ---- playback ------------------------------------------------------------------------

async function stopAudio() {
  if (node) {
    node.port.postMessage({ type: "stop" });
    node.disconnect();
    node = null;
  }
  if (ctx) {
    await ctx.close();
    ctx = null;
  }
}

function onWorkletMessage(e) {
  const m = e.data;
  if (m.type === "status") {
    status = m;
    if (m.finished && !paused) {
      paused = true;
      node.port.postMessage({ type: "pause" });
    }
    setState(m.paused ? "paused" : "playing");
    render();
  } else if (m.type === "error") {
    say(`${m.during}: ${m.message}`, true);
  } else if (m.type === "ready" && m.updated) {
    track.summary = m.summary;
    render();
  }
}

async function play() {
  if (!track) return;
  if (node) {
    paused = !paused;
    if (!paused && status.finished) node.port.postMessage({ type: "seek", seconds: 0 });
    node.port.postMessage({ type: paused ? "pause" : "resume" });
    if (ctx.state !== "running") await ctx.resume();
    render();
    return;
  }
  try {
    // The context runs at the track's rate, so the engine renders the track's own samples
    // (the browser resamples to the device if it has to).
    ctx = new AudioContext({ sampleRate: track.summary.sample_rate, latencyHint: "playback" });
    node = await createPlayerNode(ctx, module, track, {
      startTime: Number(ui.seek.value),
      masterGain: Number(ui.gain.value),
    });
    node.port.onmessage = onWorkletMessage;
    paused = false;
    node.connect(ctx.destination);
    await ctx.resume();
    node.port.postMessage({ type: "status" });
    say(`Playing ${track.name}.`);
  } catch (err) {
    say(String(err?.message ?? err), true);
    await stopAudio();
  }
}

function seekTo(seconds) {
  if (!track) return;
  seconds = Math.min(Math.max(0, seconds), track.summary.duration_s);
  ui.seek.value = String(seconds);
  status = { ...status, seconds };
  if (node) node.port.postMessage({ type: "seek", seconds });
  render();
}

// ---- drawing -------------------------------------------------------------------------

const COLORS = ["#5b7bd5", "#3fa58c", "#c9853a", "#a45fbf", "#d0566b", "#4a9bc8"];

function render() {
  ui.play.textContent = node && !paused ? "Pause" : node ? "Resume" : "Play";
  const pos = status.seconds ?? 0;
  if (!seeking) ui.seek.value = String(pos);
  const dur = track ? track.summary.duration_s : 0;
  ui.time.textContent = `${clock(pos)} / ${clock(dur)}`;
  ui.time.dataset.position = pos.toFixed(3);
  const s = track && status.step >= 0 ? track.summary.steps[status.step] : null;
  ui.step.textContent = s ? `Step ${s.index + 1}/${track.summary.steps.length}: ${s.description || "(no description)"} — ${s.voices.join(", ")}` : "";
  drawTimeline();
}

function drawTimeline() {
  const c = ui.canvas;
  const scale = window.devicePixelRatio || 1;
  const w = c.clientWidth || c.width;
  const h = c.clientHeight || c.height;
  if (c.width !== Math.round(w * scale)) {
    c.width = Math.round(w * scale);
    c.height = Math.round(h * scale);
  }
  const g = c.getContext("2d");
  g.setTransform(scale, 0, 0, scale, 0, 0);
  g.clearRect(0, 0, w, h);
  if (!track) {
    g.fillStyle = "#99a";
    g.font = "14px system-ui";
    g.fillText("Load a track to see its steps.", 12, h / 2);
    return;
  }
  const sum = track.summary;
  const total = sum.total_frames || 1;
  const x = (frame) => 8 + ((w - 16) * frame) / total;
  const lanes = 2;
  const laneH = (h - 44) / lanes;
  // Time axis.
  g.fillStyle = "#667";
  g.font = "11px system-ui";
  const step = niceStep(sum.duration_s);
  for (let t = 0; t <= sum.duration_s + 1e-9; t += step) {
    const xx = x(t * sum.sample_rate);
    g.fillRect(xx, h - 24, 1, 5);
    g.fillText(clock(t), xx + 2, h - 8);
  }
  // Steps: alternating lanes so crossfades show as overlaps.
  for (const s of sum.steps) {
    if (s.start_frame === null) continue;
    const lane = s.index % lanes;
    const y = 6 + lane * laneH;
    const x0 = x(s.start_frame);
    const x1 = x(s.end_frame);
    const active = s.index === status.step;
    g.fillStyle = COLORS[s.index % COLORS.length];
    g.globalAlpha = active ? 0.95 : 0.6;
    g.fillRect(x0, y, Math.max(1, x1 - x0), laneH - 6);
    if (s.crossfade_frames > 0) {
      g.globalAlpha = 0.35;
      g.fillStyle = "#fff";
      g.fillRect(x0, y, x(s.start_frame + s.crossfade_frames) - x0, laneH - 6);
    }
    g.globalAlpha = 1;
    g.fillStyle = "#fff";
    g.font = `${active ? "bold " : ""}12px system-ui`;
    g.save();
    g.beginPath();
    g.rect(x0, y, x1 - x0, laneH - 6);
    g.clip();
    g.fillText(`${s.index + 1}. ${s.description || s.voices.join(", ")}`, x0 + 5, y + 16);
    g.font = "11px system-ui";
    g.fillText(s.voices.join(", "), x0 + 5, y + 31);
    g.restore();
  }
  // Playhead.
  const px = x((status.seconds ?? 0) * sum.sample_rate);
  g.fillStyle = "#d22";
  g.fillRect(px - 1, 0, 2, h - 24);
}

function niceStep(dur) {
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800]) {
    if (dur / s <= 12) return s;
  }
  return 3600;
}

// ---- wiring --------------------------------------------------------------------------

async function main() {
  try {
    module = await loadModule();
  } catch (err) {
    say(`Cannot load the engine: ${err.message}`, true);
    setState("error");
    return;
  }
  try {
    const res = await fetch("tracks/index.json");
    const list = res.ok ? await res.json() : [];
    ui.list.replaceChildren(
      ...list.map((t) => Object.assign(document.createElement("option"), { value: t.url, textContent: t.name })),
    );
  } catch {
    // A static host without the track list: files and paste still work.
  }
  ui.loadExample.onclick = loadExample;
  ui.file.onchange = loadFile;
  ui.noise.onchange = () => {
    if (ui.file.files[0]) loadFile();
  };
  ui.loadText.onclick = loadPasted;
  ui.play.onclick = play;
  ui.seek.oninput = () => {
    seeking = true;
    ui.time.textContent = `${clock(Number(ui.seek.value))} / ${clock(track?.summary.duration_s ?? 0)}`;
  };
  ui.seek.onchange = () => {
    seeking = false;
    seekTo(Number(ui.seek.value));
  };
  ui.gain.oninput = () => node?.port.postMessage({ type: "gain", value: Number(ui.gain.value) });
  ui.canvas.onclick = (e) => {
    if (!track) return;
    const r = ui.canvas.getBoundingClientRect();
    const frac = (e.clientX - r.left - 8) / (r.width - 16);
    seekTo(frac * track.summary.duration_s);
  };
  window.addEventListener("resize", render);
  render();
  setState("idle");
}

// For tests and the console: the engine behind the page.
window.entrain = {
  get module() {
    return module;
  },
  get track() {
    return track;
  },
  fetchTrack,
  renderOffline: (t, opts) => renderOffline(module, t, opts),
};

main();
