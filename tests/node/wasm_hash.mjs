#!/usr/bin/env node
// Cross-target fingerprint check (STYLE.md §8): the core crates compiled for bare
// wasm32-unknown-unknown (tests/wasm-probe) must render the same bits as the host.
//
// For each track it writes the JSON into the probe's input buffer (parse_track), hands it
// the .noise preset the track names, read relative to the track as the host does
// (attach_noise), and for tracks that play audio files (overlay clips, subliminal sources,
// a noise input) the audio as the host prepared it (`realtime_backend hash
// --export-sources`: the probe has no decoders, and decoding is the host's job; what must
// match is what the engine does with the PCM) (attach_sources), then calls render_hash(block, mode, max_frames) for several block sizes, and
// compares the FNV-1a 64 hash with
// `realtime_backend hash TRACK --block 480 --mode M --duration S`.
//
//   node tests/node/wasm_hash.mjs [options] [TRACK.json | DIR ...]
//
// Options (defaults in brackets):
//   --tracks DIR         track folder, every *.json in it [$ENTRAIN_TRACKS or ../shared/tracks
//                        relative to the repository root]; assets/demo.json is always added
//   --seconds S          length compared for blocks > 1 [10]
//   --short-seconds S    length compared for block 1 (slow per-frame calls) [2]
//   --blocks LIST        streaming block sizes [1,7,64,480]
//   --compatible-blocks LIST   compatible-mode block sizes [480] (block-size independence
//                        is the host's test; compatible mode's analysis passes make each
//                        call cost a whole-track render)
//   --compatible-max-seconds S compare compatible mode only for tracks up to S seconds long:
//                        its analysis passes render the whole track on every call [200]
//   --wasm PATH          [$CARGO_TARGET_DIR or target/, then
//                        wasm32-unknown-unknown/release/entrain_wasm_probe.wasm]
//   --host PATH          [$CARGO_TARGET_DIR or target/, then release/realtime_backend]
//   --shard K/N          compare only tracks K, K+N, K+2N, ... of the sorted list (0-based), so
//                        that N processes share the cores (scripts/test.sh runs 2) [0/1]
//
// Tracks the host cannot load, or that exceed a probe capacity, are listed as SKIP with
// the reason. Any mismatch, or a probe failure on a track the host renders, is a FAIL
// and makes the exit status 1. Exit status 2: the setup is broken (missing files).

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, "target");

// Must match tests/wasm-probe/src/lib.rs.
const MODE = { compatible: 0, streaming: 1 };
const ERR = { 0: "ok", 1: "args", 2: "parse", 3: "capacity", 4: "build", 5: "busy", 6: "state" };
const ERR_CAPACITY = 3;

function parseArgs(argv) {
  const o = {
    tracks: process.env.ENTRAIN_TRACKS || resolve(ROOT, "..", "shared", "tracks"),
    seconds: 10,
    shortSeconds: 2,
    blocks: [1, 7, 64, 480],
    compatibleBlocks: [480],
    compatibleMaxSeconds: 200,
    wasm: join(TARGET, "wasm32-unknown-unknown", "release", "entrain_wasm_probe.wasm"),
    host: join(TARGET, "release", "realtime_backend"),
    shard: [0, 1],
    extra: [],
  };
  const list = (s) => s.split(",").filter(Boolean).map((x) => positiveInt(x, "block"));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case "--tracks": o.tracks = resolve(value()); break;
      case "--seconds": o.seconds = positiveNumber(value(), a); break;
      case "--short-seconds": o.shortSeconds = positiveNumber(value(), a); break;
      case "--blocks": o.blocks = list(value()); break;
      case "--compatible-blocks": o.compatibleBlocks = list(value()); break;
      case "--compatible-max-seconds": o.compatibleMaxSeconds = Number(value()); break;
      case "--wasm": o.wasm = resolve(value()); break;
      case "--host": o.host = resolve(value()); break;
      case "--shard": {
        const m = /^(\d+)\/(\d+)$/.exec(value());
        if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) usage(`--shard: expected K/N with 0 <= K < N`);
        o.shard = [Number(m[1]), Number(m[2])];
        break;
      }
      case "-h": case "--help": usage(); break;
      default:
        if (a.startsWith("-")) usage(`unknown option ${a}`);
        o.extra.push(resolve(a));
    }
  }
  return o;
}

