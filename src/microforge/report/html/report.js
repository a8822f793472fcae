// microforge HTML report: draws the embedded JSON (graph, memory plans, per-layer table,
// quantization error). Plain JS, no libraries, nothing fetched.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("report-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const OPS = D.operators, T = D.tensors;

  function svg(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function human(n) {
    if (n === null || n === undefined) return "–";
    const units = [["G", 1e9], ["M", 1e6], ["k", 1e3]];
    for (const [u, d] of units) if (Math.abs(n) >= d) return (n / d).toFixed(2) + u;
    return String(Math.round(n * 100) / 100);
  }
  function bytes(n) { return n === null || n === undefined ? "–" : n.toLocaleString("en-US") + " B"; }
  function num(x, digits) {
    if (x === null || x === undefined) return "–";
    return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(digits) : x.toFixed(digits);
  }
  function short(name) {
    const first = (name || "").split(";")[0];
    return first.length > 48 ? "…" + first.slice(-47) : first;
  }
  function mix(a, b, t) {
    const p = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
    const A = p(a), B = p(b);
    return "rgb(" + A.map((v, i) => Math.round(v + (B[i] - v) * t)).join(",") + ")";
  }
  function hue(key) {
    let h = 0;
    for (const ch of String(key)) h = (h * 31 + ch.charCodeAt(0)) % 360;
    return "hsl(" + h + ",55%,62%)";
  }

  // ---------------------------------------------------------------- summary
  const summary = document.getElementById("summary");
  for (const k in D.summary) {
    const d = html("div", {}, summary);
    html("b", {}, d, D.summary[k]);
    html("span", {}, d, k);
  }

  // ---------------------------------------------------------------- graph
  const G = D.graph;
  const host = document.getElementById("graph");
  const root = svg("svg", { role: "img", "aria-label": "operator graph" }, host);
  const defs = svg("defs", {}, root);
  const view = svg("g", { id: "viewport" }, root);
  void defs;
  const edgesG = svg("g", { class: "edges" }, view);
  const nodesG = svg("g", { class: "nodes" }, view);
  const nodeEls = [];
  const edgeEls = [];

  for (const e of G.edges) {
    const g = svg("g", { class: "edge", "data-tensor": e.tensor }, edgesG);
    svg("path", { d: e.path }, g);
    if (e.arrow) {
      const nums = e.path.split(/[ MC,]+/).filter((s) => s).map(Number);
      const px = nums[nums.length - 2], py = nums[nums.length - 1];
      const [tx, ty] = e.arrow;
      const ang = Math.atan2(ty - py, tx - px), s = 4;
      const pts = [[tx, ty], [px - s * Math.sin(ang), py + s * Math.cos(ang)],
        [px + s * Math.sin(ang), py - s * Math.cos(ang)]];
      svg("polygon", { points: pts.map((p) => p.join(",")).join(" ") }, g);
    }
    const label = svg("text", { x: e.lx, y: e.ly + 3, "text-anchor": "middle" }, g);
    label.textContent = e.label;
    svg("title", {}, g).textContent = T[e.tensor].name + "  " + e.label;
    edgeEls.push(g);
  }
  for (const key in G.nodes) {
    const n = G.nodes[key];
    const isOp = key.startsWith("op");
    const g = svg("g", { class: isOp ? "node" : "io", transform: "translate(" + (n.x - n.w / 2) + "," + (n.y - n.h / 2) + ")" }, nodesG);
    svg("rect", { width: n.w, height: n.h, rx: 4 }, g);
    if (isOp) {
      const i = Number(key.slice(2));
      const op = OPS[i];
      g.setAttribute("data-op-index", i);
      const t1 = svg("text", { x: n.w / 2, y: n.h / 2 - 2, "text-anchor": "middle", "font-weight": "bold" }, g);
      t1.textContent = op.op;
      const t2 = svg("text", { x: n.w / 2, y: n.h / 2 + 10, "text-anchor": "middle" }, g);
      t2.textContent = "#" + i + (op.macs ? "  " + human(op.macs) + " MACs" : "");
      svg("title", {}, g).textContent = op.op + " #" + i + "\n" + op.name;
      nodeEls[i] = g;
    } else {
      const kind = key.startsWith("in") ? "input" : "output";
      const k = Number(key.replace(/^\D+/, ""));
      const tidx = (kind === "input" ? D.inputs : D.outputs)[k];
      g.setAttribute("data-io", kind + k);
      const t = svg("text", { x: n.w / 2, y: n.h / 2 + 3, "text-anchor": "middle" }, g);
      t.textContent = kind + " " + short(T[tidx].name).slice(0, 18);
      svg("title", {}, g).textContent = T[tidx].name + "  " + T[tidx].label;
    }
  }

  // colouring
  const costKey = D.instructions.total !== null ? "instructions" : "macs";
  const costMax = Math.max(1, ...OPS.map((o) => o[costKey] || 0));
  const sqnrOf = {};
  if (D.quant) for (const l of D.quant.layers) sqnrOf[l.op_index] = l.sqnr_db;
  const select = document.getElementById("colour-by");
  if (D.quant) html("option", { value: "quant" }, select, "quantization error (SQNR)");
  const legend = document.getElementById("legend");
  function colourOf(op, mode) {
    if (mode === "backend") return op.kind === "NPU" ? "#f28e2b" : op.kind === "CPU" ? "#4e79a7" : "#9c755f";
    if (mode === "cost") return mix("#fff3c4", "#b3002d", Math.sqrt((op[costKey] || 0) / costMax));
    const s = sqnrOf[op.index];
    if (s === undefined || s === null) return "#cfd3d8";
    return mix("#b3002d", "#2e8b57", Math.max(0, Math.min(1, s / 40)));
  }
  function paint() {
    const mode = select.value;
    OPS.forEach((op, i) => {
      const g = nodeEls[i];
      if (!g) return;
      const c = colourOf(op, mode);
      g.querySelector("rect").setAttribute("fill", c);
      const m = c.match(/\d+/g);
      const light = mode === "backend" ? false : m && (0.3 * m[0] + 0.59 * m[1] + 0.11 * m[2]) > 150;
      g.querySelectorAll("text").forEach((t) => t.classList.toggle("dark", !!light));
    });
    legend.textContent = "";
    if (mode === "backend") {
      const kinds = [...new Set(OPS.map((o) => o.kind))];
      for (const k of kinds) {
        html("span", { class: "legend-swatch", style: "background:" + colourOf({ kind: k }, "backend") }, legend);
        html("span", {}, legend, k + " (" + OPS.filter((o) => o.kind === k).length + ")");
      }
    } else if (mode === "cost") {
      legend.textContent = "light → dark: " + (costKey === "macs" ? "MACs" : "estimated instructions") + " (square-root scale, max " + human(costMax) + ")";
    } else {
      legend.textContent = "red → green: SQNR 0 → 40 dB; grey: not measured";
    }
  }
  select.addEventListener("change", paint);
  paint();

  // zoom and pan
  let tx = 0, ty = 0, sc = 1;
  function apply() { view.setAttribute("transform", "translate(" + tx + "," + ty + ") scale(" + sc + ")"); }
  function fit(all) {
    // the whole graph, or (first view) readable: at most as wide as the pane, from the top
    const w = host.clientWidth || 800, h = host.clientHeight || 600;
    sc = all === false ? Math.min(w / (G.width + 20), 1.2) : Math.min(w / (G.width + 20), h / (G.height + 20), 1.6);
    tx = (w - G.width * sc) / 2;
    ty = 10;
    apply();
  }
  function centreOn(i) {
    const n = G.nodes["op" + i];
    const w = host.clientWidth || 800, h = host.clientHeight || 600;
    sc = Math.max(sc, 1);
    tx = w / 2 - n.x * sc;
    ty = h / 2 - n.y * sc;
    apply();
  }
  root.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = root.getBoundingClientRect();
    const mx = ev.clientX - r.left, my = ev.clientY - r.top;
    const f = Math.exp(-ev.deltaY * 0.0015);
    const next = Math.min(8, Math.max(0.05, sc * f));
    tx = mx - (mx - tx) * next / sc;
    ty = my - (my - ty) * next / sc;
    sc = next;
    apply();
  }, { passive: false });
  let drag = null, dragged = false;
  root.addEventListener("pointerdown", (ev) => { drag = [ev.clientX, ev.clientY, tx, ty]; dragged = false; });
  window.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag[0], dy = ev.clientY - drag[1];
    if (Math.abs(dx) + Math.abs(dy) > 3) { dragged = true; host.classList.add("dragging"); }
    if (dragged) { tx = drag[2] + dx; ty = drag[3] + dy; apply(); }
  });
  window.addEventListener("pointerup", () => { drag = null; host.classList.remove("dragging"); });
  document.getElementById("fit").addEventListener("click", () => fit(true));
  fit(false);

  // details
  const details = document.getElementById("details");
  function row(table, k, v) {
    const tr = html("tr", {}, table);
    html("td", {}, tr, k);
    html("td", {}, tr, v);
  }
  function quantText(q) {
    if (!q) return "not quantized";
    if (q.scale !== undefined) return "scale " + num(q.scale, 4) + ", zero point " + q.zero_point;
    return q.channels + " channels (axis " + q.axis + "): scale " + num(q.scale_min, 4) + " … " + num(q.scale_max, 4) + ", zero point " + q.zero_point;
  }
  function arenaText(t) {
    const a = T[t].arena || {};
    const parts = Object.keys(a).map((p) => p + " +" + a[p].offset.toLocaleString("en-US") + " (buffer " + a[p].buffer + ")");
    if (parts.length) return parts.join("; ");
    return T[t].kind === "const" ? "flash (constant)" : T[t].kind === "state" ? "static RAM (state)" :
      D.inputs.includes(t) ? "caller's input buffer" : D.outputs.includes(t) ? "caller's output buffer" : "–";
  }
  let selected = null;
  function showOp(i) {
    const op = OPS[i];
    if (selected !== null && nodeEls[selected]) nodeEls[selected].classList.remove("selected");
    selected = i;
    if (nodeEls[i]) nodeEls[i].classList.add("selected");
    document.querySelectorAll("tr[data-row-op]").forEach((r) => r.classList.toggle("selected", Number(r.dataset.rowOp) === i));
    details.textContent = "";
    details.setAttribute("data-shown-op", i);
    html("h3", {}, details, "#" + i + " " + op.op + " · " + op.kind + (op.kind !== "Python" ? " (" + op.backend + ")" : ""));
    html("div", { class: "muted" }, details, op.name);
    if (op.reason) html("p", {}, details, "Not on the NPU: " + op.reason);
    let t = html("table", {}, details);
    row(t, "MACs", op.macs.toLocaleString("en-US"));
    row(t, "weight bytes", op.weight_bytes.toLocaleString("en-US"));
    row(t, "instructions", op.instructions === null ? "–" : "~" + op.instructions.toLocaleString("en-US"));
    if (D.npu) row(t, "NPU cycles", op.npu_cycles === null ? "–" : op.npu_cycles.toLocaleString("en-US"));
    row(t, "share", share(op).toFixed(1) + " % of " + shareOf);
    if (sqnrOf[i] !== undefined) {
      const l = D.quant.layers.find((x) => x.op_index === i);
      row(t, "quantization", "SQNR " + num(l.sqnr_db, 2) + " dB, cosine " + l.cosine.toFixed(5));
    }
    html("h3", {}, details, "Options");
    t = html("table", {}, details);
    const keys = Object.keys(op.options);
    if (!keys.length) row(t, "(none)", "");
    for (const k of keys) row(t, k, JSON.stringify(op.options[k]));
    for (const [title, list] of [["Inputs", op.inputs], ["Outputs", op.outputs]]) {
      html("h3", {}, details, title);
      t = html("table", {}, details);
      for (const ti of list) {
        const ten = T[ti];
        row(t, "#" + ti + " " + ten.kind, ten.name);
        row(t, "", ten.label + " · " + quantText(ten.quant));
        if (ten.kind === "activation") row(t, "", "arena: " + arenaText(ti));
      }
    }
    if (op.weights.length) {
      html("h3", {}, details, "Weights");
      t = html("table", {}, details);
      for (const w of op.weights) {
        row(t, "#" + w.tensor, short(T[w.tensor].name) + " (" + w.count.toLocaleString("en-US") + " values)");
        if (w.stored) row(t, "stored", "min " + num(w.stored.min, 3) + " max " + num(w.stored.max, 3) + " mean " + num(w.stored.mean, 3) + " std " + num(w.stored.std, 3));
        if (w.real) row(t, "real", "min " + num(w.real.min, 4) + " max " + num(w.real.max, 4) + " mean " + num(w.real.mean, 4) + " std " + num(w.real.std, 4));
        const q = T[w.tensor].quant;
        if (q && q.channels) row(t, "per-channel scale", num(q.scale_min, 4) + " … " + num(q.scale_max, 4) + " over " + q.channels + " channels");
        else if (q) row(t, "scale", quantText(q));
      }
    }
  }
  nodesG.addEventListener("click", (ev) => {
    if (dragged) return;
    const g = ev.target.closest("[data-op-index]");
    if (g) showOp(Number(g.getAttribute("data-op-index")));
  });

  // search
  const search = document.getElementById("search"), count = document.getElementById("search-count");
  function runSearch() {
    const q = search.value.trim().toLowerCase();
    const hits = [];
    OPS.forEach((op, i) => {
      const names = [op.op, op.name, ...op.inputs.map((t) => T[t].name), ...op.outputs.map((t) => T[t].name)];
      const hit = q !== "" && names.some((n) => (n || "").toLowerCase().includes(q));
      if (nodeEls[i]) {
        nodeEls[i].classList.toggle("hit", hit);
        nodeEls[i].classList.toggle("dim", q !== "" && !hit);
      }
      if (hit) hits.push(i);
    });
    let edgeHits = 0;
    edgeEls.forEach((g) => {
      const hit = q !== "" && T[Number(g.dataset.tensor)].name.toLowerCase().includes(q);
      g.classList.toggle("hit", hit);
      g.classList.toggle("dim", q !== "" && !hit);
      if (hit) edgeHits++;
    });
    count.textContent = q ? hits.length + " operators, " + edgeHits + " tensor edges" : "";
    return hits;
  }
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    const hits = runSearch();
    if (hits.length) { centreOn(hits[0]); showOp(hits[0]); }
  });

  // ---------------------------------------------------------------- per-layer table
  const totalCost = OPS.reduce((s, o) => s + (o[costKey] || 0), 0) || 1;
  const shareOf = costKey === "macs" ? "MACs" : "instructions";
  function share(op) { return 100 * (op[costKey] || 0) / totalCost; }

  function sortable(table) {
    const heads = table.querySelectorAll("th");
    heads.forEach((th, col) => th.addEventListener("click", () => {
      const asc = !th.classList.contains("sorted-asc");
      heads.forEach((h) => h.classList.remove("sorted-asc", "sorted-desc"));
      th.classList.add(asc ? "sorted-asc" : "sorted-desc");
      const body = table.tBodies[0];
      const rows = [...body.rows];
      const key = (r) => r.cells[col].dataset.v;
      const numeric = rows.every((r) => key(r) === "" || !isNaN(Number(key(r))));
      rows.sort((a, b) => {
        let x = key(a), y = key(b);
        if (numeric) { x = x === "" ? -Infinity : Number(x); y = y === "" ? -Infinity : Number(y); }
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      });
      rows.forEach((r) => body.appendChild(r));
    }));
  }
  function cell(tr, value, text, cls) {
    const td = html("td", cls ? { class: cls } : {}, tr, text);
    td.dataset.v = value === null || value === undefined ? "" : value;
    return td;
  }
  const layers = document.getElementById("layers");
  html("p", { class: "muted" }, layers, "Instructions: " + D.instructions.source + ". Share: of the total " + shareOf + ". Click a header to sort, a row to show the operator.");
  const lt = html("table", { class: "layers", id: "layer-table" }, layers);
  const heads = ["#", "operator", "output tensor", "backend", "MACs", "weight bytes", "est. instructions"];
  if (D.npu) heads.push("NPU cycles");
  heads.push("share of " + shareOf);
  const hr = html("tr", {}, html("thead", {}, lt));
  heads.forEach((h, k) => html("th", k === 1 || k === 2 || k === 3 ? { class: "text" } : {}, hr, h));
  const lb = html("tbody", {}, lt);
  for (const op of OPS) {
    const tr = html("tr", { "data-row-op": op.index }, lb);
    cell(tr, op.index, String(op.index));
    cell(tr, op.op, op.op, "text");
    cell(tr, op.name, short(op.name), "text");
    cell(tr, op.kind, op.kind, "text");
    cell(tr, op.macs, op.macs.toLocaleString("en-US"));
    cell(tr, op.weight_bytes, op.weight_bytes.toLocaleString("en-US"));
    cell(tr, op.instructions, op.instructions === null ? "–" : op.instructions.toLocaleString("en-US"));
    if (D.npu) cell(tr, op.npu_cycles, op.npu_cycles === null ? "–" : op.npu_cycles.toLocaleString("en-US"));
    const sh = share(op);
    const td = cell(tr, sh, sh.toFixed(1) + " %");
    html("span", { class: "bar", style: "width:" + Math.round(sh * 0.8) + "px" }, td);
    tr.addEventListener("click", () => showOp(op.index));
  }
  sortable(lt);

  // ---------------------------------------------------------------- memory plan
  const mem = document.getElementById("memory");
  const M = D.memory;
  if (M.error) {
    html("p", {}, mem, M.error);
  } else {
    if (M.note) html("p", {}, mem, M.note);
    html("p", { class: "muted" }, mem, "Each rectangle is one arena buffer: x = the operator steps it lives through, y = its byte offset. " +
      "Left: microforge's plan (" + M.plans[0].strategy + "); right: TFLM's greedy-by-size plan of the same buffers in model order. " +
      "The caller's input and output buffers are not in either arena. Lower bound (peak live bytes): " + bytes(M.lower_bound) + ".");
    const row2 = html("div", { class: "plans" }, mem);
    const maxSize = Math.max(1, ...M.plans.map((p) => p.size));
    const W = 460, H = 280, L = 64, B = 28;
    for (const p of M.plans) {
      const box = html("div", { class: "plan", "data-plan": p.name }, row2);
      html("h3", {}, box, p.name + ": " + bytes(p.size) + " (" + p.strategy + ")");
      const s = svg("g", { transform: "translate(0,8)" }, svg("svg", { width: W, height: H + B + 12 }, box));
      const n = p.order.length, sx = (W - L - 8) / Math.max(1, n), sy = H / maxSize;
      svg("rect", { x: L, y: 0, width: W - L - 8, height: p.size * sy, fill: "#f3f5f8", stroke: "#c8ccd2" }, s);
      for (let k = 0; k <= 4; k++) {
        const v = Math.round(maxSize * k / 4);
        svg("line", { x1: L - 4, x2: L, y1: v * sy, y2: v * sy, stroke: "#999" }, s);
        svg("text", { x: L - 6, y: v * sy + 3, "text-anchor": "end" }, s).textContent = human(v) + "B";
      }
      const every = Math.ceil(n / 24);
      for (let k = 0; k < n; k += every) {
        svg("text", { x: L + (k + 0.5) * sx, y: H + 12, "text-anchor": "middle" }, s).textContent = p.order[k];
      }
      svg("text", { x: L + (W - L) / 2, y: H + 25, "text-anchor": "middle" }, s).textContent = "operator (model index) in execution order";
      for (const b of p.buffers) {
        const r = svg("rect", {
          class: "buffer" + (b.in_place_of ? " inplace" : "") + (b.scratch ? " scratch" : ""),
          "data-buffer": b.key, x: L + b.first * sx, y: b.offset * sy, width: Math.max(1, (b.last - b.first + 1) * sx),
          height: Math.max(1, b.size * sy), fill: b.scratch ? "#bbb" : hue(b.key),
        }, s);
        const names = b.tensors.map((t) => "#" + t + " " + short(T[t].name)).join("\n");
        svg("title", {}, r).textContent = (b.scratch ? "scratch of operator " + b.key.slice(10) : names) + "\n" + bytes(b.size) +
          " at +" + b.offset.toLocaleString("en-US") + ", steps " + b.first + "–" + b.last + (b.in_place_of ? "\nin place over buffer " + b.in_place_of : "");
      }
    }
    // peak per step
    const pk = html("div", { class: "plan" }, row2);
    html("h3", {}, pk, "Peak per step");
    const s = svg("g", { transform: "translate(0,8)" }, svg("svg", { width: W, height: H + B + 12, id: "peak" }, pk));
    const top = Math.max(1, ...M.plans.flatMap((p) => p.extent.concat(p.live)));
    const sy = (H - 20) / top;
    const series = [[M.plans[0].live, "#4e79a7", "live bytes (microforge order)"], [M.plans[0].extent, "#59a14f", "microforge arena in use"],
      [M.plans[1].extent, "#e15759", "TFLM greedy arena in use"]];
    series.forEach(([vals, colour, name], k) => {
      const pts = [];
      const step = (W - L - 8) / Math.max(1, vals.length);  // a patch stage is one step of microforge's
      vals.forEach((v, i) => { pts.push([L + i * step, H - v * sy], [L + (i + 1) * step, H - v * sy]); });
      svg("polyline", { points: pts.map((q) => q.join(",")).join(" "), fill: "none", stroke: colour, "stroke-width": 1.6 }, s);
      svg("rect", { x: L + 4, y: 4 + k * 12, width: 9, height: 9, fill: colour }, s);
      svg("text", { x: L + 16, y: 12 + k * 12 }, s).textContent = name;
    });
    for (let k = 0; k <= 4; k++) {
      const v = Math.round(top * k / 4);
      svg("text", { x: L - 6, y: H - v * sy + 3, "text-anchor": "end" }, s).textContent = human(v) + "B";
    }
    svg("text", { x: L + (W - L) / 2, y: H + 25, "text-anchor": "middle" }, s).textContent = "step";
    // decisions
    html("h3", {}, mem, "Planner decisions");
    const ul = html("ul", { class: "notes" }, mem);
    html("li", {}, ul, M.reordered ? "Operators reordered to shrink the arena: execution order " + M.plans[0].order.join(", ") + " (model indices)." :
      "Operators run in the model's order (no order with a smaller arena was found).");
    const overl = M.in_place.filter((x) => x.overlaps);
    html("li", {}, ul, overl.length + " in-place outputs overlap their input (dashed red outline)" +
      (M.in_place.length > overl.length ? "; " + (M.in_place.length - overl.length) + " more were allowed but placed apart" : "") + ".");
    const more = html("details", {}, html("li", {}, ul));
    html("summary", {}, more, "each in-place decision");
    const ul2 = html("ul", { class: "notes" }, more);
    for (const x of M.in_place) {
      html("li", { class: "muted" }, ul2, "operator " + x.op + " (" + OPS[x.op].op + "): output buffer " + x.buffer + (x.overlaps ? " overlaps" : " may overlap") +
        " input buffer " + x.input + " (safe shift " + (Math.abs(x.shift) > 1e15 ? "unbounded" : x.shift + " B") + ")");
    }
    if (M.views.length) html("li", {}, ul, "Views (no code, no copy: the output is the input's bytes): operators " + M.views.join(", ") + ".");
    const info = html("p", { id: "buffer-info", class: "muted" }, mem, "Click a buffer to find it in both plans.");
    mem.addEventListener("click", (ev) => {
      const r = ev.target.closest("[data-buffer]");
      if (!r) return;
      const key = r.getAttribute("data-buffer");
      mem.querySelectorAll("[data-buffer]").forEach((e) => e.classList.toggle("selected", e.getAttribute("data-buffer") === key));
      info.textContent = "buffer " + key + ": " + M.plans.map((p) => {
        const b = p.buffers.find((x) => x.key === key);
        return b ? p.name + " +" + b.offset.toLocaleString("en-US") + " (" + bytes(b.size) + ", steps " + b.first + "–" + b.last + ")" : p.name + " –";
      }).join("; ");
    });
  }

  // ---------------------------------------------------------------- quantization
  const qd = document.getElementById("quant");
  if (!D.quant) {
    html("p", { class: "muted" }, qd, "Not measured. Run `microforge report MODEL --calibration DATA` (a float model is quantized for the report; " +
      "an int8 model needs --float FLOAT_MODEL too) for per-layer SQNR and cosine against the float model.");
  } else {
    const Q = D.quant;
    const settings = Object.entries(Q.settings).map(([k, v]) => k + " " + v).join(", ");
    const nWorst = Q.layers.filter((l) => l.worst).length;
    html("p", { class: "muted" }, qd, Q.samples + " calibration samples" + (settings ? " (quantized for this report: " + settings + ")" : "") +
      ". Highlighted: the " + (nWorst === 1 ? "layer" : nWorst + " layers") + " with the lowest SQNR. SQNR and cosine of each operator's output against the float model's.");
    for (const o of Q.outputs) {
      html("p", {}, qd, "output " + short(o.name) + ": SQNR " + num(o.sqnr_db, 2) + " dB, cosine " + o.cosine.toFixed(5) +
        (o.top1 !== null && o.top1 !== undefined ? ", top-1 agreement " + (100 * o.top1).toFixed(1) + " %" : ""));
    }
    if (Q.kept_float.length) html("p", {}, qd, "kept in float: " + Q.kept_float.join(", "));
    const qt = html("table", { class: "layers", id: "quant-table" }, qd);
    const qh = html("tr", {}, html("thead", {}, qt));
    ["#", "operator", "output tensor", "SQNR dB", "cosine"].forEach((h, k) => html("th", k === 1 || k === 2 ? { class: "text" } : {}, qh, h));
    const qb = html("tbody", {}, qt);
    for (const l of Q.layers) {
      const tr = html("tr", { "data-quant-op": l.op_index, class: l.worst ? "worst" : "" }, qb);
      cell(tr, l.op_index, String(l.op_index));
      cell(tr, l.op, l.op, "text");
      cell(tr, l.tensor, short(l.tensor), "text");
      cell(tr, l.sqnr_db, l.sqnr_db >= 1e8 ? "exact" : num(l.sqnr_db, 2));
      cell(tr, l.cosine, l.cosine.toFixed(5));
      tr.addEventListener("click", () => showOp(l.op_index));
    }
    sortable(qt);
  }
})();
