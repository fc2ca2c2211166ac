/// `/dashboard/views.js`: the five views (fleet, server detail, explain, alerts, models/admin). Each has
/// `enter(main, arg)`, and optionally `onTick`, `onTraining`, `onModelLoaded`, `leave`.
enum DashboardViews {
    static let js = #"""
'use strict';
const LEVELS = ['critical', 'warning', 'degraded', 'healthy'];
const TARGETS = [['cpu_pct', 'CPU busy', '%', 100], ['mem_pct', 'Memory used', '%', 100], ['iowait_pct', 'I/O wait', '%', 100],
                 ['swap_pct', 'Swap used', '%', 100], ['disk_pct', 'Disk used', '%', 100], ['load_average', 'Load average', '', undefined]];
const badge = level => `<span class="badge level-${esc(level)}">${esc(level)}</span>`;
// Bar widths are set through the CSSOM: the page's CSP allows no inline style attributes.
const applyWidths = root => root.querySelectorAll('[data-width]').forEach(e => { e.style.width = e.dataset.width + '%'; });
const waiting = () => '<p class="muted">Waiting for the first prediction (pushed on the next tick)…</p>';
// Live skill (GET /predictions/calibration): the served error ÷ the last value's over about the last day, per horizon.
const HORIZON_LABELS = ['5 min', '30 min', '2 h', '8 h'];
const ratio = r => r === null || r === undefined ? '—' : r.toFixed(2) + '×';
const skillLine = c => c ? `Served forecast error ÷ the last value's, last day: ` +
  HORIZON_LABELS.map((h, i) => `${h} <b>${ratio(c.error_vs_last_value[i])}</b>`).join(' · ') +
  (c.coverage_served === null ? '' : ` · band held ${(100 * c.coverage_served).toFixed(0)} % of ${c.scored} scored forecasts (target 80 %)`) : '';

// ---------------- Fleet overview ----------------
const fleetState = { sort: 'risk', desc: true, profile: '', search: '' };
const Fleet = {
  enter(main) {
    main.innerHTML = `<h1>Fleet overview</h1><section id="kpis" class="kpis"></section>
      <div class="toolbar"><label>Profile <select id="profile-filter"><option value="">All profiles</option></select></label>
      <label>Server <input id="server-search" type="search" placeholder="filter by name"></label><span id="fleet-count" class="muted"></span></div>
      <table id="fleet-table" class="grid-table"><thead><tr>
        <th data-sort="name">Server</th><th data-sort="profile">Profile</th><th data-sort="risk">Risk</th><th data-sort="level">Level</th>
        <th>Risk trend</th><th data-sort="cpu">CPU</th><th data-sort="memory">Memory</th><th data-sort="alerts">Alerts</th><th data-sort="prob">P(crit 8h)</th>
      </tr></thead><tbody></tbody></table>`;
    main.querySelector('#profile-filter').addEventListener('change', e => { fleetState.profile = e.target.value; this.render(); });
    const search = main.querySelector('#server-search');
    search.value = fleetState.search;
    search.addEventListener('input', e => { fleetState.search = e.target.value; this.render(); });
    main.querySelectorAll('th[data-sort]').forEach(th => th.addEventListener('click', () => {
      const key = th.dataset.sort;
      fleetState.desc = fleetState.sort === key ? !fleetState.desc : key !== 'name' && key !== 'profile';
      fleetState.sort = key;
      this.render();
    }));
    this.loadRisk();
    this.render();
  },
  // Risk history for the sparklines, once per page load; pushed ticks extend it afterwards.
  async loadRisk() {
    if (Argus.riskLoaded) return;
    Argus.riskLoaded = true;
    try {
      const body = await api('/historical/risk?time_range=8h');
      for (const [name, s] of Object.entries(body.servers)) {
        const known = Argus.risk[name] || { t: [], v: [] };
        const t = s.timestamps.map(parseTime);
        const after = known.t.filter(x => x > t[t.length - 1]).length;
        Argus.risk[name] = { t: t.concat(known.t.slice(known.t.length - after)), v: s.risk_score.concat(known.v.slice(known.v.length - after)) };
      }
      if (Argus.view === Fleet) this.render();
    } catch (e) { Argus.riskLoaded = false; }
  },
  onTick() { this.render(); },
  render() {
    const main = document.getElementById('view');
    const tick = Argus.tick, body = main.querySelector('#fleet-table tbody');
    if (!body) return;
    if (!tick || !tick.predictions.predictions) { main.querySelector('#kpis').innerHTML = waiting(); return; }
    const p = tick.predictions, s = p.summary;
    main.querySelector('#kpis').innerHTML = [
      ['Servers', s.total_servers, ''], ['Critical', s.critical, 'critical'], ['Warning', s.warning, 'warning'],
      ['Degraded', s.degraded, 'degraded'], ['Healthy', s.healthy, 'healthy'], ['Fleet health', s.fleet_health.toFixed(1), ''],
      ['P(incident) 30 min', (100 * s.prob_30m).toFixed(1) + '%', ''], ['P(incident) 8 h', (100 * s.prob_8h).toFixed(1) + '%', ''],
    ].map(([label, value, level]) => `<div class="kpi ${level ? 'level-' + level : ''}"><div class="kpi-value">${esc(value)}</div><div class="kpi-label">${esc(label)}</div></div>`).join('');
    const alertsBy = {};
    for (const a of tick.alerts.alerts) alertsBy[a.server_name] = (alertsBy[a.server_name] || 0) + 1;
    const rows = Object.entries(p.predictions).map(([name, v]) => ({
      name, profile: v.profile, risk: v.risk_score, level: v.alert.level, cpu: parseFloat(v.display_metrics.cpu),
      memory: parseFloat(v.display_metrics.memory), alerts: alertsBy[name] || 0, prob: v.prob_8h,
    }));
    const select = main.querySelector('#profile-filter');
    const profiles = [...new Set(rows.map(r => r.profile))].sort();
    if (select.options.length !== profiles.length + 1) {
      select.innerHTML = '<option value="">All profiles</option>' + profiles.map(x => `<option>${esc(x)}</option>`).join('');
      select.value = fleetState.profile;
    }
    const key = fleetState.sort, sign = fleetState.desc ? -1 : 1;
    const order = r => key === 'level' ? -LEVELS.indexOf(r.level) : r[key];
    const shown = rows.filter(r => (!fleetState.profile || r.profile === fleetState.profile)
                                 && (!fleetState.search || r.name.toLowerCase().includes(fleetState.search.toLowerCase())))
      .sort((a, b) => { const x = order(a), y = order(b); return (x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : 1) * sign; });
    main.querySelectorAll('th[data-sort]').forEach(th => th.className = th.dataset.sort === key ? (fleetState.desc ? 'sorted desc' : 'sorted asc') : '');
    main.querySelector('#fleet-count').textContent = `${shown.length} of ${rows.length} servers`;
    body.textContent = '';
    for (const r of shown) {
      const tr = document.createElement('tr');
      tr.dataset.server = r.name;
      tr.innerHTML = `<td><a href="#/server/${encodeURIComponent(r.name)}">${esc(r.name)}</a></td><td>${esc(r.profile)}</td>
        <td class="num"><div class="riskbar"><div class="fill level-${esc(r.level)}" data-width="${Math.min(r.risk, 100)}"></div><span>${r.risk.toFixed(1)}</span></div></td>
        <td>${badge(r.level)}</td><td class="spark"></td><td class="num">${r.cpu.toFixed(1)}%</td><td class="num">${r.memory.toFixed(1)}%</td>
        <td class="num">${r.alerts || ''}</td><td class="num">${(100 * r.prob).toFixed(1)}%</td>`;
      tr.querySelector('.spark').appendChild(Charts.sparkline((Argus.risk[r.name] || { v: [] }).v.slice(-96), r.level));
      tr.addEventListener('click', e => { if (e.target.tagName !== 'A') location.hash = '#/server/' + encodeURIComponent(r.name); });
      body.appendChild(tr);
    }
    applyWidths(body);
  },
};

// ---------------- Server detail ----------------
const Server = {
  enter(main, name) {
    this.name = name;
    main.innerHTML = `<p><a href="#/fleet">← Fleet</a></p><div class="title-row"><h1>${esc(name)}</h1><span id="server-head"></span>
      <a class="button" href="#/explain/${encodeURIComponent(name)}">Explain this forecast</a></div>
      <section class="panel"><h2>Alert timeline (24 h)</h2><div id="timeline"></div><table id="server-events" class="grid-table compact"></table></section>
      <section id="charts" class="charts"></section>`;
    this.refresh = coalesce(() => this.load());
    this.load();
  },
  onTick() { this.refresh(); },
  onResize() { if (this.last) this.draw(...this.last); },
  async load() {
    const name = this.name;
    try {
      const [pred, hist, events, cal] = await Promise.all([
        api('/predictions/current?bands=true&server=' + encodeURIComponent(name)),
        api('/historical/metrics/' + encodeURIComponent(name) + '?time_range=8h'),
        api('/historical/server/' + encodeURIComponent(name) + '?time_range=1d').catch(e => e.status === 404 ? null : Promise.reject(e)),
        api('/predictions/calibration?server=' + encodeURIComponent(name)).catch(e => e.status === 404 || e.status === 429 ? null : Promise.reject(e)),
      ]);
      if (Argus.view !== Server || this.name !== name) return;
      this.last = [pred, hist, events, cal];
      this.draw(pred, hist, events, cal);
    } catch (e) {
      if (e.status !== 429) document.getElementById('charts').innerHTML = `<p class="error">${esc(e.message)}</p>`;
    }
  },
  draw(pred, hist, events, cal) {
    const v = pred.predictions && pred.predictions[this.name];
    const head = document.getElementById('server-head');
    if (!v) { document.getElementById('charts').innerHTML = waiting(); return; }
    head.innerHTML = `${badge(v.alert.level)} risk <b>${v.risk_score.toFixed(1)}</b> · ${esc(v.profile)} · P(critical) 30 min ${(100 * v.prob_30m).toFixed(1)}% · 8 h ${(100 * v.prob_8h).toFixed(1)}% · last observation ${fmtDate(parseTime(v.last_observation))}`;
    const hx = hist.metrics.timestamps.map(parseTime), fx = v.forecast.timestamps.map(parseTime);
    const charts = document.getElementById('charts');
    charts.textContent = '';
    const plots = [];
    for (const [key, label, unit, yMax] of TARGETS) {
      if (!v.forecast[key]) continue;
      const panel = document.createElement('div');
      panel.className = 'panel chart-panel';
      panel.dataset.target = key;
      const th = hist.thresholds[key];
      const skill = skillLine(cal && cal.targets && Object.values(cal.targets).find(t => t.forecast_key === key));
      panel.innerHTML = `<h2>${esc(label)} <span class="muted">${unit ? '(' + unit + ')' : ''} — observed, P50 forecast, P10–P90 band</span></h2><div class="plot"></div>` +
        (skill ? `<p class="muted skill">${skill}</p>` : '');
      charts.appendChild(panel);
      plots.push([panel.querySelector('.plot'), {
        history: { x: hx, y: hist.metrics[key] },
        forecast: { x: fx, p50: v.forecast[key], p10: v.forecast.p10[key], p90: v.forecast.p90[key] },
        thresholds: th ? [{ y: th.warning, level: 'warning' }, { y: th.critical, level: 'critical' }] : [],
        now: parseTime(v.last_observation), yMax,
      }]);
    }
    // Drawn once every panel is in the grid, so each measures its final width.
    for (const [plot, data] of plots) Charts.timeSeries(plot, data);
    // Alert timeline: level segments from the escalation events of the last 24 h.
    const end = parseTime(pred.timestamp), start = end - 86400000;
    const list = (events && events.events || []).slice().sort((a, b) => parseTime(a.timestamp) - parseTime(b.timestamp));
    const step = (pred.step_seconds || 300) * 1000;   // an episode still open shows at least one step
    const segments = list.map((e, i) => ({ from: parseTime(e.timestamp), to: i + 1 < list.length ? parseTime(list[i + 1].timestamp) : Math.max(end, parseTime(e.timestamp) + step), level: e.new_level }))
      .filter(s => s.level !== 'healthy');
    Charts.timeline(document.getElementById('timeline'), segments, start, end + step);
    document.getElementById('server-events').innerHTML = list.length
      ? '<thead><tr><th>Time</th><th>Event</th><th>From → to</th><th>Risk</th><th>Duration</th></tr></thead><tbody>' + list.slice().reverse().slice(0, 12).map(e =>
          `<tr><td>${fmtDate(parseTime(e.timestamp))}</td><td>${esc(e.event_type)}</td><td>${badge(e.previous_level)} → ${badge(e.new_level)}</td>
           <td class="num">${e.risk_score.toFixed(1)}</td><td>${fmtMinutes(e.resolution_duration_minutes)}</td></tr>`).join('') + '</tbody>'
      : '<tbody><tr><td class="muted">No alert events in the last 24 h.</td></tr></tbody>';
  },
};

// ---------------- Explain ----------------
const Explain = {
  enter(main, name) {
    this.name = name;
    main.innerHTML = `<p><a href="#/server/${encodeURIComponent(name)}">← ${esc(name)}</a></p>
      <div class="title-row"><h1>Why ${esc(name)}?</h1><span id="explain-head"></span><button id="explain-refresh" hidden>Newer forecast — refresh</button></div>
      <div id="explain-body"><p class="muted">Re-running the model on this server's window…</p></div>`;
    main.querySelector('#explain-refresh').addEventListener('click', () => this.load());
    this.load();
  },
  // The explanation is costly (hundreds of model runs): offer a refresh on new ticks instead of refetching.
  onTick(message) {
    if (this.tick !== undefined && message.tick !== this.tick) document.getElementById('explain-refresh').hidden = false;
  },
  async load() {
    const name = this.name;
    document.getElementById('explain-refresh').hidden = true;
    let e;
    try { e = await api('/explain/' + encodeURIComponent(name)); } catch (err) {
      document.getElementById('explain-body').innerHTML = `<p class="error">${esc(err.message)}</p>`; return;
    }
    if (Argus.view !== Explain || this.name !== name) return;
    this.last = e;
    this.draw(e);
  },
  onResize() { if (this.last) this.draw(this.last); },
  draw(e) {
    this.tick = e.prediction.tick;
    document.getElementById('explain-head').innerHTML = `${badge(e.prediction.alert_level)} risk <b>${e.prediction.risk_score.toFixed(1)}</b> · tick ${e.prediction.tick} · ${esc(e.prediction.model)}`;
    const body = document.getElementById('explain-body');
    body.innerHTML = `<section class="panel"><h2>Attention over the history window</h2><p>${esc(e.attention.analysis)}</p><div id="attention-chart"></div></section>
      <section class="panel"><h2>Shapley attributions <span class="muted">(${esc(e.shap.method)}, ${e.shap.model_evaluations} model runs; baseline risk ${e.shap.baseline_risk_score})</span></h2><div id="shap-chart"></div></section>
      <section class="panel"><h2>Counterfactual scenarios</h2><table id="counterfactuals" class="grid-table"><thead><tr><th>Scenario</th><th>Risk before → after</th><th>Level after</th><th>Recommendation</th></tr></thead><tbody></tbody></table></section>`;
    const weights = e.attention.encoder_weights || [], n = weights.length, stepMin = e.attention.step_minutes || 5;
    const focus = (e.attention.focus_details || []).map(f => ({ from: n - 1 - Math.round(f.from_minutes_ago / stepMin), to: n - 1 - Math.round(f.to_minutes_ago / stepMin), label: f.period }));
    Charts.steps(document.getElementById('attention-chart'), {
      values: weights, focus, label: i => { const h = (n - 1 - i) * stepMin / 60; return h === 0 ? 'now' : `−${h.toFixed(h < 2 ? 1 : 0)} h`; },
    });
    Charts.diverging(document.getElementById('shap-chart'), e.shap.top_features.map(f => ({
      label: f.feature, value: f.contribution,
      title: `${f.feature}: ${f.direction}; now ${f.current_value ?? '—'}, usual ${f.baseline_value ?? '—'}`,
    })));
    document.querySelector('#counterfactuals tbody').innerHTML = e.counterfactuals.map(c => {
      const drop = c.risk_before - c.risk_after;
      return `<tr><td>${esc(c.scenario)}</td><td class="num"><div class="riskbar wide"><div class="fill level-${esc(c.level_after)}" data-width="${Math.min(c.risk_after, 100)}"></div>
        <span>${c.risk_before.toFixed(1)} → ${c.risk_after.toFixed(1)} (${drop >= 0 ? '−' : '+'}${Math.abs(drop).toFixed(1)})</span></div></td>
        <td>${badge(c.level_after)}</td><td>${esc(c.recommendation)}</td></tr>`;
    }).join('');
    applyWidths(body);
  },
};

// ---------------- Alerts ----------------
const alertsState = { range: '1d' };
const Alerts = {
  enter(main) {
    main.innerHTML = `<h1>Alerts</h1><section class="panel"><h2>Active <span id="active-count" class="muted"></span></h2>
      <table id="alerts-active" class="grid-table"><thead><tr><th>Server</th><th>Level</th><th>Metric</th><th>Risk</th><th>Message</th><th>Expected in</th><th>Active for</th></tr></thead><tbody></tbody></table></section>
      <section class="panel"><h2>History <select id="alert-range">${['1h', '8h', '1d', '1w'].map(r => `<option${r === alertsState.range ? ' selected' : ''}>${r}</option>`).join('')}</select></h2>
      <table id="alerts-history" class="grid-table"><thead><tr><th>Time</th><th>Server</th><th>Event</th><th>From → to</th><th>Risk</th><th>Resolved</th><th>Duration</th></tr></thead><tbody></tbody></table></section>`;
    main.querySelector('#alert-range').addEventListener('change', e => { alertsState.range = e.target.value; this.load(); });
    this.events = [];
    this.refresh = coalesce(() => this.load());
    this.renderActive();
    this.load();
  },
  onTick() { this.renderActive(); this.refresh(); },
  async load() {
    try { this.events = (await api(`/historical/alerts?time_range=${alertsState.range}&limit=500`)).alerts; } catch (e) { return; }
    if (Argus.view !== Alerts) return;
    this.renderActive();
    document.querySelector('#alerts-history tbody').innerHTML = this.events.map(e => `<tr data-server="${esc(e.server_name)}"><td>${fmtDate(parseTime(e.timestamp))}</td>
      <td><a href="#/server/${encodeURIComponent(e.server_name)}">${esc(e.server_name)}</a></td><td>${esc(e.event_type)}</td>
      <td>${badge(e.previous_level)} → ${badge(e.new_level)}</td><td class="num">${e.risk_score.toFixed(1)}</td>
      <td>${e.resolved_at ? fmtDate(parseTime(e.resolved_at)) : '<span class="muted">open</span>'}</td><td>${fmtMinutes(e.resolution_duration_minutes)}</td></tr>`).join('')
      || '<tr><td colspan="7" class="muted">No alert events in this range.</td></tr>';
  },
  renderActive() {
    const body = document.querySelector('#alerts-active tbody');
    if (!body) return;
    if (!Argus.tick) { body.innerHTML = `<tr><td colspan="7">${waiting()}</td></tr>`; return; }
    const now = parseTime(Argus.tick.predictions.timestamp || Argus.tick.alerts.timestamp);
    // Active for: since the server's latest escalation out of healthy (the episode's start), from the history.
    const since = {};
    for (const e of this.events || []) if (e.event_type === 'escalated' && e.previous_level === 'healthy') {
      const t = parseTime(e.timestamp);
      if (!(e.server_name in since) || t > since[e.server_name]) since[e.server_name] = t;
    }
    const alerts = Argus.tick.alerts.alerts.slice().sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || b.risk_score - a.risk_score);
    document.getElementById('active-count').textContent = `(${alerts.length})`;
    body.innerHTML = alerts.map(a => `<tr data-server="${esc(a.server_name)}" class="row-${esc(a.level)}"><td><a href="#/server/${encodeURIComponent(a.server_name)}">${esc(a.server_name)}</a></td>
      <td>${badge(a.level)}</td><td>${esc(a.metric)}</td><td class="num">${a.risk_score.toFixed(1)}</td><td>${esc(a.message)}</td><td>${esc(a.time_to_issue)}</td>
      <td>${a.server_name in since ? fmtMinutes((now - since[a.server_name]) / 60000) : '—'}</td></tr>`).join('')
      || '<tr><td colspan="7" class="muted">No active alerts.</td></tr>';
  },
};

