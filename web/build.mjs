// Builds the static site into dist/: the pages, the Python runtime (Pyodide),
// Graphviz in WebAssembly (viz.js) and the wheels of chainrule, graphviz and tqdm.
// Only the files the pages load are copied. Run with `npm run build` after `npm ci`.
//
// The Python used to build chainrule's wheel and fetch the other two is
// $PYTHON, else `python`, else `python3`.

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const web = dirname(fileURLToPath(import.meta.url));
const root = dirname(web);
const dist = join(web, "dist");
const modules = join(web, "node_modules");
const pkg = JSON.parse(readFileSync(join(web, "package.json"), "utf8"));

// The Pyodide runtime: the loader, the interpreter (JS glue + WebAssembly), the
// standard library and the lock file loadPyodide reads. No other package is loaded.
const PYODIDE_FILES = ["pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"];
// chainrule's sources that go into its wheel
const PROJECT_FILES = ["pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "autograd", "nn", "chainrule"];

function python() {
  const candidates = [process.env.PYTHON, "python", "python3"].filter(Boolean);
  for (const exe of candidates) {
    try {
      execFileSync(exe, ["-c", "import sys; assert sys.version_info >= (3, 10)"], { stdio: "ignore" });
      return exe;
    } catch {
      // try the next one
    }
  }
  throw new Error(`no Python 3.10 or newer found (tried ${candidates.join(", ")}); set PYTHON=/path/to/python`);
}

function run(exe, args, options = {}) {
  console.log(`  $ ${exe} ${args.join(" ")}`);
  execFileSync(exe, args, { stdio: ["ignore", "inherit", "inherit"], ...options });
}

function copy(from, to) {
  if (!existsSync(from)) {
    throw new Error(`${relative(web, from)} is missing: run \`npm ci\` in web/ first`);
  }
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
}

function ignoredSource(path) {
  return /(__pycache__|\.pyc$|\.egg-info|\.pytest_cache)/.test(path);
}

function buildWheels(py, into) {
  // chainrule's own wheel, built from a copy of the sources so the checkout gains no build/ folder
  const scratch = mkdtempSync(join(tmpdir(), "chainrule-wheel-"));
  try {
    for (const name of PROJECT_FILES) {
      cpSync(join(root, name), join(scratch, name), { recursive: true, filter: (p) => !ignoredSource(p) });
    }
    run(py, ["-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", into, scratch]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  // its pure-Python dependencies, pinned in package.json ("pythonWheels")
  run(py, ["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", into, ...pkg.pythonWheels]);
  const wheels = readdirSync(into).filter((f) => f.endsWith(".whl")).sort();
  for (const requirement of pkg.pythonWheels) {
    const name = requirement.split("==")[0].toLowerCase();
    if (!wheels.some((w) => w.toLowerCase().startsWith(`${name}-`))) {
      throw new Error(`pip did not fetch a wheel for ${requirement}`);
    }
  }
  return wheels;
}

function sizeOf(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.size;
  return readdirSync(path).reduce((total, name) => total + sizeOf(join(path, name)), 0);
}

function main() {
  const started = Date.now();
  const py = python();
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });

  console.log("pages");
  copy(join(web, "src"), dist);

  console.log("Pyodide runtime");
  for (const file of PYODIDE_FILES) copy(join(modules, "pyodide", file), join(dist, "pyodide", file));

  console.log("viz.js (Graphviz in WebAssembly)");
  copy(join(modules, "@viz-js", "viz", "dist", "viz.js"), join(dist, "viz", "viz.js"));

  console.log("wheels");
  const wheels = buildWheels(py, join(dist, "wheels"));

  const versions = {
    pyodide: JSON.parse(readFileSync(join(modules, "pyodide", "package.json"), "utf8")).version,
    viz: JSON.parse(readFileSync(join(modules, "@viz-js", "viz", "package.json"), "utf8")).version,
  };
  // the worker reads which wheels to unpack from here
  writeFileSync(join(dist, "build.json"), `${JSON.stringify({ versions, wheels }, null, 1)}\n`);

  const megabytes = (sizeOf(dist) / 1e6).toFixed(1);
  console.log(`built dist/ (${megabytes} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log("serve it with: python -m http.server -d dist 8000, then open http://127.0.0.1:8000/");
}

main();
