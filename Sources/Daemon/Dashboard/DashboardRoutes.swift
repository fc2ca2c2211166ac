import HTTPServer

/// The built-in dashboard: a single page with its script and style, compiled into the binary (public: they
/// hold no data), and the live push socket. Every data call the page makes goes to the API with `X-API-Key`.
struct DashboardRoutes: Sendable {
    let push: DashboardPush

    /// One static file: path below `/dashboard`, content type, bytes.
    struct Asset: Sendable {
        var path: String
        var contentType: String
        var body: [UInt8]
    }

    static let assets: [Asset] = [
        Asset(path: "/dashboard", contentType: "text/html; charset=utf-8", body: Array(DashboardPage.html.utf8)),
        Asset(path: "/dashboard/app.css", contentType: "text/css; charset=utf-8", body: Array(DashboardStyle.css.utf8)),
        Asset(path: "/dashboard/charts.js", contentType: "text/javascript; charset=utf-8", body: Array(DashboardCharts.js.utf8)),
        Asset(path: "/dashboard/app.js", contentType: "text/javascript; charset=utf-8", body: Array(DashboardApp.js.utf8)),
        Asset(path: "/dashboard/views.js", contentType: "text/javascript; charset=utf-8", body: Array(DashboardViews.js.utf8)),
    ]

    /// Same-origin only: scripts, styles, fetches and the WebSocket come from the daemon itself.
    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        // The page changes with the binary; revalidate rather than serve a stale script after an upgrade.
        ("Cache-Control", "no-cache"),
    ]

    func addRoutes(to router: Router<BasicRequestContext>) {
        for asset in Self.assets {
            var response = Response(contentType: asset.contentType, body: asset.body)
            for (name, value) in Self.securityHeaders { response.headers.replaceOrAdd(name: name, value: value) }
            let fixed = response
            let name = asset.path == "/dashboard" ? "page" : String(asset.path.dropFirst("/dashboard/".count))
            router.get(asset.path, execution: .eventLoop, docs: OpenAPIOperation(
                summary: "Built-in dashboard (\(name); public, holds no data)", tags: ["dashboard"])) { _, _ in fixed }
        }
        router.webSocket("/dashboard/ws", docs: OpenAPIOperation(
            summary: "Dashboard live push: send {\"type\":\"auth\",\"key\":API_KEY} first; then tick, training and model_loaded events",
            tags: ["dashboard"])) { [push] _, _ in push.handler() }
    }
}
