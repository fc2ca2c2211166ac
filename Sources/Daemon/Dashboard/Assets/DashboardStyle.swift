/// `/dashboard/app.css`: a dark theme in the spirit of Grafana; level colours follow the API's alert colours.
enum DashboardStyle {
    static let css = #"""
:root { --bg: #111217; --panel: #181b1f; --line: #2c3038; --text: #d8d9da; --muted: #8e939c; --accent: #3d71d9;
        --critical: #f2495c; --warning: #ff9830; --degraded: #fade2a; --healthy: #73bf69; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; align-items: center; gap: 18px; padding: 8px 18px; background: var(--panel); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 18px; letter-spacing: .5px; }
nav a { color: var(--muted); text-decoration: none; padding: 6px 10px; border-radius: 4px; }
nav a.active, nav a:hover { color: var(--text); background: #22252b; }
#tick-info { margin-left: auto; font-size: 12px; }
main { padding: 12px 18px 40px; }
h1 { font-size: 20px; margin: 6px 0 12px; } h2 { font-size: 14px; margin: 0 0 8px; font-weight: 600; }
a { color: #6e9fff; }
.muted { color: var(--muted); font-weight: normal; } .error { color: var(--critical); }
button, .button { background: #22252b; color: var(--text); border: 1px solid var(--line); border-radius: 4px; padding: 5px 12px; cursor: pointer; font: inherit; text-decoration: none; }
button:hover, .button:hover { border-color: var(--accent); } button:disabled { opacity: .45; cursor: default; }
button.danger { border-color: #6b2630; }
input, select { background: #0b0c0e; color: var(--text); border: 1px solid var(--line); border-radius: 4px; padding: 4px 8px; font: inherit; }
.live { font-size: 12px; padding: 2px 8px; border-radius: 10px; border: 1px solid var(--line); }
.live.on { color: var(--healthy); border-color: var(--healthy); } .live.on::before { content: "● "; }
.live.off { color: var(--muted); }
.notice { padding: 8px 18px; background: #1f2a3d; border-bottom: 1px solid var(--line); }
.notice.warn { background: #3d2f12; } .notice.error { background: #3d1a1f; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 12px; margin-bottom: 12px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 10px; margin-bottom: 12px; }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 10px 12px; }
.kpi-value { font-size: 24px; font-weight: 600; } .kpi-label { color: var(--muted); font-size: 12px; }
.kpi.level-critical .kpi-value { color: var(--critical); } .kpi.level-warning .kpi-value { color: var(--warning); }
.kpi.level-degraded .kpi-value { color: var(--degraded); } .kpi.level-healthy .kpi-value { color: var(--healthy); }
.toolbar { display: flex; gap: 16px; align-items: center; margin-bottom: 10px; flex-wrap: wrap; }
.grid-table { width: 100%; border-collapse: collapse; background: var(--panel); }
.grid-table th, .grid-table td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
.grid-table th { color: var(--muted); font-weight: 600; font-size: 12px; white-space: nowrap; }
.grid-table th[data-sort] { cursor: pointer; } .grid-table th.sorted { color: var(--text); }
.grid-table th.sorted.desc::after { content: " ▼"; } .grid-table th.sorted.asc::after { content: " ▲"; }
#fleet-table tbody tr { cursor: pointer; } #fleet-table tbody tr:hover { background: #1f2329; }
.grid-table.compact td { padding: 3px 8px; font-size: 13px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: 0 7px; border-radius: 3px; font-size: 12px; font-weight: 600; color: #111; }
.badge.level-critical { background: var(--critical); } .badge.level-warning { background: var(--warning); }
.badge.level-degraded { background: var(--degraded); } .badge.level-healthy { background: var(--healthy); }
.badge.current { background: var(--accent); color: #fff; }
.riskbar { position: relative; min-width: 110px; height: 18px; background: #0b0c0e; border-radius: 3px; overflow: hidden; }
.riskbar.wide { min-width: 210px; }
.riskbar .fill { position: absolute; inset: 0 auto 0 0; opacity: .55; }
.riskbar span { position: relative; padding: 0 6px; font-size: 12px; line-height: 18px; }
.fill.level-critical { background: var(--critical); } .fill.level-warning { background: var(--warning); }
.fill.level-degraded { background: var(--degraded); } .fill.level-healthy { background: var(--healthy); }
.title-row { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; } .title-row .button, .title-row button { margin-left: auto; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 12px; }
.chart-panel { margin: 0; } .chart-panel p.skill { margin: 6px 0 0; font-size: 12px; }
svg.chart { display: block; font-size: 11px; }
svg .grid line { stroke: #262a31; } svg .grid text, svg text.tick { fill: var(--muted); }
svg .observed { fill: none; stroke: #8ab8ff; stroke-width: 1.5; }
svg .p50 { fill: none; stroke: #b877d9; stroke-width: 1.8; stroke-dasharray: 5 3; }
svg .band { fill: #b877d9; fill-opacity: .22; stroke: none; }
svg .threshold { stroke-width: 1; stroke-dasharray: 3 3; }
svg .threshold.warning { stroke: var(--warning); } svg .threshold.critical { stroke: var(--critical); }
svg .threshold-label { font-size: 10px; } svg .threshold-label.warning { fill: var(--warning); } svg .threshold-label.critical { fill: var(--critical); }
svg .now { stroke: var(--muted); stroke-dasharray: 2 2; }
svg .cross { stroke: #555b66; } svg .tip { fill: var(--text); font-size: 11px; }
svg text.empty { fill: var(--muted); }
svg.sparkline path { fill: none; stroke: #8ab8ff; stroke-width: 1.4; }
svg.sparkline.critical path { stroke: var(--critical); } svg.sparkline.warning path { stroke: var(--warning); }
svg.sparkline .flat { stroke: var(--line); }
svg .bars { fill: #8ab8ff; } svg .focus { fill: #ff9830; fill-opacity: .13; }
svg.diverging text { fill: var(--text); } svg .up { fill: var(--critical); } svg .down { fill: var(--healthy); }
svg .axis { stroke: var(--line); } svg .axis-label { fill: var(--muted); font-size: 11px; }
svg .level-healthy { fill: #1f3322; } svg .level-degraded { fill: var(--degraded); }
svg .level-warning { fill: var(--warning); } svg .level-critical { fill: var(--critical); }
.progress { position: relative; height: 22px; background: #0b0c0e; border: 1px solid var(--line); border-radius: 4px; overflow: hidden; margin: 8px 0; }
.progress .bar { width: 0; height: 100%; background: var(--accent); transition: width .2s; }
.progress .bar.completed { background: var(--healthy); } .progress .bar.failed, .progress .bar.cancelled { background: #6b2630; }
.progress span { position: absolute; inset: 0; text-align: center; line-height: 22px; font-size: 12px; }
.overlay { position: fixed; inset: 0; background: rgba(0,0,0,.7); display: flex; align-items: center; justify-content: center; }
.overlay[hidden] { display: none; }
.overlay form { width: 420px; }
.overlay input { width: 100%; margin: 8px 0; }
"""#
}
