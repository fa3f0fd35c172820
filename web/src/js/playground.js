// The playground page: controls, the decision boundary, the network diagram, the loss curves
// and one neuron's backward pass. Every number comes from nn.Playground in the worker.

import { BLUE, css, fit, heatmap, lossChart, points, projector, RED } from "./draw.js";
import { Engine, fmt, graphCaption, markedEdges, num, showSvg, timings } from "./engine.js";
import { encodeState, parseHash, settingsHash } from "./share.js";

const $ = (id) => document.getElementById(id);
const PLAY_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M8 5v14l11-7z"/></svg>';
const PAUSE_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 5h4v14H6zm8 0h4v14h-4z"/></svg>';
const engine = new Engine();
const state = {
  options: null,
  settings: null,
  view: null,
  data: { train: [], test: [] },
  train: [], // training loss per epoch
  test: [], // test loss per epoch
  playing: false,
  frame: null, // the shown frame of the neuron's backward pass
  shape: "", // the network's shape the diagram was built for
};
Object.assign(globalThis.chainrule, { engine, state }); // for the browser tests and the curious

// ----------------------------------------------------------------------
// Messages
// ----------------------------------------------------------------------
function say(text) {
  const box = $("message");
  box.textContent = text;
  box.hidden = !text;
}

function status(text) {
  $("status").textContent = text;
}

/** Ask the bridge; a learner's mistake is shown as one message and gives null. */
async function ask(name, args) {
  const answer = await engine.call(name, args);
  if (answer.error !== undefined) {
    say(answer.error);
    return null;
  }
  return answer.ok;
}

// ----------------------------------------------------------------------
// Controls
// ----------------------------------------------------------------------
function fillSelect(select, choices, value) {
  select.innerHTML = "";
  const known = choices.some(([, v]) => String(v) === String(value));
  const all = known || value === undefined ? choices : [...choices, [String(value), value]];
  for (const [label, v] of all) {
    const option = document.createElement("option");
    option.value = String(v);
    option.textContent = label;
    select.append(option);
  }
  select.value = String(value);
}

function showSettings(s) {
  const o = state.options;
  fillSelect($("learning_rate"), o.learning_rates.map((v) => [String(v), v]), s.learning_rate);
  fillSelect($("activation"), o.activations.map((v) => [v.replace("_", " "), v]), s.activation);
  fillSelect($("optimizer"), o.optimizers.map((v) => [v === "sgd" ? "SGD" : "Adam", v]), s.optimizer);
  fillSelect($("regularization"), o.regularizations.map((v) => [v === "none" ? "none" : v.toUpperCase(), v]),
    s.regularization);
  fillSelect($("regularization_rate"), o.regularization_rates.map((v) => [String(v), v]), s.regularization_rate);
  fillSelect($("batch_size"), o.batch_sizes.map(([label, v]) => [label, v]), s.batch_size ?? 0);
  fillSelect($("n_samples"), o.sample_counts.map((v) => [String(v), v]), s.n_samples);
  $("train_ratio").value = s.train_ratio;
  $("train_ratio-value").textContent = `${Math.round(s.train_ratio * 100)}%`;
  $("noise").value = s.noise;
  $("noise-value").textContent = String(s.noise);
  $("seed").value = s.seed;
  for (const tile of document.querySelectorAll(".dataset")) {
    tile.classList.toggle("selected", tile.dataset.name === s.dataset);
    tile.setAttribute("aria-pressed", String(tile.dataset.name === s.dataset));
  }
  const layers = s.hidden.length;
  $("layer-count").textContent = `${layers} hidden layer${layers === 1 ? "" : "s"}`;
  $("remove-layer").disabled = layers === 0;
  $("add-layer").disabled = layers >= o.max_hidden_layers;
}

function datasetTiles() {
  const holder = $("datasets");
  for (const name of state.options.datasets) {
    const tile = document.createElement("button");
    tile.className = "dataset";
    tile.dataset.name = name;
    tile.title = name;
    tile.setAttribute("aria-label", `data set ${name}`);
    const canvas = document.createElement("canvas");
    tile.append(canvas);
    const label = document.createElement("span");
    label.textContent = name;
    tile.append(label);
    holder.append(tile);
    const pts = state.options.previews[name];
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const pad = 0.15;
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const extent = [x0 - (x1 - x0) * pad, x1 + (x1 - x0) * pad, y0 - (y1 - y0) * pad, y1 + (y1 - y0) * pad];
    const ctx = fit(canvas, 52, 52);
    ctx.fillStyle = "#fafafa";
    ctx.fillRect(0, 0, 52, 52);
    points(ctx, pts, projector(extent, 52, 52), { radius: 1.8 });
    tile.addEventListener("click", () => change({ dataset: name }));
  }
}

