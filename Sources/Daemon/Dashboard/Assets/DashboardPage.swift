/// `/dashboard`: the page shell. The views fill `<main>`; the key prompt is an overlay.
enum DashboardPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Argus dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/app.css">
<script src="/dashboard/charts.js" defer></script>
<script src="/dashboard/views.js" defer></script>
<script src="/dashboard/app.js" defer></script>
</head>
<body>
<header>
  <span class="brand">Argus</span>
  <nav><a href="#/fleet" data-nav="fleet">Fleet</a><a href="#/alerts" data-nav="alerts">Alerts</a><a href="#/admin" data-nav="admin">Models</a></nav>
  <span id="tick-info" class="muted"></span>
  <span id="live" class="live off">offline</span>
  <button id="forget-key" title="Remove the API key from this tab">Forget key</button>
</header>
<div id="notice" class="notice" hidden></div>
<main id="view"></main>
<div id="key-overlay" class="overlay" hidden>
  <form id="key-form" class="panel">
    <h2>API key</h2>
    <p class="muted">Sent as <code>X-API-Key</code> to this daemon only, and kept in this tab's session storage (gone when the tab closes).
    <code>argusd</code> prints where its key file is.</p>
    <input id="key-input" type="password" autocomplete="off" placeholder="API key" aria-label="API key">
    <button type="submit">Connect</button>
    <p id="key-error" class="error"></p>
  </form>
</div>
</body>
</html>
"""#
}