// ---------------- Models / admin ----------------
const Admin = {
  enter(main) {
    main.innerHTML = `<h1>Models and training</h1>
      <section class="panel"><h2>Training</h2>
        <div class="toolbar"><label>Epochs <input id="train-epochs" type="number" min="1" max="1000" value="1"></label>
        <label><input id="train-incremental" type="checkbox" checked> incremental (continue from the model in service)</label>
        <button id="train-start">Start training</button><button id="train-cancel" class="danger">Cancel</button></div>
        <div class="progress"><div id="train-bar" class="bar" data-percent="0"></div><span id="train-percent">0%</span></div>
        <p id="train-status" class="muted">No training has run yet.</p>
      </section>
      <section class="panel"><h2>Models <button id="reload-newest">Reload newest</button></h2>
        <table id="models" class="grid-table"><thead><tr><th>Name</th><th>Created</th><th>Size</th><th></th></tr></thead><tbody></tbody></table></section>
      <section class="panel"><h2>Forecast quality <span class="muted">— served error ÷ the last value's over about the last day (below 1×: better than repeating the last value), fleet median and share of servers below 1×</span></h2>
        <table id="quality" class="grid-table"><thead><tr><th>Target</th><th class="num">Servers</th><th class="num">Band coverage (target 80 %)</th>${HORIZON_LABELS.map(h => `<th class="num">${h}</th>`).join('')}</tr></thead><tbody></tbody></table></section>
      <section class="panel"><h2>Recent trainings</h2><p id="train-stats" class="muted"></p>
        <table id="runs" class="grid-table"><thead><tr><th>Training</th><th>Status</th><th>Started</th><th>Epochs</th><th>Model</th><th>Best val loss</th></tr></thead><tbody></tbody></table></section>`;
    main.querySelector('#train-start').addEventListener('click', () => this.act(() => api(
      `/admin/trigger-training?epochs=${encodeURIComponent(main.querySelector('#train-epochs').value)}&incremental=${main.querySelector('#train-incremental').checked}`, { method: 'POST' }),
      r => `Training ${r.training_id} started.`));
    main.querySelector('#train-cancel').addEventListener('click', () => this.act(() => api('/admin/cancel-training', { method: 'POST' }), r => r.message));
    main.querySelector('#reload-newest').addEventListener('click', () => this.act(() => api('/admin/reload-model', { method: 'POST' }), r => r.message + ': ' + r.model));
    main.querySelector('#models').addEventListener('click', e => {
      const path = e.target.dataset && e.target.dataset.reload;
      if (path) this.act(() => api('/admin/reload-model', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model_path: path }) }),
                         r => r.message + ': ' + r.model);
    });
    if (Argus.training) this.onTraining(Argus.training);
    this.refreshQuality = coalesce(() => this.loadQuality());
    this.load();
    this.loadQuality();
  },
  onTick() { this.refreshQuality(); },
  async loadQuality() {
    try {
      const cal = await api('/predictions/calibration');
      if (Argus.view !== Admin) return;
      const labels = Object.fromEntries(TARGETS.map(([key, label]) => [key, label]));
      const rows = Object.entries(cal.targets || {}).map(([name, t]) => `<tr data-target="${esc(t.forecast_key)}"><td>${esc(labels[t.forecast_key] || name)}</td><td class="num">${t.servers}</td>
        <td class="num">${t.coverage_served === null ? '—' : (100 * t.coverage_served).toFixed(0) + ' %'}</td>` +
        HORIZON_LABELS.map((_, i) => `<td class="num">${ratio(t.median_error_vs_last_value[i])}` +
          (t.share_beating_last_value[i] === null ? '' : ` <span class="muted">(${(100 * t.share_beating_last_value[i]).toFixed(0)} % below)</span>`) + '</td>').join('') + '</tr>');
      document.querySelector('#quality tbody').innerHTML = rows.join('') ||
        `<tr><td colspan="7" class="muted">${cal.enabled === false ? 'Online calibration is off (--band-calibration off).' : 'Nothing scored yet: a forecast is scored once the step it forecast has been observed.'}</td></tr>`;
    } catch (e) { /* a 429 retries on the next tick; the notice says anything else */ }
  },
  async act(call, describe) {
    try { notice(describe(await call())); } catch (e) { notice(e.message, 'error'); }
  },
  async load() {
    try {
      const [models, stats] = await Promise.all([api('/admin/models'), api('/admin/training-stats')]);
      if (Argus.view !== Admin) return;
      document.querySelector('#models tbody').innerHTML = models.models.map(m => `<tr><td>${esc(m.name)} ${m.is_current ? '<span class="badge current">in service</span>' : ''}</td>
        <td>${fmtDate(parseTime(m.created))}</td><td class="num">${m.size_mb === null ? '—' : m.size_mb.toFixed(2) + ' MB'}</td>
        <td>${m.is_current ? '' : `<button data-reload="${esc(m.path)}">Reload this</button>`}</td></tr>`).join('');
      document.getElementById('train-stats').textContent = `${stats.total_trainings} trainings, ${stats.completed} completed, ${stats.cancelled} cancelled, ${stats.failed} failed` +
        (stats.avg_training_time_minutes !== null ? `; average ${stats.avg_training_time_minutes} min` : '');
      document.querySelector('#runs tbody').innerHTML = stats.recent.map(r => `<tr><td>${esc(r.training_id)}</td><td>${esc(r.status)}</td><td>${fmtDate(parseTime(r.started_at))}</td>
        <td class="num">${r.epochs_run}/${r.epochs}</td><td>${esc(r.model || '—')}</td><td class="num">${r.best_val_loss ?? '—'}</td></tr>`).join('');
    } catch (e) { /* the notice says why */ }
  },
  onTraining(t) {
    const bar = document.getElementById('train-bar');
    if (!bar) return;
    const pct = t.progress.percent;
    bar.style.width = pct + '%';
    bar.dataset.percent = String(pct);
    bar.className = 'bar ' + t.status;
    document.getElementById('train-percent').textContent = pct.toFixed(1) + '%';
    const p = t.progress;
    document.getElementById('train-status').textContent = t.training_id
      ? `${t.training_id}: ${t.status}` + (t.training_active ? ` — epoch ${p.epoch}/${p.total_epochs}, step ${p.step}/${p.steps_per_epoch}` +
        (p.loss !== null ? `, loss ${p.loss}` : '') + (p.eta_minutes !== null ? `, ETA ${fmtMinutes(p.eta_minutes)}` : '') : '') +
        (t.model_produced ? ` — produced ${t.model_produced}${t.model_reloaded ? ' (now in service)' : ''}` : '') + (t.error ? ` — ${t.error}` : '')
      : 'No training has run yet.';
    document.getElementById('train-start').disabled = t.training_active;
    document.getElementById('train-cancel').disabled = !t.training_active;
    // A job started or ended: its row in the recent runs, and a new model, show up.
    if (this.lastActive !== undefined && t.training_active !== this.lastActive) this.load();
    this.lastActive = t.training_active;
  },
  onModelLoaded() { this.load(); },
};

const Views = { fleet: Fleet, server: Server, explain: Explain, alerts: Alerts, admin: Admin };
"""#
}
