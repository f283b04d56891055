// Shared by the web tests: paths, the host's `realtime_backend hash`, the wasm package.
//
// Environment: CARGO_TARGET_DIR (where the host binary is), ENTRAIN_TRACKS (track folder,
// default ../shared/tracks next to the repository), ENTRAIN_PKG (the built package,
// default adapters/wasm/pkg), ENTRAIN_WEB_SECONDS (length compared per track, default 10).

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TARGET = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, "target");
export const HOST = join(TARGET, "release", "realtime_backend");
export const PKG = resolve(process.env.ENTRAIN_PKG || join(ROOT, "adapters", "wasm", "pkg"));
export const TRACKS = resolve(process.env.ENTRAIN_TRACKS || join(ROOT, "..", "shared", "tracks"));
export const DEMO = join(ROOT, "assets", "demo.json");
export const SECONDS = Number(process.env.ENTRAIN_WEB_SECONDS || 10);
/** Where tests leave artifacts (screenshots): under target/, never committed. */
export const ARTIFACTS = join(TARGET, "web-tests");

export function requireBuilt() {
  const missing = [HOST, join(PKG, "realtime_backend.js"), join(PKG, "realtime_backend_bg.wasm")].filter(
    (p) => !existsSync(p),
  );
  if (missing.length) {
    throw new Error(
      `missing ${missing.join(", ")}: run cargo build --release -p entrain-cli and adapters/wasm/build.sh ` +
        `(or ./scripts/test.sh --only web)`,
    );
  }
}

/** The package, initialised (node imports the --target web glue as an ES module):
 *  { pkg: the glue's exports, wasm: the module's raw exports (wasm.memory) }. */
export async function loadPackage() {
  requireBuilt();
  const pkg = await import(pathToFileURL(join(PKG, "realtime_backend.js")).href);
  const wasm = pkg.initSync({ module: readFileSync(join(PKG, "realtime_backend_bg.wasm")) });
  return { pkg, wasm };
}

/** `realtime_backend hash FILE --mode M [--duration S]`: { hash, frames } or { error }. */
export function hostHash(file, { mode = "streaming", seconds, block = 480 } = {}) {
  const args = ["hash", file, "--block", String(block), "--mode", mode];
  if (seconds !== undefined) args.push("--duration", String(seconds));
  try {
    const out = execFileSync(HOST, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const m = /^([0-9a-f]{16}) +(\d+) frames/m.exec(out);
    if (!m) return { error: `unexpected output: ${out.trim()}` };
    return { hash: m[1], frames: Number(m[2]) };
  } catch (e) {
    const lines = String(e.stderr || e.message).trim().split("\n");
    return { error: lines.find((l) => l.startsWith("error")) || lines[lines.length - 1] };
  }
}

/** The example tracks the page offers: every *.json of the track folder and of its
 *  original/ folder, plus assets/demo.json. */
export function trackFiles() {
  const files = [];
  for (const sub of ["", "original"]) {
    const d = join(TRACKS, sub);
    if (!existsSync(d)) {
      if (!sub) throw new Error(`track folder ${d} not found (set ENTRAIN_TRACKS)`);
      continue;
    }
    for (const f of readdirSync(d).filter((f) => f.endsWith(".json")).sort()) files.push(join(d, f));
  }
  files.push(DEMO);
  return files;
}

/** What the page does for a track of its origin: the JSON and the text of the noise
 *  preset it names (read next to the track). */
export function readTrack(pkg, file) {
  const json = readFileSync(file, "utf8");
  const presetPath = pkg.noise_preset_path(json);
  const noisePreset =
    presetPath === undefined ? undefined : readFileSync(join(dirname(file), presetPath.replaceAll("\\", "/")), "utf8");
  return { json, noisePreset, presetPath };
}