async function change(changes) {
  say("");
  const view = await ask("pg_set", { changes });
  if (!view) {
    showSettings(state.settings); // put the controls back as they were
    return;
  }
  show(view);
  if (view.data && !state.playing) showFrame(0); // a new network: its first neuron
}

function wireControls() {
  const numberOf = (id) => Number($(id).value);
  $("learning_rate").addEventListener("change", () => change({ learning_rate: numberOf("learning_rate") }));
  $("activation").addEventListener("change", () => change({ activation: $("activation").value }));
  $("optimizer").addEventListener("change", () => change({ optimizer: $("optimizer").value }));
  $("regularization").addEventListener("change", () => change({ regularization: $("regularization").value }));
  $("regularization_rate").addEventListener("change",
    () => change({ regularization_rate: numberOf("regularization_rate") }));
  $("batch_size").addEventListener("change", () => change({ batch_size: numberOf("batch_size") || null }));
  $("n_samples").addEventListener("change", () => change({ n_samples: numberOf("n_samples") }));
  $("train_ratio").addEventListener("input",
    () => { $("train_ratio-value").textContent = `${Math.round(numberOf("train_ratio") * 100)}%`; });
  $("train_ratio").addEventListener("change", () => change({ train_ratio: numberOf("train_ratio") }));
  $("noise").addEventListener("input", () => { $("noise-value").textContent = $("noise").value; });
  $("noise").addEventListener("change", () => change({ noise: numberOf("noise") }));
  $("seed").addEventListener("change", () => change({ seed: Math.trunc(numberOf("seed")) }));
  $("new-seed").addEventListener("click", () => change({ seed: Math.floor(Math.random() * 1e6) }));
  $("add-layer").addEventListener("click", () => change({ hidden: [...state.settings.hidden, 2] }));
  $("remove-layer").addEventListener("click", () => change({ hidden: state.settings.hidden.slice(0, -1) }));
  $("reset").addEventListener("click", async () => {
    if (state.playing) pause();
    say("");
    const view = await ask("pg_reset");
    if (view) show(view);
    showFrame(0);
  });
  $("play").addEventListener("click", () => (state.playing ? pause() : play()));
  $("epoch-button").addEventListener("click", async () => {
    if (state.playing) pause();
    const view = await ask("pg_step", { epochs: 1 });
    if (view) show(view);
    showFrame(state.frame ? state.frame.index : 0);
  });
  $("show-test").addEventListener("change", () => drawBoundary());
  $("boundary").addEventListener("click", pickPoint);
  $("prev-point").addEventListener("click", () => choosePoint(-1));
  $("next-point").addEventListener("click", () => choosePoint(+1));
  $("first-step").addEventListener("click", () => showFrame(0));
  $("prev-step").addEventListener("click", () => showFrame(state.frame.index - 1));
  $("next-step").addEventListener("click", () => showFrame(state.frame.index + 1));
  $("last-step").addEventListener("click", () => showFrame(state.frame.total));
  $("share").addEventListener("click", share);
  $("save").addEventListener("click", save);
  $("load").addEventListener("change", load);
  window.addEventListener("hashchange", () => start());
}

// ----------------------------------------------------------------------
// Playing
// ----------------------------------------------------------------------
function play() {
  state.playing = true;
  $("play").innerHTML = PAUSE_ICON;
  $("play").setAttribute("aria-label", "pause");
  $("play").classList.add("playing");
  engine.play(80);
}

function pause() {
  state.playing = false;
  $("play").innerHTML = PLAY_ICON;
  $("play").setAttribute("aria-label", "play");
  $("play").classList.remove("playing");
  engine.pause();
}

let neuronShown = 0; // when the neuron's graph was last redrawn while playing
engine.onFrame = (view) => {
  globalThis.chainrule.frames += 1;
  show(view);
  if (performance.now() - neuronShown > 1000) { // the neuron's graph follows the training, once a second
    neuronShown = performance.now();
    showFrame(state.frame ? state.frame.index : 0);
  }
};
engine.onPaused = (view, error) => {
  globalThis.chainrule.pauses = (globalThis.chainrule.pauses ?? 0) + 1;
  if (error) say(error);
  if (view) {
    show(view);
    if (view.diverged) say("The loss became nan or inf: lower the learning rate, then press reset.");
  }
  if (state.playing) pause();
  showFrame(state.frame ? state.frame.index : 0);
};

