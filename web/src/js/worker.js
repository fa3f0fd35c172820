// The Web Worker that runs chainrule: Python (Pyodide) and Graphviz (viz.js) live
// here, so the page never waits on them. Messages in:
//   {type: "call", id, name, args}  -> {type: "result", id, ok} or {type: "result", id, error}
//   {type: "play", ms}              -> {type: "frame", ok} after every slice of training
//   {type: "pause"}                 -> {type: "paused", ok} with the last view
// Every answer's "dot" (DOT text from draw_dot) arrives as "svg", laid out here.

import { loadPyodide } from "../pyodide/pyodide.mjs";

// Graphviz is needed only for the first graph: its module loads beside Python, not before it
const vizModule = import("../viz/viz.js");
const vizInstance = () => vizModule.then((module) => module.instance());

const base = new URL("../", import.meta.url);
const text = (path) => fetch(new URL(path, base)).then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${path}: ${r.status}`))));
const bytes = (path) => fetch(new URL(path, base)).then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`${path}: ${r.status}`))));

const marks = {};
let bridge = null;
let viz = null;
let playing = false;
let playMs = 80;

async function boot() {
  // the interpreter, the wheels and the bridge download side by side
  const t0 = performance.now();
  const wheelsNamed = text("build.json").then((build) => JSON.parse(build));
  const [pyodide, build, wheels, source] = await Promise.all([
    loadPyodide({ indexURL: new URL("pyodide/", base).href }).then((p) => { marks.pyodide = performance.now() - t0; return p; }),
    wheelsNamed,
    wheelsNamed.then((build) => Promise.all(build.wheels.map((name) => bytes(`wheels/${name}`)))),
    text("py/bridge.py"),
  ]);
  for (const wheel of wheels) pyodide.unpackArchive(wheel, "wheel");
  marks.unpacked = performance.now() - t0;
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  pyodide.FS.writeFile(`${sitePackages}/chainrule_web.py`, source);
  bridge = pyodide.pyimport("chainrule_web");
  marks.imported = performance.now() - t0;
  vizInstance().then((v) => { viz = v; });
  return { marks, versions: build.versions, python: pyodide.runPython("import sys; sys.version.split()[0]") };
}

async function layout(answer) {
  if (answer && typeof answer.dot === "string") {
    if (viz === null) viz = await vizInstance();
    answer.svg = viz.renderString(answer.dot, { format: "svg" });
    delete answer.dot;
  }
  return answer;
}

async function call(name, args) {
  const answer = JSON.parse(bridge.call(name, JSON.stringify(args ?? {})));
  if (answer.ok !== undefined) answer.ok = await layout(answer.ok);
  return answer;
}

async function playSlice() {
  if (!playing) return;
  let answer;
  try {
    answer = await call("pg_play", { ms: playMs });
  } catch (err) {
    answer = { error: `internal error: ${err && err.message ? err.message : err}` };
  }
  if (answer.error !== undefined) {
    playing = false;
    postMessage({ type: "paused", error: answer.error });
    return;
  }
  if (answer.ok.diverged) playing = false;
  postMessage({ type: playing ? "frame" : "paused", ok: answer.ok });
  if (playing) setTimeout(playSlice, 0); // let pause and other requests in between slices
}

const ready = boot();
ready.then(
  (info) => postMessage({ type: "ready", ...info }),
  (err) => postMessage({ type: "failed", error: String(err && err.message ? err.message : err) }),
);

onmessage = async (event) => {
  const message = event.data;
  await ready;
  if (message.type === "play") {
    playMs = message.ms ?? playMs;
    if (!playing) {
      playing = true;
      playSlice();
    }
  } else if (message.type === "pause") {
    playing = false;
    postMessage({ type: "paused" });
  } else if (message.type === "call") {
    try {
      postMessage({ type: "result", id: message.id, ...(await call(message.name, message.args)) });
    } catch (err) {
      postMessage({ type: "result", id: message.id, error: `internal error: ${err && err.message ? err.message : err}` });
    }
  }
};
