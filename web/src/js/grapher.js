// The expression grapher: an expression as `chainrule graph` takes it, its value, every input's
// gradient, and its graph stepped through backward. Parsing, values and gradients all come from
// chainrule (chainrule.expr and autograd) in the worker.

import { Engine, fmt, graphCaption, markedEdges, showSvg, timings } from "./engine.js";

const $ = (id) => document.getElementById(id);
const engine = new Engine();
const DEFAULT = { expression: "tanh(x1*w1 + x2*w2 + b)", values: { x1: 2, w1: -3, x2: 0, w2: 1, b: 6.8813735870195432 } };
const state = { values: {}, names: [], frame: null, pending: 0 };
Object.assign(globalThis.chainrule, { engine, state }); // for the browser tests and the curious

function say(text) {
  $("message").textContent = text;
  $("message").hidden = !text;
  $("expression").classList.toggle("bad", Boolean(text));
  for (const id of ["graph", "values", "result", "step-caption"]) $(id).classList.toggle("stale", Boolean(text));
  for (const button of document.querySelectorAll(".stepper button")) {
    button.disabled = Boolean(text) || (state.frame !== null && (button.id.includes("next") || button.id.includes("last")
      ? state.frame.index === state.frame.total : state.frame.index === 0));
  }
}

function fromHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (!params.has("expr")) return DEFAULT;
  const values = {};
  for (const [name, text] of params) if (name !== "expr") values[name] = Number(text);
  return { expression: params.get("expr"), values };
}

function toHash() {
  const params = new URLSearchParams({ expr: $("expression").value });
  for (const name of state.names) params.set(name, String(state.values[name]));
  history.replaceState(null, "", `#${params.toString()}`);
}

function valueRows(names, grads = {}) {
  const body = $("values");
  const same = names.length === body.rows.length && names.every((n, i) => body.rows[i].dataset.name === n);
  if (!same) {
    body.innerHTML = "";
    for (const name of names) {
      const row = body.insertRow();
      row.dataset.name = name;
      row.insertCell().outerHTML = `<td class="name"></td>`;
      row.cells[0].textContent = name;
      const input = document.createElement("input");
      input.type = "number";
      input.step = "any";
      input.value = String(state.values[name]);
      input.setAttribute("aria-label", `value of ${name}`);
      input.addEventListener("input", () => {
        if (input.value.trim() === "" || !Number.isFinite(Number(input.value))) return;
        state.values[name] = Number(input.value);
        update();
      });
      row.insertCell().append(input);
      const grad = row.insertCell();
      grad.className = "grad";
    }
  }
  for (const row of body.rows) {
    const cell = row.cells[2];
    const g = grads[row.dataset.name];
    cell.textContent = g === undefined ? "" : fmt(g, 6);
    cell.dataset.value = g === undefined ? "" : String(g);
  }
}

function showFrameData(frame) {
  state.frame = frame;
  const svg = showSvg($("graph"), frame.svg);
  $("step-caption").textContent = svg ? graphCaption(svg) : "";
  $("graph").dataset.marked = svg ? markedEdges(svg) : "";
  $("graph").dataset.index = frame.index;
  $("step-count").textContent = frame.index === 0 ? `${frame.total} chain-rule steps to go`
    : `step ${frame.index} of ${frame.total}${frame.index === frame.total ? ": done" : ""}`;
  $("first-step").disabled = $("prev-step").disabled = frame.index === 0;
  $("next-step").disabled = $("last-step").disabled = frame.index === frame.total;
}

async function update() {
  const ticket = ++state.pending;
  const text = $("expression").value;
  const names = await engine.call("expr_names", { text });
  if (ticket !== state.pending) return; // a newer keystroke won
  if (names.error !== undefined) {
    say(names.error);
    return;
  }
  for (const name of names.ok.names) if (!(name in state.values)) state.values[name] = 1.0;
  state.names = names.ok.names;
  const values = Object.fromEntries(state.names.map((n) => [n, state.values[n]]));
  const answer = await engine.call("expr_graph", { text, values, color_grad: $("color-grad").checked });
  if (ticket !== state.pending) return;
  if (answer.error !== undefined) {
    say(answer.error);
    return;
  }
  say("");
  const result = answer.ok;
  valueRows(result.names, result.grads);
  $("result").textContent = `out = ${fmt(result.value, 10)}`;
  $("result").dataset.value = String(result.value);
  showFrameData(result);
  toHash();
  if (timings.firstPicture === null) timings.firstPicture = performance.now();
}

async function step(index) {
  const answer = await engine.call("expr_frame", { index });
  if (answer.error !== undefined) say(answer.error);
  else showFrameData(answer.ok);
}

async function main() {
  const start = fromHash();
  $("expression").value = start.expression;
  state.values = { ...start.values };
  let timer = null;
  $("expression").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
  $("color-grad").addEventListener("change", update);
  $("first-step").addEventListener("click", () => step(0));
  $("prev-step").addEventListener("click", () => step(state.frame.index - 1));
  $("next-step").addEventListener("click", () => step(state.frame.index + 1));
  $("last-step").addEventListener("click", () => step(state.frame.total));
  let info;
  try {
    info = await engine.ready;
  } catch (err) {
    $("status").textContent = `Python could not start: ${err.message}`;
    return;
  }
  $("status").textContent = `chainrule on Python ${info.python} (Pyodide ${info.versions.pyodide}), ready in `
    + `${(timings.pythonReady / 1000).toFixed(1)} s`;
  await update();
  document.body.classList.add("ready");
}

main();