// ----------------------------------------------------------------------
// Views
// ----------------------------------------------------------------------
function show(view) {
  state.view = view;
  if (view.data) state.data = view.data;
  if (view.loss_from === 0) {
    state.train = [];
    state.test = [];
  }
  state.train.splice(view.loss_from, Infinity, ...view.train_loss);
  state.test.splice(view.loss_from, Infinity, ...view.test_loss);
  if (JSON.stringify(view.settings) !== JSON.stringify(state.settings)) {
    state.settings = view.settings;
    showSettings(view.settings);
    history.replaceState(null, "", `#${settingsHash(view.settings)}`);
  }
  $("epoch").textContent = String(view.epoch).padStart(6, "0").replace(/(\d{3})$/, ",$1");
  $("train-loss").textContent = fmt(state.train.at(-1), 3);
  $("test-loss").textContent = fmt(state.test.at(-1), 3);
  $("test-accuracy").textContent = `${Math.round(num(view.test_accuracy) * 100)}%`;
  lossChart(fit($("loss-chart"), 300, 70), state.train, state.test, 300, 70);
  drawBoundary();
  drawNetwork();
  if (timings.firstPicture === null) timings.firstPicture = performance.now();
}

function drawBoundary() {
  const view = state.view;
  if (!view) return;
  const size = 300;
  const ctx = fit($("boundary"), size, size);
  heatmap(ctx, view.boundary.p, (p) => 2 * p - 1, size, size, 0.35);
  const project = projector(view.extent, size, size);
  points(ctx, state.data.train, project);
  if ($("show-test").checked) points(ctx, state.data.test, project, { test: true });
  const chosen = state.data.train[view.selected.point];
  if (chosen) {
    ctx.beginPath();
    ctx.arc(project.x(chosen[0]), project.y(chosen[1]), 7.5, 0, 2 * Math.PI);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = "#f2b705";
    ctx.stroke();
  }
}

const NODE = 38; // a neuron's picture, in CSS pixels
const GAP = 56; // vertical distance between neurons
const HEAD = 36; // room for the layers' + and - buttons

function diagramHeight(sizes) {
  return HEAD + Math.max(5, ...sizes) * GAP + 8;
}

function layerSizes() {
  return [2, ...state.settings.hidden, 1];
}

function nodeCentre(column, index, sizes, width) {
  const columns = sizes.length;
  const x = 28 + ((width - 56) * column) / (columns - 1);
  const top = HEAD + (diagramHeight(sizes) - HEAD - sizes[column] * GAP) / 2;
  return { x, y: top + index * GAP + GAP / 2 };
}

function buildDiagram() {
  const holder = $("diagram");
  holder.innerHTML = "";
  const sizes = layerSizes();
  const width = holder.clientWidth || 440;
  const height = diagramHeight(sizes);
  holder.style.height = `${height}px`;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "edges");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  holder.append(svg);
  sizes.forEach((count, column) => {
    const { x } = nodeCentre(column, 0, sizes, width);
    const head = document.createElement("div");
    head.className = "layer-head";
    head.style.left = `${x}px`;
    if (column === 0) head.textContent = "inputs";
    else if (column === sizes.length - 1) head.textContent = "output";
    else {
      const li = column - 1;
      head.innerHTML = `<button class="small" aria-label="fewer neurons in layer ${column}">−</button>`
        + `<span>${count}</span><button class="small" aria-label="more neurons in layer ${column}">+</button>`;
      const [less, more] = head.querySelectorAll("button");
      less.disabled = count <= 1;
      more.disabled = count >= state.options.max_width;
      const resize = (by) => {
        const hidden = [...state.settings.hidden];
        hidden[li] += by;
        change({ hidden });
      };
      less.addEventListener("click", () => resize(-1));
      more.addEventListener("click", () => resize(+1));
    }
    holder.append(head);
    for (let k = 0; k < count; k++) {
      const { x: cx, y: cy } = nodeCentre(column, k, sizes, width);
      const node = document.createElement(column === 0 ? "div" : "button");
      node.className = column === 0 ? "neuron input" : "neuron";
      node.style.left = `${cx - NODE / 2}px`;
      node.style.top = `${cy - NODE / 2}px`;
      node.dataset.column = column;
      node.dataset.index = k;
      const canvas = document.createElement("canvas");
      node.append(canvas);
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = column === 0 ? `x${k + 1}` : column === sizes.length - 1 ? "out" : `h${column}.${k + 1}`;
      node.append(tag);
      if (column > 0) {
        node.setAttribute("aria-label", `look inside ${tag.textContent}`);
        node.addEventListener("click", () => chooseNeuron(column - 1, k));
      }
      holder.append(node);
    }
  });
  state.shape = JSON.stringify(sizes);
  state.diagramWidth = width;
}

