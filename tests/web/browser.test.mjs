// The web player in a real browser: headless Chromium (apt `chromium`, driven by
// playwright-core) loads web/ from the dev server on 127.0.0.1.
//
// * The demo track is rendered through the AudioWorklet in an OfflineAudioContext at the
//   track's rate (worklet → destination, nothing in between). The FNV-1a 64 of the
//   rendered AudioBuffer (interleaved L R, little-endian f32 bits) must equal
//   `realtime_backend hash` on the host; so must the worklet's own output, hashed inside
//   the worklet before the graph, and the page reports the first frame where the graph
//   changed a bit (none is allowed).
// * The page's controls are clicked (load, play, pause, seek, resume, timeline) and a
//   screenshot is saved to target/web-tests/player.png.
//
// Environment: CHROMIUM (default /usr/bin/chromium); ENTRAIN_WEB_HEADED=1 shows the window.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { startServer } from "../../web/server.mjs";
import { ARTIFACTS, DEMO, SECONDS, TRACKS, hostHash, requireBuilt } from "./common.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps calling home on a closed network.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let server;
let context;
let page;
let profile;
const logs = [];

before(async () => {
  requireBuilt();
  server = await startServer({ port: 0 });
  profile = mkdtempSync(join(tmpdir(), "entrain-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: !process.env.ENTRAIN_WEB_HEADED,
    args: process.env.ENTRAIN_WEB_HEADED ? ARGS.filter((a) => a !== "--headless") : ARGS,
    viewport: { width: 1100, height: 820 },
  });
  page = await context.newPage();
  page.on("console", (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(server.url);
  await page.waitForFunction(() => ["idle", "error"].includes(document.body.dataset.state), null, {
    timeout: 60_000,
  });
  assert.equal(await page.evaluate(() => document.body.dataset.state), "idle", logs.join("\n"));
});

after(async () => {
  if (logs.length) console.log(`browser log:\n  ${logs.join("\n  ")}`);
  await context?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** Renders a served track offline in the page; returns the page's result. */
function renderInPage(url, opts) {
  return page.evaluate(
    async ([url, opts]) => {
      const t = await window.entrain.fetchTrack(url);
      return window.entrain.renderOffline(t, opts);
    },
    [url, opts],
  );
}

describe("OfflineAudioContext render through the AudioWorklet", () => {
  const cases = [
    // The demo, whole, in both modes.
    { url: "assets/demo.json", file: DEMO, mode: "streaming" },
    { url: "assets/demo.json", file: DEMO, mode: "compatible" },
    // A shared track with a .noise preset fetched from the server next to it.
    { url: "tracks/noise_only_pink.json", file: join(TRACKS, "noise_only_pink.json"), mode: "streaming", seconds: SECONDS },
  ];
  for (const c of cases) {
    test(`${c.url} ${c.mode}${c.seconds ? ` (${c.seconds} s)` : ""}: hashes equal the host's`, { timeout: 300_000 }, async () => {
      const host = hostHash(c.file, { mode: c.mode, seconds: c.seconds });
      assert.ok(!host.error, host.error);
      const r = await renderInPage(c.url, { mode: c.mode, seconds: c.seconds, compare: true });
      console.log(
        `${c.url} ${c.mode}: ${r.frames} frames at ${r.sampleRate} Hz in ${(r.ms / 1000).toFixed(1)} s; ` +
          `host ${host.hash}, AudioBuffer ${r.graphHash}, worklet ${r.workletHash}, main thread ${r.mainHash}, ` +
          `first graph difference: ${r.firstDiff ? JSON.stringify(r.firstDiff) : "none"}`,
      );
      assert.equal(r.frames, host.frames);
      assert.equal(r.sampleRate, 44100);
      assert.equal(r.workletHash, host.hash, "the worklet's own output");
      assert.equal(r.mainHash, host.hash, "the package on the page's main thread");
      assert.equal(r.firstDiff, null, "the audio graph changed bits");
      assert.equal(r.graphHash, host.hash, "the rendered AudioBuffer");
    });
  }

  test("remote locations are refused", async () => {
    const msg = await page.evaluate(() =>
      window.entrain.fetchTrack("https://example.org/track.json").then(
        () => "loaded",
        (e) => e.message,
      ),
    );
    assert.match(msg, /remote locations are not supported/);
  });
});

describe("the page's controls", () => {
  const position = () => page.locator("#time").getAttribute("data-position").then(Number);
  const state = () => page.evaluate(() => document.body.dataset.state);
  const waitFor = (fn, arg, timeout = 20_000) => page.waitForFunction(fn, arg, { timeout });

  test("an invalid pasted track shows the located error", async () => {
    await page.click("details > summary");
    await page.fill("#track-text", '{\n  "global": {"sample_rate": 44100},\n  "progression": [{"duration": 1, "voices": [\n    {"synth_function_name": "binaural_beat", "params": {"baseFreq": "x"}}]}]\n}');
    await page.click("#load-text");
    await waitFor(() => document.getElementById("message").classList.contains("error"));
    const text = await page.textContent("#message");
    assert.match(text, /^step 0, voice 0, key `baseFreq` \(line 4, column \d+\): /);
    await page.click("details > summary"); // close it again
  });

  test("load, play, pause, seek, resume, timeline click; screenshot", { timeout: 120_000 }, async () => {
    await page.selectOption("#track-list", "assets/demo.json");
    await page.click("#load-example");
    await waitFor(() => document.body.dataset.state === "loaded");
    assert.equal(await page.textContent("#track-name"), "demo.json");
    assert.equal(await page.textContent("#play"), "Play");

    await page.click("#play");
    await waitFor(() => document.body.dataset.state === "playing" && Number(document.getElementById("time").dataset.position) > 0.5);
    assert.equal(await page.textContent("#play"), "Pause");
    assert.match(await page.textContent("#step"), /^Step 1\/3: /);

    await page.click("#play"); // pause
    await waitFor(() => document.body.dataset.state === "paused");
    const p1 = await position();
    await page.waitForTimeout(800);
    assert.equal(await position(), p1, "the position holds while paused");
    assert.equal(await page.textContent("#play"), "Resume");

    await page.locator("#seek").fill("60"); // drag the slider (input + change)
    await waitFor(() => Math.abs(Number(document.getElementById("time").dataset.position) - 60) < 0.01);
    assert.equal(await state(), "paused");

    await page.click("#play"); // resume
    await waitFor(() => document.body.dataset.state === "playing" && Number(document.getElementById("time").dataset.position) > 60.3);
    assert.match(await page.textContent("#step"), /^Step 3\/3: /);

    // A click at a quarter of the timeline seeks to a quarter of the track (8 px margins).
    const box = await page.locator("#timeline").boundingBox();
    await page.mouse.click(box.x + 8 + 0.25 * (box.width - 16), box.y + box.height / 2);
    await waitFor(() => {
      const p = Number(document.getElementById("time").dataset.position);
      return p >= 22 && p < 24;
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, "player.png");
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);

    await page.click("#play"); // pause again: leave it quiet
    await waitFor(() => document.body.dataset.state === "paused");
  });
});
