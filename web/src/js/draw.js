// Pictures on canvas from numbers chainrule computed: colour scales, heat maps, points, curves.
// Nothing here computes a model's output; it only maps numbers to pixels.

import { num } from "./engine.js";

export const RED = [215, 48, 31]; // class 0, negative (as nn.playground draws them)
export const BLUE = [43, 108, 176]; // class 1, positive
const MIDDLE = [246, 246, 244];

/** Colour for t in [-1, 1]: red through a pale grey to blue; `light` mixes in white (backgrounds). */
export function diverging(t, light = 0) {
  let x = num(t);
  if (Number.isNaN(x)) return [140, 140, 140];
  x = Math.max(-1, Math.min(1, x));
  const end = x < 0 ? RED : BLUE;
  const a = Math.abs(x);
  return [0, 1, 2].map((c) => {
    const v = MIDDLE[c] + (end[c] - MIDDLE[c]) * a;
    return Math.round(v + (255 - v) * light);
  });
}

export const css = ([r, g, b], alpha = 1) => `rgba(${r}, ${g}, ${b}, ${alpha})`;

/** Size a canvas for the screen's pixel density; returns its 2-D context in CSS pixels. */
export function fit(canvas, width, height) {
  const ratio = Math.min(window.devicePixelRatio || 1, 2);
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

const scratch = document.createElement("canvas");

/**
 * A grid of values as a smooth picture: grid[i][j] sits at (xs[j], ys[i]), ys growing upwards.
 * `toUnit(v)` maps a value to [-1, 1]. The cell centres land on the grid's points.
 */
export function heatmap(ctx, grid, toUnit, width, height, light = 0) {
  const rows = grid.length;
  const cols = grid[0].length;
  scratch.width = cols;
  scratch.height = rows;
  const sctx = scratch.getContext("2d");
  const image = sctx.createImageData(cols, rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const [r, g, b] = diverging(toUnit(num(grid[i][j])), light);
      const at = ((rows - 1 - i) * cols + j) * 4;
      image.data[at] = r;
      image.data[at + 1] = g;
      image.data[at + 2] = b;
      image.data[at + 3] = 255;
    }
  }
  sctx.putImageData(image, 0, 0);
  const cellW = width / (cols - 1);
  const cellH = height / (rows - 1);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, width, height);
  ctx.clip();
  ctx.drawImage(scratch, -cellW / 2, -cellH / 2, width + cellW, height + cellH);
  ctx.restore();
}

/** Map data coordinates to canvas pixels over `extent` = [x0, x1, y0, y1]. */
export function projector(extent, width, height) {
  const [x0, x1, y0, y1] = extent.map(num);
  return {
    x: (x) => ((x - x0) / (x1 - x0)) * width,
    y: (y) => height - ((y - y0) / (y1 - y0)) * height,
  };
}

/** Points [x1, x2, label]: filled with their class colour; test points get a dark ring. */
export function points(ctx, pts, project, { radius = 3.2, test = false } = {}) {
  for (const [a, b, label] of pts) {
    ctx.beginPath();
    ctx.arc(project.x(a), project.y(b), radius, 0, 2 * Math.PI);
    ctx.fillStyle = css(label === 1 ? BLUE : RED);
    ctx.fill();
    ctx.lineWidth = test ? 1.4 : 1;
    ctx.strokeStyle = test ? "#111" : "#fff";
    ctx.stroke();
  }
}

/** Training (grey) and test (black) loss per epoch, on a shared linear scale from 0. */
export function lossChart(ctx, train, test, width, height) {
  ctx.clearRect(0, 0, width, height);
  const finite = [...train, ...test].map(num).filter(Number.isFinite);
  if (finite.length === 0) return;
  const top = Math.max(...finite) * 1.05 || 1;
  const n = Math.max(train.length, 2);
  ctx.strokeStyle = "#e3e3e3";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(0, height - 0.5);
  ctx.lineTo(width, height - 0.5);
  ctx.stroke();
  const curve = (values, color, lineWidth) => {
    ctx.beginPath();
    let drawing = false;
    values.forEach((v, i) => {
      const y = num(v);
      if (!Number.isFinite(y)) {
        drawing = false;
        return;
      }
      const px = (i / (n - 1)) * width;
      const py = height - 2 - (y / top) * (height - 4);
      if (drawing) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      drawing = true;
    });
    ctx.strokeStyle = color;
    ctx.lineWidth = lineWidth;
    ctx.stroke();
  };
  curve(train, "#9a9a9a", 1.6);
  curve(test, "#111", 1.6);
}
