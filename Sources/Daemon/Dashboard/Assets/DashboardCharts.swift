/// `/dashboard/charts.js`: hand-written SVG charts (time series with a quantile band and thresholds,
/// sparklines, bars, diverging bars, a level timeline). No library: see docs/dashboard.md, "Charts".
enum DashboardCharts {
    static let js = #"""
'use strict';
// Hand-written SVG charts for the Argus dashboard. Every chart is a function (container, data) that
// replaces the container's content; sizes follow the container's width.
const Charts = (() => {
  const NS = 'http://www.w3.org/2000/svg';
  function el(tag, attrs = {}, parent) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, content, attrs = {}) {
    const t = el('text', Object.assign({ x, y }, attrs), parent);
    t.textContent = content;
    return t;
  }
  const fmtTime = ms => { const d = new Date(ms); return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0'); };
  const fmtNum = v => Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);

  // "Nice" axis ticks between lo and hi (about `count` of them).
  function ticks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toFixed(10)));
    return out;
  }
  function timeTicks(lo, hi, count) {
    const steps = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map(m => m * 60000);
    const step = steps.find(s => (hi - lo) / s <= count) || steps[steps.length - 1];
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) out.push(t);
    return out;
  }
  // A path through points, breaking at nulls (unobserved steps are gaps, not zeros).
  function linePath(xs, ys, sx, sy) {
    let d = '', pen = false;
    for (let i = 0; i < xs.length; i++) {
      if (ys[i] === null || ys[i] === undefined || Number.isNaN(ys[i])) { pen = false; continue; }
      d += (pen ? 'L' : 'M') + sx(xs[i]).toFixed(1) + ',' + sy(ys[i]).toFixed(1);
      pen = true;
    }
    return d;
  }

  // Time series: observed history, the P50 forecast and its P10–P90 band, warning/critical thresholds and
  // a "now" marker. data = {history: {x, y}, forecast: {x, p50, p10, p90}, thresholds: [{y, level}], now, unit, yMax}
  function timeSeries(container, data) {
    container.textContent = '';
    const W = Math.max(container.clientWidth || 0, 320), H = 190, m = { l: 44, r: 10, t: 10, b: 24 };
    const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'chart timeseries', role: 'img' }, container);
    const xs = [...data.history.x, ...data.forecast.x];
    if (!xs.length) { text(svg, W / 2, H / 2, 'no data', { class: 'empty', 'text-anchor': 'middle' }); return svg; }
    const values = [...data.history.y, ...data.forecast.p90, ...data.forecast.p50, ...data.thresholds.map(t => t.y)]
      .filter(v => v !== null && v !== undefined && Number.isFinite(v));
    let yLo = Math.min(0, ...values), yHi = Math.max(...values, 1);
    if (data.yMax !== undefined) yHi = Math.min(Math.max(yHi, 1), data.yMax);
    yHi += (yHi - yLo) * 0.05;
    const xLo = Math.min(...xs), xHi = Math.max(...xs);
    const sx = x => m.l + (x - xLo) / Math.max(xHi - xLo, 1) * (W - m.l - m.r);
    const sy = y => H - m.b - (Math.min(y, yHi) - yLo) / (yHi - yLo) * (H - m.t - m.b);
    const grid = el('g', { class: 'grid' }, svg);
    for (const v of ticks(yLo, yHi, 4)) {
      el('line', { x1: m.l, x2: W - m.r, y1: sy(v), y2: sy(v) }, grid);
      text(grid, m.l - 4, sy(v) + 4, fmtNum(v), { 'text-anchor': 'end' });
    }
    for (const t of timeTicks(xLo, xHi, Math.floor(W / 80))) {
      el('line', { x1: sx(t), x2: sx(t), y1: m.t, y2: H - m.b }, grid);
      text(grid, sx(t), H - 6, fmtTime(t), { 'text-anchor': 'middle' });
    }
    const f = data.forecast;
    if (f.x.length) {
      let d = '';
      f.x.forEach((x, i) => { d += (i ? 'L' : 'M') + sx(x).toFixed(1) + ',' + sy(f.p90[i]).toFixed(1); });
      for (let i = f.x.length - 1; i >= 0; i--) d += 'L' + sx(f.x[i]).toFixed(1) + ',' + sy(f.p10[i]).toFixed(1);
      el('path', { d: d + 'Z', class: 'band' }, svg).appendChild(el('title')).textContent = 'P10–P90 forecast band';
    }
    for (const t of data.thresholds) {
      if (t.y > yHi) continue;
      el('line', { x1: m.l, x2: W - m.r, y1: sy(t.y), y2: sy(t.y), class: 'threshold ' + t.level }, svg);
      text(svg, W - m.r - 2, sy(t.y) - 3, t.level + ' ' + fmtNum(t.y), { class: 'threshold-label ' + t.level, 'text-anchor': 'end' });
    }
    el('path', { d: linePath(data.history.x, data.history.y, sx, sy), class: 'observed' }, svg);
    el('path', { d: linePath(f.x, f.p50, sx, sy), class: 'p50' }, svg);
    if (data.now) el('line', { x1: sx(data.now), x2: sx(data.now), y1: m.t, y2: H - m.b, class: 'now' }, svg);
    // Crosshair with the values under the pointer.
    const cross = el('line', { y1: m.t, y2: H - m.b, class: 'cross', visibility: 'hidden' }, svg);
    const tip = text(svg, 0, m.t + 10, '', { class: 'tip', visibility: 'hidden' });
    svg.addEventListener('mousemove', ev => {
      const box = svg.getBoundingClientRect(), px = ev.clientX - box.left;
      const x = xLo + (px - m.l) / (W - m.l - m.r) * (xHi - xLo);
      const nearest = (arr) => arr.reduce((b, v, i) => Math.abs(v - x) < Math.abs(arr[b] - x) ? i : b, 0);
      let label;
      if (f.x.length && x >= f.x[0]) { const i = nearest(f.x); label = `${fmtTime(f.x[i])} P50 ${fmtNum(f.p50[i])} (P10 ${fmtNum(f.p10[i])} – P90 ${fmtNum(f.p90[i])})`; }
      else if (data.history.x.length) { const i = nearest(data.history.x); const v = data.history.y[i]; label = `${fmtTime(data.history.x[i])} observed ${v === null ? '—' : fmtNum(v)}`; }
      if (!label) return;
      cross.setAttribute('x1', px); cross.setAttribute('x2', px); cross.setAttribute('visibility', 'visible');
      tip.textContent = label; tip.setAttribute('x', Math.min(px + 6, W - 260)); tip.setAttribute('visibility', 'visible');
    });
    svg.addEventListener('mouseleave', () => { cross.setAttribute('visibility', 'hidden'); tip.setAttribute('visibility', 'hidden'); });
    return svg;
  }

  // A tiny risk trend: values 0–100, oldest first.
  function sparkline(values, level) {
    const W = 110, H = 24;
    const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'sparkline ' + (level || '') });
    const ys = values.filter(v => Number.isFinite(v));
    if (ys.length < 2) { el('line', { x1: 0, x2: W, y1: H - 1, y2: H - 1, class: 'flat' }, svg); return svg; }
    const sx = i => i / (ys.length - 1) * (W - 2) + 1, sy = v => H - 2 - Math.min(v, 100) / 100 * (H - 4);
    el('path', { d: ys.map((v, i) => (i ? 'L' : 'M') + sx(i).toFixed(1) + ',' + sy(v).toFixed(1)).join('') }, svg);
    return svg;
  }

  // Vertical bars over equally spaced steps (attention over the encoder window); shaded focus ranges.
  function steps(container, data) {
    container.textContent = '';
    const W = Math.max(container.clientWidth || 0, 320), H = 170, m = { l: 44, r: 10, t: 10, b: 24 };
    const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'chart steps', role: 'img' }, container);
    const n = data.values.length, hi = Math.max(...data.values, 1e-9) * 1.05;
    const bw = (W - m.l - m.r) / Math.max(n, 1);
    const sy = v => H - m.b - v / hi * (H - m.t - m.b);
    for (const f of data.focus || []) {
      el('rect', { x: m.l + f.from * bw, y: m.t, width: (f.to - f.from + 1) * bw, height: H - m.t - m.b, class: 'focus' }, svg)
        .appendChild(el('title')).textContent = f.label;
    }
    const grid = el('g', { class: 'grid' }, svg);
    for (const v of ticks(0, hi, 3)) {
      el('line', { x1: m.l, x2: W - m.r, y1: sy(v), y2: sy(v) }, grid);
      text(grid, m.l - 4, sy(v) + 4, (v * 100).toFixed(1) + '%', { 'text-anchor': 'end' });
    }
    const every = Math.max(1, Math.round(n / Math.floor(W / 70)));
    for (let i = 0; i < n; i += every) text(grid, m.l + (i + 0.5) * bw, H - 6, data.label(i), { 'text-anchor': 'middle' });
    let d = '';
    data.values.forEach((v, i) => { d += `M${(m.l + i * bw).toFixed(1)},${sy(0).toFixed(1)}h${Math.max(bw - 0.3, 0.6).toFixed(2)}V${sy(v).toFixed(1)}h${-Math.max(bw - 0.3, 0.6).toFixed(2)}Z`; });
    el('path', { d, class: 'bars' }, svg);
    return svg;
  }

  // Horizontal bars around zero: [{label, value, title}] (Shapley contributions in risk points).
  function diverging(container, rows) {
    container.textContent = '';
    const W = Math.max(container.clientWidth || 0, 320), rowH = 22, H = rows.length * rowH + 20, label = 150;
    const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'chart diverging', role: 'img' }, container);
    const max = Math.max(...rows.map(r => Math.abs(r.value)), 0.1);
    const mid = label + (W - label - 60) / 2, half = (W - label - 60) / 2;
    el('line', { x1: mid, x2: mid, y1: 0, y2: H - 18, class: 'axis' }, svg);
    rows.forEach((r, i) => {
      const y = i * rowH + 4, w = Math.abs(r.value) / max * half;
      text(svg, label - 6, y + 13, r.label, { 'text-anchor': 'end' });
      const bar = el('rect', { x: r.value >= 0 ? mid : mid - w, y, width: Math.max(w, 1), height: rowH - 8,
                                class: r.value >= 0 ? 'up' : 'down' }, svg);
      el('title', {}, bar).textContent = r.title || '';
      text(svg, r.value >= 0 ? mid + w + 4 : mid - w - 4, y + 13, (r.value >= 0 ? '+' : '') + r.value.toFixed(1),
           { 'text-anchor': r.value >= 0 ? 'start' : 'end', class: 'value' });
    });
    text(svg, mid, H - 4, 'risk points vs the server’s usual values', { 'text-anchor': 'middle', class: 'axis-label' });
    return svg;
  }

  // Alert level over time: segments [{from, to, level}] between x0 and x1 (ms).
  function timeline(container, segments, x0, x1) {
    container.textContent = '';
    const W = Math.max(container.clientWidth || 0, 320), H = 46, m = { l: 10, r: 10 };
    const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'chart timeline', role: 'img' }, container);
    const sx = x => m.l + (x - x0) / Math.max(x1 - x0, 1) * (W - m.l - m.r);
    el('rect', { x: m.l, y: 4, width: W - m.l - m.r, height: 18, class: 'level-healthy' }, svg);
    for (const s of segments) {
      const a = sx(Math.max(s.from, x0)), b = sx(Math.min(s.to, x1));
      if (b <= a) continue;
      el('title', {}, el('rect', { x: a, y: 4, width: Math.max(b - a, 1.5), height: 18, class: 'level-' + s.level }, svg))
        .textContent = `${s.level} ${fmtTime(s.from)}–${fmtTime(s.to)}`;
    }
    for (const t of timeTicks(x0, x1, Math.floor(W / 80))) text(svg, sx(t), 40, fmtTime(t), { 'text-anchor': 'middle', class: 'tick' });
    return svg;
  }

  return { timeSeries, sparkline, steps, diverging, timeline, fmtTime, fmtNum };
})();
"""#
}