function usage(msg) {
  const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1);
  const end = lines.findIndex((l) => !l.startsWith("//"));
  const head = lines.slice(0, end).map((l) => l.slice(3)).join("\n");
  if (msg) console.error(`error: ${msg}\n`);
  console.error(head);
  process.exit(msg ? 2 : 0);
}

function positiveNumber(s, what) {
  const x = Number(s);
  if (!(x > 0)) usage(`${what}: expected a positive number, got ${s}`);
  return x;
}

function positiveInt(s, what) {
  const x = Number(s);
  if (!Number.isInteger(x) || x < 1) usage(`${what}: expected a positive integer, got ${s}`);
  return x;
}

function trackFiles(o) {
  const files = [];
  const addDir = (d) => {
    if (!existsSync(d) || !statSync(d).isDirectory()) {
      console.error(`error: track folder ${d} not found (set ENTRAIN_TRACKS or --tracks)`);
      process.exit(2);
    }
    for (const f of readdirSync(d).filter((f) => f.endsWith(".json")).sort()) files.push(join(d, f));
  };
  addDir(o.tracks);
  for (const p of o.extra) {
    if (statSync(p).isDirectory()) addDir(p);
    else files.push(p);
  }
  files.push(join(ROOT, "assets", "demo.json"));
  const [k, n] = o.shard;
  return [...new Set(files)].filter((_, i) => i % n === k);
}

// `realtime_backend hash`: { hash, frames } or { error }.
function hostHash(o, file, mode, seconds) {
  try {
    const out = execFileSync(
      o.host,
      ["hash", file, "--block", "480", "--mode", mode, "--duration", String(seconds)],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 20 },
    );
    const m = /^([0-9a-f]{16}) +(\d+) frames/m.exec(out);
    if (!m) return { error: `unexpected output: ${out.trim()}` };
    return { hash: m[1], frames: BigInt(m[2]) };
  } catch (e) {
    const err = String(e.stderr || e.message).trim().split("\n");
    // The first error line names the problem; warnings come before it.
    const line = err.find((l) => l.startsWith("error")) || err[err.length - 1];
    return { error: line };
  }
}

class Probe {
  constructor(bytes) {
    const module = new WebAssembly.Module(bytes);
    const imports = WebAssembly.Module.imports(module);
    if (imports.length) {
      throw new Error(`the probe must import nothing, it imports ${JSON.stringify(imports)}`);
    }
    this.x = new WebAssembly.Instance(module, {}).exports;
  }

  text(ptr, len) {
    return new TextDecoder().decode(new Uint8Array(this.x.memory.buffer, ptr, len));
  }

  // { code } or { code, error } after a call that set error_code().
  status() {
    const code = this.x.error_code();
    if (code === 0) return { code };
    return { code, error: `${ERR[code] ?? code}: ${this.text(this.x.error_ptr(), this.x.error_len())}` };
  }

  // Copies `bytes` into a probe buffer; false if it does not fit.
  write(bytes, ptr, capacity) {
    if (bytes.length > capacity) return false;
    new Uint8Array(this.x.memory.buffer, ptr, bytes.length).set(bytes);
    return true;
  }

  // Parses a track: { code, error?, noisePath? }.
  parse(json) {
    if (!this.write(json, this.x.input_ptr(), this.x.input_capacity())) {
      return { code: ERR_CAPACITY, error: `capacity: ${json.length} bytes > input buffer of ${this.x.input_capacity()}` };
    }
    this.x.parse_track(json.length);
    const st = this.status();
    const n = this.x.noise_path_len();
    if (st.code === 0 && n > 0) st.noisePath = this.text(this.x.noise_path_ptr(), n);
    return st;
  }

