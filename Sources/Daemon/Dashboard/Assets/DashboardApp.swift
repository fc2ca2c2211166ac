/// `/dashboard/app.js`: the API key (asked once, kept in `sessionStorage`), API calls with `X-API-Key`, the
/// live WebSocket (`/dashboard/ws`, key sent as the first message), and hash routing between the views.
enum DashboardApp {
    static let js = #"""
'use strict';
// Shared state: the latest pushed tick, training status, and per-server risk samples for sparklines.
const Argus = {
  key: sessionStorage.getItem('argus.apiKey'),
  tick: null,           // the last `tick` message: {tick, predictions: {predictions, summary, ...}, alerts: {...}}
  training: null,       // the last `training` message (GET /admin/training-status fields)
  risk: {},             // server -> {t: [ms], v: [risk]}, oldest first
  riskLoaded: false,
  socket: null,
  live: false,
  view: null,
};

// ISO timestamps without a zone are UTC (the API's convention).
function parseTime(s) { return s ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : s + 'Z') : NaN; }
function esc(s) { return String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c])); }
function fmtDate(ms) { return Number.isFinite(ms) ? new Date(ms).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }) : '—'; }
function fmtMinutes(min) {
  if (min === null || min === undefined || !Number.isFinite(min)) return '—';
  if (min < 60) return Math.round(min) + ' min';
  if (min < 1440) return (min / 60).toFixed(1) + ' h';
  return (min / 1440).toFixed(1) + ' d';
}
function notice(message, kind = 'info') {
  const box = document.getElementById('notice');
  if (!message) { box.hidden = true; return; }
  box.textContent = message; box.className = 'notice ' + kind; box.hidden = false;
}

class APIError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

// Every data call: same origin, X-API-Key. 401 asks for the key again; 429 says when to retry.
async function api(path, options = {}) {
  const headers = Object.assign({ 'X-API-Key': Argus.key || '' }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (response.status === 401) { askForKey('The API key was refused. Enter it again.'); throw new APIError(401, 'Invalid or missing API key'); }
  if (response.status === 429) {
    const wait = response.headers.get('Retry-After') || '60';
    notice(`Rate limit reached for ${path.split('?')[0]}; the dashboard retries on the next tick (Retry-After ${wait} s).`, 'warn');
    throw new APIError(429, 'rate limited');
  }
  if (!response.ok) {
    const detail = body && (typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail)) || response.statusText;
    throw new APIError(response.status, detail);
  }
  return body;
}

// ---- API key: asked once, kept for this browser tab only ----
function askForKey(message) {
  Argus.key = null;
  sessionStorage.removeItem('argus.apiKey');
  if (Argus.socket) { Argus.socket.onclose = null; Argus.socket.close(); Argus.socket = null; }
  setLive(false);
  document.getElementById('key-error').textContent = message || '';
  document.getElementById('key-overlay').hidden = false;
  document.getElementById('key-input').focus();
}

async function submitKey(event) {
  event.preventDefault();
  const key = document.getElementById('key-input').value.trim();
  if (!key) return;
  // Check it once against an authenticated, unthrottled route before keeping it.
  const response = await fetch('/admin/training-status', { headers: { 'X-API-Key': key } });
  if (response.status !== 200) { document.getElementById('key-error').textContent = 'That key was refused (HTTP ' + response.status + ').'; return; }
  Argus.key = key;
  sessionStorage.setItem('argus.apiKey', key);
  document.getElementById('key-input').value = '';
  document.getElementById('key-overlay').hidden = true;
  connect();
  route();
}

// ---- Live push ----
let reconnectDelay = 1000;
function setLive(on, text) {
  Argus.live = on;
  const badge = document.getElementById('live');
  badge.className = 'live ' + (on ? 'on' : 'off');
  badge.textContent = text || (on ? 'live' : 'offline');
}

function connect() {
  if (!Argus.key || Argus.socket) return;
  const socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/dashboard/ws');
  Argus.socket = socket;
  setLive(false, 'connecting');
  socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', key: Argus.key }));
  socket.onmessage = event => {
    let message;
    try { message = JSON.parse(event.data); } catch (_) { return; }
    if (message.type === 'hello') { setLive(true); reconnectDelay = 1000; }
    else if (message.type === 'tick') onTick(message);
    else if (message.type === 'training') { Argus.training = message; Argus.view?.onTraining?.(message); }
    else if (message.type === 'model_loaded') { notice('Model loaded: ' + message.name); Argus.view?.onModelLoaded?.(message); }
  };
  socket.onclose = event => {
    Argus.socket = null;
    if (event.code === 4401) { askForKey('The live connection refused the API key. Enter it again.'); return; }
    setLive(false, 'reconnecting');
    setTimeout(connect, reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, 15000);
  };
}

function onTick(message) {
  if (Argus.tick && message.tick < Argus.tick.tick) return;   // a greeting that raced a newer broadcast
  const fresh = !Argus.tick || message.tick !== Argus.tick.tick;
  Argus.tick = message;
  const p = message.predictions;
  document.getElementById('tick-info').textContent = p.timestamp ? `tick ${message.tick} · data ${fmtDate(parseTime(p.timestamp))} · ${p.model || ''}` : 'warming up';
  if (fresh && p.predictions) {
    const t = parseTime(p.timestamp);
    for (const [name, s] of Object.entries(p.predictions)) {
      const series = Argus.risk[name] || (Argus.risk[name] = { t: [], v: [] });
      if (series.t.length && series.t[series.t.length - 1] >= t) continue;
      series.t.push(t); series.v.push(s.risk_score);
      if (series.t.length > 400) { series.t.shift(); series.v.shift(); }
    }
  }
  Argus.view?.onTick?.(message);
}

// Runs `fn` at most once per `gap` ms, always with the latest call last (API reads on pushed ticks).
function coalesce(fn, gap = 2000) {
  let last = 0, timer = null;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + gap - Date.now());
    timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
  };
}

// ---- Routing: #/fleet, #/server/NAME, #/explain/NAME, #/alerts, #/admin ----
function route() {
  const [, name = 'fleet', arg] = location.hash.match(/^#\/([^/]*)\/?(.*)$/) || [];
  const view = Views[name] ? name : 'fleet';
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.nav === (view === 'server' || view === 'explain' ? 'fleet' : view)));
  Argus.view?.leave?.();
  const main = document.getElementById('view');
  main.textContent = '';
  main.dataset.view = view;
  notice(null);
  Argus.view = Views[view];
  if (Argus.key) Argus.view.enter(main, decodeURIComponent(arg || ''));
}

window.addEventListener('hashchange', route);
let resizeTimer = null;
window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => Argus.view?.onResize?.(), 150); });
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('key-form').addEventListener('submit', submitKey);
  document.getElementById('forget-key').addEventListener('click', () => askForKey('Key forgotten for this tab.'));
  if (!Argus.key) askForKey(); else connect();
  route();
});
"""#
}
