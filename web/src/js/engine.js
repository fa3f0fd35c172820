// The page's side of the Web Worker that runs chainrule (see worker.js).
// call(name, args) resolves to the bridge's answer: {ok: ...} or {error: "message"}.

export const timings = { pythonReady: null, firstPicture: null };
// the page's measurements, for anyone who asks (the tests read them)
globalThis.chainrule = { timings, frames: 0 };

export class Engine {
  constructor() {
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    this.pending = new Map();
    this.nextId = 1;
    this.onFrame = () => {};
    this.onPaused = () => {};
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = (event) => {
        const message = event.data;
        if (message.type === "ready") {
          timings.pythonReady = performance.now();
          globalThis.chainrule.info = message;
          resolve(message);
        } else if (message.type === "failed") {
          reject(new Error(message.error));
        } else if (message.type === "result") {
          const done = this.pending.get(message.id);
          this.pending.delete(message.id);
          if (done) done(message);
        } else if (message.type === "frame") {
          this.onFrame(message.ok);
        } else if (message.type === "paused") {
          this.onPaused(message.ok, message.error);
        }
      };
      this.worker.onerror = (event) => reject(new Error(event.message || "the worker failed to start"));
    });
  }

  /** Ask the bridge: resolves to {ok} or {error}. */
  async call(name, args = {}) {
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ type: "call", id, name, args });
    });
  }

  play(ms) {
    this.worker.postMessage({ type: "play", ms });
  }

  pause() {
    this.worker.postMessage({ type: "pause" });
  }
}

/** A number the bridge sent: non-finite ones arrive as the text "nan", "inf" or "-inf". */
export function num(value) {
  if (typeof value === "number") return value;
  if (value === "inf") return Infinity;
  if (value === "-inf") return -Infinity;
  return NaN;
}

/** A number for people: 4 significant digits, as the graphs print them. */
export function fmt(value, digits = 4) {
  const x = num(value);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return "0";
  const abs = Math.abs(x);
  if (abs >= 1e-4 && abs < 1e6) return String(Number(x.toPrecision(digits)));
  return x.toExponential(digits - 1).replace(/\.?0+e/, "e");
}

/** The caption viz.js drew at the top of a graph (the graph's own label), as plain text. */
export function graphCaption(svgElement) {
  const group = svgElement.querySelector("g.graph");
  if (!group) return "";
  return [...group.children].filter((el) => el.tagName === "text").map((el) => el.textContent).join(" ");
}

/** The edges drawn in red (the chain-rule step just applied), as "tail->head" texts joined by spaces. */
export function markedEdges(svgElement) {
  const marked = [];
  for (const edge of svgElement.querySelectorAll("g.edge")) {
    const path = edge.querySelector("path");
    if (path && path.getAttribute("stroke") === "red") marked.push(edge.querySelector("title")?.textContent ?? "");
  }
  return marked.join(" ");
}

/** Put viz.js's SVG text into `holder`: as wide as the holder, never much smaller than drawn; returns the <svg>. */
export function showSvg(holder, svgText) {
  holder.innerHTML = svgText;
  const svg = holder.querySelector("svg");
  if (svg) {
    const width = parseFloat(svg.getAttribute("width"));
    const height = parseFloat(svg.getAttribute("height"));
    svg.setAttribute("viewBox", svg.getAttribute("viewBox") || `0 0 ${width} ${height}`);
    svg.style.minWidth = `${Math.round(width * 0.8)}px`; // wider graphs scroll rather than shrink to unreadable
    svg.style.maxWidth = `${Math.round(width * 1.3)}px`;
    svg.removeAttribute("width");
    svg.removeAttribute("height");
  }
  return svg;
}
