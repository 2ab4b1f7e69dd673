// The playground's live pictures, drawn on canvases in the browser from the numbers the kernel sends.
// Shipped inside the Python package and loaded by anywidget; it fetches nothing from anywhere.
//
// The kernel sends, per frame: the boundary heatmap as RGB bytes (`grid`), each drawn neuron's output
// over the plane as bytes (`neurons`), and the rest as JSON (`frame`); what changes only with the data
// or the network comes in `setup`. After drawing a frame the page answers {type: "drawn"}, so the
// kernel never sends faster than the page draws (no queue builds up, and Pause stops what is shown).
// A click on the boundary picture is sent as {type: "click", x, y} in data coordinates.

const POSITIVE = "#2a6fdb", NEGATIVE = "#e8862a"; // a weight's sign: blue +, orange − (like classes 1 and 0)
const TRAIN = "#1f77b4", TEST = "#ff7f0e";
const SERIES = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
// RdBu in 13 steps (negative red, positive blue), for the neurons' outputs
const RDBU = [[103, 0, 31], [165, 20, 41], [202, 72, 66], [229, 130, 103], [247, 183, 153], [252, 224, 207],
  [247, 247, 247], [215, 232, 241], [167, 208, 228], [107, 172, 209], [56, 132, 187], [28, 93, 160], [5, 48, 97]];
const FONT = "12px system-ui, -apple-system, 'Segoe UI', sans-serif";
const SMALL = "11px system-ui, -apple-system, 'Segoe UI', sans-serif";

function bytes(view) {
  if (!view) return new Uint8Array(0);
  if (view instanceof Uint8Array) return view;
  if (view.buffer) return new Uint8Array(view.buffer, view.byteOffset || 0, view.byteLength);
  return new Uint8Array(view);
}

// ---- axes --------------------------------------------------------------------------------------
function niceTicks(lo, hi, count) {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / Math.max(count, 1), mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return ticks;
}

function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    const t = Math.pow(10, e);
    if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
  }
  return ticks;
}

