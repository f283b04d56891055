#!/usr/bin/env node
// Development server for the web player (node only, no dependencies), on 127.0.0.1.
//
//   node web/server.mjs [--port 8080] [--tracks DIR]
//
//   /                  web/ (the page, the worklet, the helpers)
//   /pkg/…             adapters/wasm/pkg (build it first: adapters/wasm/build.sh)
//   /tracks/index.json the example tracks offered by the page: assets/demo.json and every
//                      *.json of the track folder and of its original/ folder
//   /tracks/…          files of the track folder (.json, .noise), read at request time
//   /assets/demo.json  the bundled demo track
//
// The track folder is $ENTRAIN_TRACKS, else ../shared/tracks next to the repository
// (nothing is copied into the repository). Paths are confined to their folders; only GET
// and HEAD; nothing is cached. No COOP/COEP headers are needed: the engine runs inside the
// AudioWorklet, there is no SharedArrayBuffer (WASM_GUIDE.md).

import { createServer } from "node:http";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const WEB = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(WEB, "..");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".noise": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
  ".png": "image/png",
};

/** Resolves `rel` inside `dir`, or null if it escapes it or names a hidden file. */
function inside(dir, rel) {
  const parts = rel.split("/");
  if (parts.some((p) => p.startsWith("."))) return null;
  const p = normalize(join(dir, ...parts));
  return p === dir || p.startsWith(dir + sep) ? p : null;
}

async function listTracks(tracksDir) {
  const list = [{ name: "demo (assets/demo.json)", url: "assets/demo.json" }];
  for (const sub of ["", "original"]) {
    let names = [];
    try {
      names = await readdir(join(tracksDir, sub));
    } catch {
      continue;
    }
    for (const n of names.filter((n) => n.endsWith(".json")).sort()) {
      const rel = sub ? `${sub}/${n}` : n;
      list.push({ name: rel, url: `tracks/${rel.split("/").map(encodeURIComponent).join("/")}` });
    }
  }
  return list;
}

/**
 * Starts the server. Resolves to { url, port, close() }.
 * Options: port (0: any free port), host, tracksDir, pkgDir, log.
 */
export async function startServer(opts = {}) {
  const host = opts.host ?? "127.0.0.1";
  const tracksDir = resolve(opts.tracksDir ?? process.env.ENTRAIN_TRACKS ?? join(ROOT, "..", "shared", "tracks"));
  const pkgDir = resolve(opts.pkgDir ?? process.env.ENTRAIN_PKG ?? join(ROOT, "adapters", "wasm", "pkg"));
  const log = opts.log ?? (() => {});

  const server = createServer(async (req, res) => {
    const send = (code, body, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    try {
      if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
      let path;
      try {
        path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      } catch {
        return send(400, "bad request\n");
      }
      let file = null;
      if (path === "/tracks/index.json") {
        return send(200, JSON.stringify(await listTracks(tracksDir), null, 1), TYPES[".json"]);
      } else if (path === "/assets/demo.json") {
        file = join(ROOT, "assets", "demo.json");
      } else if (path.startsWith("/tracks/")) {
        file = inside(tracksDir, path.slice("/tracks/".length));
        if (file && ![".json", ".noise"].includes(extname(file))) file = null;
      } else if (path.startsWith("/pkg/")) {
        file = inside(pkgDir, path.slice("/pkg/".length));
      } else {
        const rel = path === "/" ? "index.html" : path.slice(1);
        file = inside(WEB, rel);
        if (file && extname(file) === ".mjs") file = null; // the server itself
      }
      if (!file) return send(404, "not found\n");
      const st = await stat(file).catch(() => null);
      if (!st?.isFile()) return send(404, "not found\n");
      const body = await readFile(file);
      log(`${req.method} ${path} 200`);
      send(200, body, TYPES[extname(file)] ?? "application/octet-stream");
    } catch (err) {
      log(`${req.method} ${req.url} 500 ${err}`);
      send(500, "server error\n");
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port ?? 0, host, ok);
  });
  const { port } = server.address();
  return {
    url: `http://${host}:${port}/`,
    port,
    tracksDir,
    pkgDir,
    close: () => new Promise((ok) => server.close(ok)),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (args.includes("--help") || args.includes("-h")) {
    console.log("usage: node web/server.mjs [--port 8080] [--tracks DIR]");
    process.exit(0);
  }
  const s = await startServer({
    port: Number(opt("--port") ?? 8080),
    tracksDir: opt("--tracks"),
    log: (l) => console.log(l),
  });
  console.log(`entrain web player: ${s.url}  (tracks from ${s.tracksDir}, package from ${s.pkgDir})`);
}