function drawNetwork() {
  const view = state.view;
  const sizes = layerSizes();
  if (state.shape !== JSON.stringify(sizes)) buildDiagram();
  const holder = $("diagram");
  const width = state.diagramWidth;
  // weights as lines: colour by sign, width by size
  const svg = holder.querySelector("svg.edges");
  const lines = [];
  view.layers.forEach((layer, li) => {
    layer.forEach((neuron, k) => {
      const to = nodeCentre(li + 1, k, sizes, width);
      neuron.w.forEach((w, j) => {
        const from = nodeCentre(li, j, sizes, width);
        const x0 = from.x + NODE / 2;
        const x1 = to.x - NODE / 2;
        const mid = (x0 + x1) / 2;
        const weight = num(w);
        const strength = Number.isFinite(weight) ? Math.min(Math.abs(weight), 4) : 4;
        const colour = css(weight >= 0 ? BLUE : RED, 0.25 + 0.65 * Math.min(strength / 2, 1));
        lines.push(`<path d="M${x0},${from.y} C${mid},${from.y} ${mid},${to.y} ${x1},${to.y}" `
          + `stroke="${colour}" stroke-width="${(0.6 + strength * 1.6).toFixed(2)}" fill="none">`
          + `<title>w = ${fmt(w)}</title></path>`);
      });
    });
  });
  svg.innerHTML = lines.join("");
  // the pictures: inputs (x1, x2 themselves), hidden neurons, output (the boundary)
  const { xs, ys, grids } = view.neurons;
  const reach = Math.max(...xs.map(Math.abs), ...ys.map(Math.abs)) || 1;
  const inputGrid = (d) => ys.map((y) => xs.map((x) => (d === 0 ? x : y)));
  const activation = state.settings.activation;
  let spread = 1e-9;
  for (const layer of grids) for (const g of layer) for (const row of g) for (const v of row) {
    const x = Math.abs(num(v));
    if (Number.isFinite(x)) spread = Math.max(spread, x);
  }
  const unit = activation === "tanh" ? (v) => v : activation === "sigmoid" ? (v) => 2 * v - 1 : (v) => v / spread;
  const selected = view.selected;
  for (const node of holder.querySelectorAll(".neuron")) {
    const column = Number(node.dataset.column);
    const k = Number(node.dataset.index);
    const ctx = fit(node.querySelector("canvas"), NODE, NODE);
    if (column === 0) heatmap(ctx, inputGrid(k), (v) => v / reach, NODE, NODE);
    else if (column === sizes.length - 1) heatmap(ctx, view.boundary.p, (p) => 2 * p - 1, NODE, NODE);
    else heatmap(ctx, grids[column - 1][k], unit, NODE, NODE);
    node.classList.toggle("selected", column > 0 && selected.layer === column - 1 && selected.neuron === k);
    if (column > 0) node.title = `${node.querySelector(".tag").textContent}: bias ${fmt(view.layers[column - 1][k].b)}`;
  }
}

// ----------------------------------------------------------------------
// Inside one neuron: its backward pass, step by step
// ----------------------------------------------------------------------
function neuronName(layer, neuron) {
  return layer === state.settings.hidden.length ? "out (the output neuron)" : `h${layer + 1}.${neuron + 1}`;
}