function fmt(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

function setupCanvas(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

// A plot area: rect {x, y, w, h}, ranges, optional log y. Returns {px, py} mapping data to pixels.
function axes(ctx, rect, xr, yr, opts = {}) {
  const logy = !!opts.logy;
  const ty = (v) => (logy ? Math.log10(Math.max(v, 1e-300)) : v);
  const [y0, y1] = [ty(yr[0]), ty(yr[1])];
  const px = (v) => rect.x + ((v - xr[0]) / (xr[1] - xr[0] || 1)) * rect.w;
  const py = (v) => rect.y + rect.h - ((ty(v) - y0) / (y1 - y0 || 1)) * rect.h;
  ctx.save();
  ctx.strokeStyle = "#999";
  ctx.lineWidth = 1;
  ctx.strokeRect(rect.x + 0.5, rect.y + 0.5, rect.w, rect.h);
  ctx.fillStyle = "currentColor";
  ctx.fillStyle = opts.ink || "#333";
  ctx.font = SMALL;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of niceTicks(xr[0], xr[1], Math.max(2, Math.floor(rect.w / 60)))) {
    const x = px(t);
    ctx.fillRect(Math.round(x), rect.y + rect.h, 1, 4);
    ctx.fillText(fmt(t), x, rect.y + rect.h + 5);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const yt = logy ? logTicks(yr[0], yr[1]) : niceTicks(yr[0], yr[1], Math.max(2, Math.floor(rect.h / 40)));
  for (const t of yt) {
    const y = py(t);
    ctx.fillRect(rect.x - 4, Math.round(y), 4, 1);
    ctx.fillText(fmt(t), rect.x - 6, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "alphabetic";
  ctx.font = FONT;
  if (opts.title) ctx.fillText(opts.title, rect.x + rect.w / 2, rect.y - 7);
  if (opts.xlabel) { ctx.textBaseline = "bottom"; ctx.fillText(opts.xlabel, rect.x + rect.w / 2, rect.y + rect.h + 34); }
  if (opts.ylabel) {
    ctx.save();
    ctx.translate(rect.x - 44, rect.y + rect.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "top";
    ctx.fillText(opts.ylabel, 0, 0);
    ctx.restore();
  }
  ctx.restore();
  return { px, py };
}

function line(ctx, map, xs, ys, colour, rect, dashed) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(rect.x, rect.y, rect.w, rect.h);
  ctx.clip();
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.6;
  if (dashed) ctx.setLineDash([5, 3]);
  ctx.beginPath();
  let open = false;
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i];
    if (y === null || y === undefined || !isFinite(y)) { open = false; continue; }
    const X = map.px(xs[i]), Y = map.py(y);
    if (open) ctx.lineTo(X, Y); else { ctx.moveTo(X, Y); open = true; }
  }
  ctx.stroke();
  ctx.restore();
}

function legend(ctx, items, x, y) {
  ctx.save();
  ctx.font = SMALL;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  items.forEach(([label, colour, dashed], i) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.setLineDash(dashed ? [5, 3] : []);
    ctx.beginPath();
    ctx.moveTo(x, y + i * 15);
    ctx.lineTo(x + 16, y + i * 15);
    ctx.stroke();
    ctx.fillStyle = "#333";
    ctx.fillText(label, x + 20, y + i * 15);
  });
  ctx.restore();
}

function range(values, logy) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v === null || v === undefined || !isFinite(v) || (logy && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return logy ? [1e-3, 1] : [0, 1];
  if (logy) return [lo / 1.5, hi * 1.5];
  const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.1 || 0.1;
  return [Math.min(lo - pad, lo > 0 && lo < pad * 3 ? 0 : lo - pad), hi + pad];
}

// ---- the pictures ----------------------------------------------------------------------------
const BOUNDARY = { w: 340, h: 330, rect: { x: 52, y: 26, w: 276, h: 258 } };

function drawBoundary(view) {
  const { model, canvas } = view;
  const setup = model.get("setup") || {}, frame = model.get("frame") || {};
  const ctx = setupCanvas(canvas, BOUNDARY.w, BOUNDARY.h);
  const rect = BOUNDARY.rect;
  const bounds = setup.bounds || [[-1.5, 1.5], [-1.5, 1.5]];
  if (setup.nin === 1) {
    const ys = [...(setup.train || []).map((p) => p[1]), ...(setup.test || []).map((p) => p[1]), ...(frame.curve || [])];
    const yr = range(ys);
    const map = axes(ctx, rect, bounds[0], yr, { title: frame.title || "", xlabel: "x", ylabel: "y" });
    dots(ctx, map, setup.train || [], () => TRAIN, true);
    dots(ctx, map, setup.test || [], () => TEST, false);
    const xs = (frame.curve || []).map((_, i, a) => bounds[0][0] + ((bounds[0][1] - bounds[0][0]) * i) / Math.max(a.length - 1, 1));
    line(ctx, map, xs, frame.curve || [], "#111", rect);
    view.map = null;
    return;
  }
  const res = setup.resolution || 0, rgb = bytes(model.get("grid"));
  if (res && rgb.length === res * res * 3) {
    if (!view.off || view.off.width !== res) {
      view.off = document.createElement("canvas");
      view.off.width = view.off.height = res;
    }
    const octx = view.off.getContext("2d"), img = octx.createImageData(res, res);
    for (let row = 0; row < res; row++) {
      for (let col = 0; col < res; col++) {
        const src = ((res - 1 - row) * res + col) * 3, dst = (row * res + col) * 4; // bottom row first
        img.data[dst] = rgb[src]; img.data[dst + 1] = rgb[src + 1]; img.data[dst + 2] = rgb[src + 2]; img.data[dst + 3] = 255;
      }
    }
    octx.putImageData(img, 0, 0);
    ctx.save();
    ctx.imageSmoothingEnabled = true;
    // cell centres sit on the grid points: half a cell of the image lies outside the window
    const cw = rect.w / (res - 1), ch = rect.h / (res - 1);
    ctx.beginPath();
    ctx.rect(rect.x, rect.y, rect.w, rect.h);
    ctx.clip();
    ctx.drawImage(view.off, rect.x - cw / 2, rect.y - ch / 2, rect.w + cw, rect.h + ch);
    ctx.restore();
  }
  const map = axes(ctx, rect, bounds[0], bounds[1], { title: frame.title || "", xlabel: "x₁", ylabel: "x₂" });
  const colours = setup.colours || ["#e8862a", "#2a6fdb"];
  const colour = (p) => colours[p[2] % colours.length];
  dots(ctx, map, setup.train || [], colour, true);
  dots(ctx, map, setup.test || [], colour, false);
  if (setup.hint) {
    ctx.save();
    ctx.font = FONT;
    ctx.fillStyle = "#555";
    ctx.textAlign = "center";
    ctx.fillText(setup.hint, rect.x + rect.w / 2, rect.y + rect.h / 2);
    ctx.restore();
  }
  view.map = { rect, bounds };
}

function dots(ctx, map, points, colour, filled) {
  ctx.save();
  for (const p of points) {
    const x = map.px(p[0]), y = map.py(p[1]);
    ctx.beginPath();
    ctx.arc(x, y, filled ? 3.6 : 3.8, 0, 2 * Math.PI);
    if (filled) {
      ctx.fillStyle = colour(p);
      ctx.fill();
      ctx.strokeStyle = "white";
      ctx.lineWidth = 0.8;
    } else {
      ctx.strokeStyle = colour(p);
      ctx.lineWidth = 1.6;
    }
    ctx.stroke();
  }
  ctx.restore();
}

const NETWORK = { w: 440, h: 330 };

function drawNetwork(view) {
  const { model, canvas } = view;
  const setup = model.get("setup") || {}, frame = model.get("frame") || {};
  const ctx = setupCanvas(canvas, NETWORK.w, NETWORK.h);
  const shown = setup.shown || [], sizes = setup.sizes || [];
  if (!shown.length) return;
  const tallest = Math.max(...shown), columns = shown.length;
  const top = 40, bottom = NETWORK.h - 22, left = 34, right = NETWORK.w - 34;
  const pitch = Math.min((bottom - top) / tallest, 42), box = Math.min(pitch * 0.8, 30);
  const gap = columns > 1 ? (right - left) / (columns - 1) : 0;
  const pos = shown.map((n, c) => Array.from({ length: n }, (_, i) => [left + c * gap, top + ((tallest - n) / 2 + i + 0.5) * pitch]));
  // weights: width = size, colour = sign
  const edges = frame.edges || [];
  const maxw = edges.reduce((m, w) => Math.max(m, Math.abs(w)), 0) || 1;
  let k = 0;
  ctx.save();
  for (let c = 0; c + 1 < columns; c++) {
    for (let j = 0; j < shown[c + 1]; j++) {
      for (let i = 0; i < shown[c]; i++, k++) {
        const w = edges[k] || 0, s = Math.abs(w) / maxw;
        ctx.strokeStyle = w > 0 ? POSITIVE : NEGATIVE;
        ctx.globalAlpha = 0.25 + 0.75 * s;
        ctx.lineWidth = 0.3 + 3 * s;
        ctx.beginPath();
        ctx.moveTo(pos[c][i][0] + box / 2, pos[c][i][1]);
        ctx.lineTo(pos[c + 1][j][0] - box / 2, pos[c + 1][j][1]);
        ctx.stroke();
      }
    }
  }
  ctx.restore();
  // neurons: each one's output over the input plane
  const res = setup.neuron_resolution || 0, data = bytes(model.get("neurons"));
  const rows = setup.nin === 1 ? 1 : res, cell = rows * res;
  if (!view.tile || view.tile.width !== res || view.tile.height !== rows) {
    view.tile = document.createElement("canvas");
    view.tile.width = res;
    view.tile.height = rows;
  }
  const tctx = view.tile.getContext("2d"), img = tctx.createImageData(res, rows);
  let n = 0;
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  for (let c = 0; c < columns; c++) {
    for (let i = 0; i < shown[c]; i++, n++) {
      const [x, y] = pos[c][i];
      if (data.length >= (n + 1) * cell) {
        for (let r = 0; r < rows; r++) {
          for (let q = 0; q < res; q++) {
            const v = data[n * cell + (rows - 1 - r) * res + q], colour = RDBU[Math.min(12, Math.floor((v / 256) * 13))];
            const d = (r * res + q) * 4;
            img.data[d] = colour[0]; img.data[d + 1] = colour[1]; img.data[d + 2] = colour[2]; img.data[d + 3] = 255;
          }
        }
        tctx.putImageData(img, 0, 0);
        ctx.drawImage(view.tile, x - box / 2, y - box / 2, box, box);
      }
      ctx.strokeStyle = "#666";
      ctx.lineWidth = 1;
      ctx.strokeRect(x - box / 2, y - box / 2, box, box);
    }
  }
  ctx.restore();
  ctx.save();
  ctx.font = FONT;
  ctx.fillStyle = "#333";
  ctx.textAlign = "center";
  (setup.names || []).forEach((name, c) => {
    ctx.fillText(name, left + c * gap, 30);
    if (sizes[c] > shown[c]) ctx.fillText(`+${sizes[c] - shown[c]} more`, left + c * gap, NETWORK.h - 6);
  });
  ctx.font = SMALL;
  ctx.fillText(`weights: width = size, blue +, orange −  (max |w| = ${fmt(maxw)})`, NETWORK.w / 2, 13);
  ctx.restore();
}

const PANEL = { w: 390, h: 220 };

function drawCurves(view) {
  const { model, canvas } = view;
  const frame = model.get("frame") || {}, h = frame.history || {};
  const ctx = setupCanvas(canvas, 2 * PANEL.w, PANEL.h);
  const steps = h.step || [], last = Math.max(steps.length ? steps[steps.length - 1] : 1, 1);
  const rect = { x: 60, y: 24, w: PANEL.w - 80, h: PANEL.h - 70 };
  const loss = axes(ctx, rect, [0, last], range([...(h.train_loss || []), ...(h.test_loss || [])]),
    { title: "loss", xlabel: "step", ylabel: "loss" });
  line(ctx, loss, steps, h.train_loss || [], TRAIN, rect);
  line(ctx, loss, steps, h.test_loss || [], TEST, rect, true);
  legend(ctx, [["train", TRAIN], ["test", TEST, true]], rect.x + rect.w - 70, rect.y + 12);
  const arect = { ...rect, x: PANEL.w + 60 };
  const acc = axes(ctx, arect, [0, last], [0, 1.02], { title: "accuracy", xlabel: "step", ylabel: "accuracy" });
  line(ctx, acc, steps, h.train_accuracy || [], TRAIN, arect);
  line(ctx, acc, steps, h.test_accuracy || [], TEST, arect, true);
  if (!(h.train_accuracy || []).some((v) => v !== null)) {
    ctx.save(); ctx.font = SMALL; ctx.fillStyle = "#555"; ctx.textAlign = "center";
    ctx.fillText("regression: no accuracy", arect.x + arect.w / 2, arect.y + arect.h / 2); ctx.restore();
  }
}

function drawHealth(view) {
  const { model, canvas } = view;
  const frame = model.get("frame") || {}, setup = model.get("setup") || {}, g = frame.grads || {};
  const ctx = setupCanvas(canvas, 2 * PANEL.w, PANEL.h);
  const steps = g.step || [], layers = g.layers || [], last = Math.max(steps.length ? steps[steps.length - 1] : 1, 1);
  const rect = { x: 60, y: 24, w: PANEL.w - 80, h: PANEL.h - 70 };
  const map = axes(ctx, rect, [0, last], range(layers.flat(), true),
    { title: "mean |gradient| per layer", xlabel: "step", ylabel: "mean |grad|", logy: true });
  const names = setup.layer_names || [];
  layers.forEach((values, i) => line(ctx, map, steps, values, SERIES[i % SERIES.length], rect));
  legend(ctx, names.map((name, i) => [name, SERIES[i % SERIES.length]]), rect.x + rect.w - 62, rect.y + 12);
  const health = frame.health || [], brect = { ...rect, x: PANEL.w + 60 };
  const hidden = Math.max(health.length, 1);
  const bars = axes(ctx, brect, [-0.5, hidden - 0.5], [0, 1], { title: "share of hidden units", xlabel: "hidden layer", ylabel: "share" });
  const width = Math.min(brect.w / hidden / 3, 24);
  health.forEach((row, i) => {
    const x = bars.px(i), base = bars.py(0);
    ctx.fillStyle = "#888";
    ctx.fillRect(x - width - 1, bars.py(row.dead / row.units), width, base - bars.py(row.dead / row.units));
    ctx.fillStyle = "#d62728";
    ctx.fillRect(x + 1, bars.py(row.saturated / row.units), width, base - bars.py(row.saturated / row.units));
  });
  ctx.save(); ctx.font = SMALL; ctx.textAlign = "left"; ctx.textBaseline = "middle";
  [["dead", "#888"], ["saturated", "#d62728"]].forEach(([label, colour], i) => {
    ctx.fillStyle = colour; ctx.fillRect(brect.x + brect.w - 78, brect.y + 8 + i * 15, 10, 10);
    ctx.fillStyle = "#333"; ctx.fillText(label, brect.x + brect.w - 64, brect.y + 13 + i * 15);
  });
  ctx.restore();
}

function drawRace(view) {
  const { model, canvas } = view;
  const frame = model.get("frame") || {}, curves = frame.curves || [];
  const ctx = setupCanvas(canvas, 2 * PANEL.w, PANEL.h);
  const rect = { x: 60, y: 24, w: 2 * PANEL.w - 250, h: PANEL.h - 70 };
  const last = Math.max(1, ...curves.map((c) => (c.step.length ? c.step[c.step.length - 1] : 0)));
  const map = axes(ctx, rect, [0, last], range(curves.flatMap((c) => c.loss)),
    { title: frame.title || "optimizer race (train loss)", xlabel: "step", ylabel: "train loss" });
  curves.forEach((c, i) => line(ctx, map, c.step, c.loss, SERIES[i % SERIES.length], rect));
  legend(ctx, curves.map((c, i) => [c.label, SERIES[i % SERIES.length]]), rect.x + rect.w + 16, rect.y + 10);
}

const PICTURES = { boundary: drawBoundary, network: drawNetwork, curves: drawCurves, health: drawHealth, race: drawRace };

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "chainrule-board";
  const kinds = model.get("kind") === "race" ? ["race"] : ["boundary", "network", "curves", "health"];
  const views = kinds.map((kind) => {
    const canvas = document.createElement("canvas");
    canvas.className = "chainrule-" + kind;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", kind === "boundary" ? "decision boundary (click to add a point)" : kind);
    root.appendChild(canvas);
    return { kind, model, canvas, map: null };
  });
  el.appendChild(root);
  let draws = 0, pending = false;
  function draw() {
    pending = false;
    for (const view of views) PICTURES[view.kind](view);
    draws += 1;
    root.dataset.draws = String(draws);
    const frame = model.get("frame") || {};
    root.dataset.step = String(frame.step === undefined ? "" : frame.step);
    const setup = model.get("setup") || {};
    root.dataset.points = String((setup.train || []).length + (setup.test || []).length);
    root.dataset.bounds = JSON.stringify(setup.bounds || null);
    model.send({ type: "drawn", frame: frame.number });
  }
  function schedule() {
    if (!pending) { pending = true; requestAnimationFrame(draw); }
  }
  // one drawing per animation frame, however many traits changed
  model.on("change:frame", schedule);
  model.on("change:setup", schedule);
  const boundary = views.find((v) => v.kind === "boundary");
  if (boundary) {
    boundary.canvas.addEventListener("click", (event) => {
      const m = boundary.map;
      if (!m) return;
      const box = boundary.canvas.getBoundingClientRect();
      const X = event.clientX - box.left, Y = event.clientY - box.top, r = m.rect;
      if (X < r.x || X > r.x + r.w || Y < r.y || Y > r.y + r.h) return;
      const x = m.bounds[0][0] + ((X - r.x) / r.w) * (m.bounds[0][1] - m.bounds[0][0]);
      const y = m.bounds[1][0] + ((r.y + r.h - Y) / r.h) * (m.bounds[1][1] - m.bounds[1][0]);
      model.send({ type: "click", x, y });
    });
  }
  draw();
  return () => {
    model.off("change:frame", schedule);
    model.off("change:setup", schedule);
  };
}

export default { render };
