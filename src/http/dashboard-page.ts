import type { EventRow } from './overview-data.js';

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A plain HTML table: no script, so it works under any CSP. */
export function renderEvents(events: readonly EventRow[], namespace: string | undefined): string {
  const rows = events
    .map(
      (e) =>
        `<tr><td>${esc(e.receivedat)}</td><td>${esc(e.platform)}/${esc(e.namespace)}</td><td>${esc(e.type)}</td><td>${esc(e.participantid)}</td>` +
        `<td class="ok">${esc(e.delivered.join(', '))}</td><td>${esc(e.pending.join(', '))}</td><td class="bad">${esc(e.failed.join(', '))}</td><td><code>${esc(e.id)}</code></td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>studyhook: recent events</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}.ok{color:#060}.bad{color:#a00}code{font-size:12px}</style></head>
<body><h1>Recent events${namespace ? ` in ${esc(namespace)}` : ''}</h1>
<p><a href="/admin/overview">Overview</a> · <a href="/admin/queues">Queues and dead letters</a> · filter: <form style="display:inline" method="get"><input name="namespace" value="${esc(namespace)}" placeholder="namespace"><button>show</button></form></p>
<table><thead><tr><th>received</th><th>platform/namespace</th><th>type</th><th>participant</th><th>delivered to</th><th>pending</th><th>failed</th><th>id</th></tr></thead>
<tbody>${rows || '<tr><td colspan="8">No events in the last hour.</td></tr>'}</tbody></table></body></html>`;
}
