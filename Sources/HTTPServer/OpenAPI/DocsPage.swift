/// A self-contained page that fetches the OpenAPI document and renders every operation:
/// parameters, request body, responses with schemas and examples, and a form to try a request
/// (with an optional API key). No external scripts or styles.
enum DocsPage {
    static func html(title: String, documentPath: String) -> String {
        let safeTitle = title.replacingHTMLSpecials()
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(safeTitle) — API docs</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
        header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
        main{max-width:1000px;margin:0 auto;padding:16px}
        .op{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:8px 0}
        .op>summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:center}
        .m{font-weight:700;min-width:64px;text-align:center;border-radius:4px;color:#fff;padding:2px 6px;font-size:12px}
        .get{background:#2f7bd8}.post{background:#2a9d5b}.put{background:#c27c0e}.patch{background:#8a5cc7}.delete{background:#c43d3d}
        .path{font-family:ui-monospace,monospace}.lock{color:#c27c0e}
        .body{padding:4px 16px 12px;border-top:1px solid #eef0f3}
        pre{background:#f1f3f6;padding:8px;border-radius:4px;overflow:auto;max-height:320px}
        h3{margin:10px 0 4px;font-size:13px;text-transform:uppercase;color:#5b6475}
        input,textarea{font:inherit;padding:4px;border:1px solid #c8ced8;border-radius:4px}
        textarea{width:100%;min-height:80px;font-family:ui-monospace,monospace}
        button{padding:4px 12px;border:0;border-radius:4px;background:#1d2330;color:#fff;cursor:pointer}
        </style></head>
        <body><header><h1 id="title">\(safeTitle)</h1><div id="desc"></div></header>
        <main><p>API key (sent as <code>X-API-Key</code>): <input id="key" type="password" size="32"></p>
        <div id="ops">Loading <code>\(documentPath)</code>…</div></main>
        <script>
        const esc = s => String(s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
        const pretty = v => esc(JSON.stringify(v, null, 2));
        function section(name, html){ return html ? `<h3>${name}</h3>${html}` : ''; }
        function render(doc){
          document.getElementById('desc').textContent = (doc.info.description || '') + ' v' + doc.info.version;
          const out = [];
          for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
            const id = 'op' + out.length;
            const params = (op.parameters || []).map(p => `<div><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})
              ${p.in !== 'header' ? `<input data-param="${esc(p.name)}" data-in="${esc(p.in)}" placeholder="${esc(p.name)}">` : ''}</div>`).join('');
            const body = op.requestBody ? op.requestBody.content['application/json'] : null;
            const responses = Object.entries(op.responses || {}).map(([code, r]) => {
              const media = r.content ? r.content['application/json'] : null;
              return `<div><b>${esc(code)}</b> ${esc(r.description)}${media && media.example !== undefined ? `<pre>${pretty(media.example)}</pre>` : ''}
                ${media && media.schema ? `<details><summary>schema</summary><pre>${pretty(media.schema)}</pre></details>` : ''}</div>`;
            }).join('');
            out.push(`<details class="op" id="${id}"><summary><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span>
              <span class="path">${esc(path)}</span><span>${esc(op.summary || '')}</span>${op.security ? '<span class="lock">🔒</span>' : ''}
              ${op['x-websocket'] ? '<span>WebSocket</span>' : ''}</summary><div class="body">
              ${op.description ? `<p>${esc(op.description)}</p>` : ''}
              ${section('Parameters', params)}
              ${body ? section('Request body', `${body.schema ? `<details><summary>schema</summary><pre>${pretty(body.schema)}</pre></details>` : ''}
                <textarea data-body>${body.example !== undefined ? pretty(body.example) : ''}</textarea>`) : ''}
              ${section('Responses', responses)}
              ${op['x-websocket'] ? '' : `<p><button data-try="${esc(method)} ${esc(path)}">Try it</button></p><pre data-result hidden></pre>`}
            </div></details>`);
          }
          document.getElementById('ops').innerHTML = out.join('') || 'No routes.';
        }
        document.addEventListener('click', async e => {
          const button = e.target.closest('[data-try]'); if (!button) return;
          const box = button.closest('.body'); const [method, template] = button.dataset.try.split(' ');
          let path = template; const query = new URLSearchParams();
          for (const input of box.querySelectorAll('[data-param]')) {
            if (input.dataset.in === 'path') path = path.replace('{' + input.dataset.param + '}', encodeURIComponent(input.value));
            else if (input.value) query.append(input.dataset.param, input.value);
          }
          const headers = {}; const key = document.getElementById('key').value; if (key) headers['X-API-Key'] = key;
          const bodyField = box.querySelector('[data-body]'); let body;
          if (bodyField && method !== 'get') { headers['Content-Type'] = 'application/json'; body = bodyField.value; }
          const result = box.querySelector('[data-result]'); result.hidden = false; result.textContent = '…';
          try {
            const response = await fetch(path + (query.toString() ? '?' + query : ''), {method: method.toUpperCase(), headers, body});
            const text = await response.text();
            let shown = text; try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch {}
            result.textContent = response.status + ' ' + response.statusText + '\\n\\n' + shown;
          } catch (error) { result.textContent = String(error); }
        });
        fetch('\(documentPath)').then(r => r.json()).then(render)
          .catch(e => { document.getElementById('ops').textContent = 'Could not load the document: ' + e; });
        </script></body></html>
        """
    }
}

extension String {
    fileprivate func replacingHTMLSpecials() -> String {
        var output = ""
        for character in self {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            default: output.append(character)
            }
        }
        return output
    }
}