  // Completes the parsed track's noise from a .noise preset: { code, error? }.
  attachNoise(preset) {
    if (!this.write(preset, this.x.preset_ptr(), this.x.preset_capacity())) {
      return { code: ERR_CAPACITY, error: `capacity: preset of ${preset.length} bytes > buffer of ${this.x.preset_capacity()}` };
    }
    this.x.attach_noise(preset.length);
    return this.status();
  }

  // Copies the host's sources file (tests/wasm-probe/src/sources.rs) into the probe:
  // { code, error? }.
  attachSources(file) {
    const frames = Number(new DataView(file.buffer, file.byteOffset, file.length).getBigUint64(8, true));
    const headerLen = file.length - frames * 8;
    if (frames > this.x.pcm_capacity()) {
      return { code: ERR_CAPACITY, error: `capacity: ${frames} frames of audio > probe arena of ${this.x.pcm_capacity()}` };
    }
    if (!(headerLen >= 16) || !this.write(file.subarray(0, headerLen), this.x.sources_ptr(), this.x.sources_capacity())) {
      return { code: ERR_CAPACITY, error: `capacity: sources header of ${headerLen} bytes` };
    }
    this.write(file.subarray(headerLen), this.x.pcm_ptr(), this.x.pcm_capacity() * 8);
    this.x.attach_sources(headerLen);
    return this.status();
  }

  // Renders and hashes the parsed track.
  hash(block, mode, frames) {
    const t0 = performance.now();
    const h = this.x.render_hash(block, MODE[mode], BigInt(frames));
    const ms = performance.now() - t0;
    const st = this.status();
    if (st.code !== 0) return { ...st, ms };
    return {
      code: 0,
      hash: BigInt.asUintN(64, h).toString(16).padStart(16, "0"),
      frames: BigInt.asUintN(64, this.x.frames()),
      total: BigInt.asUintN(64, this.x.total_frames()),
      sampleRate: this.x.sample_rate(),
      ms,
    };
  }
}