function showEngine(frame) {
  state.frame = frame;
  const svg = showSvg($("neuron-graph"), frame.svg);
  $("step-caption").textContent = svg ? graphCaption(svg) : "";
  $("neuron-graph").dataset.marked = svg ? markedEdges(svg) : "";
  $("neuron-graph").dataset.index = frame.index;
  const { layer, neuron, point } = frame.selected;
  $("chosen-neuron").textContent = neuronName(layer, neuron);
  const p = state.data.train[point];
  $("chosen-point").textContent = p ? `#${point} (${fmt(p[0], 3)}, ${fmt(p[1], 3)}), class ${p[2]}` : `#${point}`;
  $("step-count").textContent = frame.index === 0
    ? `${frame.total} chain-rule steps to go`
    : frame.index === frame.total
      ? `step ${frame.index} of ${frame.total}: done — these are the grads backward() gives`
      : `step ${frame.index} of ${frame.total}`;
  $("first-step").disabled = $("prev-step").disabled = frame.index === 0;
  $("next-step").disabled = $("last-step").disabled = frame.index === frame.total;
  if (state.view) {
    state.view.selected = frame.selected;
    drawBoundary();
    for (const node of $("diagram").querySelectorAll(".neuron")) {
      const column = Number(node.dataset.column);
      node.classList.toggle("selected", column > 0 && layer === column - 1 && neuron === Number(node.dataset.index));
    }
  }
}

/** Frame `index` of the chosen neuron's backward pass (redrawn for the current weights). */
async function showFrame(index) {
  const frame = await ask("pg_frame", { index });
  if (frame) showEngine(frame);
}

async function chooseNeuron(layer, neuron) {
  const frame = await ask("pg_select", { layer, neuron });
  if (frame) showEngine(frame);
  document.querySelector(".engine").scrollIntoView({ behavior: "smooth", block: "nearest" });
}

async function choosePoint(by) {
  const n = state.data.train.length;
  const point = (((state.view.selected.point + by) % n) + n) % n;
  const frame = await ask("pg_select", { point });
  if (frame) showEngine(frame);
}

async function pickPoint(event) {
  const view = state.view;
  if (!view) return;
  const box = $("boundary").getBoundingClientRect();
  const project = projector(view.extent, box.width, box.height);
  const px = event.clientX - box.left;
  const py = event.clientY - box.top;
  let best = -1;
  let bestDistance = 14 ** 2;
  state.data.train.forEach(([a, b], i) => {
    const d = (project.x(a) - px) ** 2 + (project.y(b) - py) ** 2;
    if (d < bestDistance) {
      best = i;
      bestDistance = d;
    }
  });
  if (best < 0) return;
  const frame = await ask("pg_select", { point: best });
  if (frame) showEngine(frame);
}

// ----------------------------------------------------------------------
// Sharing, saving, loading
// ----------------------------------------------------------------------
async function share() {
  let hash = settingsHash(state.settings);
  if ($("share-weights").checked) {
    const saved = await ask("pg_save");
    if (!saved) return;
    hash += `&state=${await encodeState(saved.json)}`;
  }
  const url = `${location.origin}${location.pathname}#${hash}`;
  $("share-url").value = url;
  $("share-url").select();
  try {
    await navigator.clipboard.writeText(url);
    status("Link copied: it opens this playground exactly as it is set up now.");
  } catch {
    status("Copy the link from the box below the button.");
  }
}

async function save() {
  const saved = await ask("pg_save");
  if (!saved) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([saved.json], { type: "application/json" }));
  link.download = "playground.json";
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function load(event) {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  if (state.playing) pause();
  say("");
  const view = await ask("pg_load", { text: await file.text() });
  if (view) {
    show(view);
    showFrame(0);
    status(`Loaded ${file.name}: epoch ${view.epoch}.`);
  }
}

// ----------------------------------------------------------------------
// Start
// ----------------------------------------------------------------------
async function start() {
  if (state.playing) pause();
  say("");
  const { settings, stateText, problem } = await parseHash(location.hash);
  let view = null;
  if (problem) say(problem);
  else if (stateText) view = await ask("pg_init", { state: stateText });
  else view = await ask("pg_init", { settings });
  if (!view) view = await ask("pg_init", { settings: {} }); // the message says what was wrong
  state.settings = null;
  show(view);
  showFrame(0);
}

async function main() {
  wireControls();
  let info;
  try {
    info = await engine.ready;
  } catch (err) {
    status(`Python could not start: ${err.message}`);
    return;
  }
  status(`chainrule on Python ${info.python} (Pyodide ${info.versions.pyodide}), ready in `
    + `${(timings.pythonReady / 1000).toFixed(1)} s`);
  state.options = await ask("pg_options");
  datasetTiles();
  await start();
  document.body.classList.add("ready");
}

main();