// Parses `file` in the probe and attaches the .noise preset it names, read (as the host
// does) relative to the track's folder, and the audio of the files it plays, as the host
// prepared it. Reports SKIP or FAIL and returns false if the probe cannot take the track.
function loadIntoProbe(o, probe, file, name, report) {
  if (!loadTrackAndPreset(probe, file, name, report)) return false;
  if (!probe.x.needs_sources()) return true;
  const dir = mkdtempSync(join(tmpdir(), "entrain-sources-"));
  try {
    const out = join(dir, "sources.bin");
    try {
      execFileSync(o.host, ["hash", file, "--duration", "0", "--export-sources", out], {
        stdio: ["ignore", "ignore", "pipe"],
      });
    } catch (e) {
      report("FAIL", name, "sources", `host renders it but cannot export its audio: ${String(e.stderr || e.message).trim()}`);
      return false;
    }
    const attached = probe.attachSources(readFileSync(out));
    if (attached.code === ERR_CAPACITY) {
      report("SKIP", name, "sources", attached.error);
      return false;
    }
    if (attached.code !== 0) {
      report("FAIL", name, "sources", `the probe does not take the host's audio: ${attached.error}`);
      return false;
    }
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function loadTrackAndPreset(probe, file, name, report) {
  const parsed = probe.parse(readFileSync(file));
  if (parsed.code === ERR_CAPACITY) {
    report("SKIP", name, "", parsed.error);
    return false;
  }
  if (parsed.code !== 0) {
    report("FAIL", name, "parse", `host loads it, the probe does not: ${parsed.error}`);
    return false;
  }
  if (parsed.noisePath === undefined) return true;
  const presetPath = resolve(dirname(file), parsed.noisePath.trim());
  let preset;
  try {
    preset = readFileSync(presetPath);
  } catch (e) {
    report("FAIL", name, "noise preset", `host reads it, this script cannot: ${e.message}`);
    return false;
  }
  const attached = probe.attachNoise(preset);
  if (attached.code === ERR_CAPACITY) {
    report("SKIP", name, "noise preset", attached.error);
    return false;
  }
  if (attached.code !== 0) {
    report("FAIL", name, "noise preset", `host takes ${parsed.noisePath}, the probe does not: ${attached.error}`);
    return false;
  }
  return true;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  for (const [what, p, how] of [
    ["wasm probe", o.wasm, "cargo build -p entrain-wasm-probe --release --target wasm32-unknown-unknown"],
    ["host CLI", o.host, "cargo build --release -p entrain-cli"],
  ]) {
    if (!existsSync(p)) {
      console.error(`error: ${what} ${p} not found; build it with: ${how}`);
      process.exit(2);
    }
  }
  const probe = new Probe(readFileSync(o.wasm));
  const files = trackFiles(o);
  console.log(
    `wasm probe ${basename(o.wasm)} vs host ${basename(o.host)}: ${files.length} tracks, ` +
      `streaming blocks ${o.blocks.join(",")} (${o.seconds} s; block 1: ${o.shortSeconds} s), ` +
      `compatible blocks ${o.compatibleBlocks.join(",")} (tracks ≤ ${o.compatibleMaxSeconds} s)` +
      (o.shard[1] > 1 ? `; shard ${o.shard[0]}/${o.shard[1]}` : ""),
  );
  const tally = { PASS: 0, FAIL: 0, SKIP: 0 };
  const report = (status, name, what, detail) => {
    tally[status]++;
    console.log(`${status}  ${name.padEnd(28)} ${what.padEnd(24)} ${detail}`);
  };

  for (const file of files) {
    const name = basename(file);
    // Host first: a track the host cannot load is not the probe's business.
    const hostRuns = new Map();
    const host = (mode, seconds) => {
      const key = `${mode}/${seconds}`;
      if (!hostRuns.has(key)) hostRuns.set(key, hostHash(o, file, mode, seconds));
      return hostRuns.get(key);
    };
    const first = host("streaming", o.seconds);
    if (first.error) {
      report("SKIP", name, "", `host cannot render it: ${first.error}`);
      continue;
    }
    if (!loadIntoProbe(o, probe, file, name, report)) continue;
    let trackSeconds = null;
    const modes = [["streaming", o.blocks]];
    let skipped = false;
    for (let m = 0; m < modes.length && !skipped; m++) {
      const [mode, blocks] = modes[m];
      for (const block of blocks) {
        const seconds = block === 1 ? Math.min(o.shortSeconds, o.seconds) : o.seconds;
        const what = `${mode} block ${block}`;
        const h = host(mode, seconds);
        if (h.error) {
          report("FAIL", name, what, `host failed in ${mode} mode: ${h.error}`);
          continue;
        }
        const w = probe.hash(block, mode, h.frames);
        if (w.code === ERR_CAPACITY) {
          report("SKIP", name, what, w.error);
          if (mode === "streaming") skipped = true;
          break;
        }
        if (w.code !== 0) {
          report("FAIL", name, what, `host renders it, the probe does not: ${w.error}`);
          continue;
        }
        trackSeconds = Number(w.total) / w.sampleRate;
        const span = `${seconds} s, ${h.frames} frames`;
        if (w.hash === h.hash && w.frames === h.frames) {
          report("PASS", name, what, `${w.hash}  (${span}; wasm ${w.ms.toFixed(0)} ms)`);
        } else {
          report(
            "FAIL", name, what,
            `wasm ${w.hash} (${w.frames} frames) != host ${h.hash} (${h.frames} frames), ${span}`,
          );
        }
      }
      if (mode === "streaming" && !skipped && o.compatibleBlocks.length && trackSeconds !== null) {
        if (trackSeconds <= o.compatibleMaxSeconds) {
          modes.push(["compatible", o.compatibleBlocks]);
        } else {
          report(
            "SKIP", name, "compatible",
            `track is ${trackSeconds.toFixed(0)} s > --compatible-max-seconds ${o.compatibleMaxSeconds}`,
          );
        }
      }
    }
  }
  const compared = tally.PASS + tally.FAIL;
  console.log(`\n${tally.PASS} passed, ${tally.FAIL} failed, ${tally.SKIP} skipped`);
  if (compared === 0) {
    console.error("error: nothing was compared");
    process.exit(1);
  }
  process.exit(tally.FAIL ? 1 : 0);
}

main();
