import { PAGE_CSS } from './study-page-html.js';

/** `/admin/overview`: a shell that its script fills from `overview/data.json` and refreshes. */
export const OVERVIEW_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>studyhook: overview</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/admin/assets/overview.css">
<script src="/admin/studies/assets/chart.js" defer></script><script src="/admin/assets/overview.js" defer></script></head>
<body><header><h1>studyhook</h1><p class="muted"><span id="updated">loading…</span></p>
<nav><a href="/admin/overview">overview</a> · <a href="/admin/studies">studies</a> · <a href="/admin/events">recent events (plain)</a> · <a href="/admin/queues">queues (Bull Board)</a></nav>
<p class="filters"><label>search <input id="q" type="search" size="44" placeholder="event id, job id, participant, type, namespace…"></label></p></header>
<section id="cards" class="cards"></section>
<section class="grid"><div class="panel"><h2>Events per platform and namespace (archive)</h2><table id="namespaces"><thead><tr><th>platform</th><th>namespace</th><th>events</th><th>last 24 h</th><th>last received</th><th>dead letters</th><th>quarantined</th></tr></thead><tbody></tbody></table></div>
<div class="panel"><h2>Events per hour, last 72 hours</h2><div class="chart"><canvas id="hourly" aria-label="events per hour"></canvas></div></div></section>
<section class="panel"><h2>Failed deliveries (dead letters)</h2><p class="muted">Replay one with the command shown, or all of a sink with <code>studyhook replay --sink NAME</code>; the job link opens it in Bull Board.</p>
<table id="failures"><thead><tr><th>failed</th><th>sink</th><th>platform/namespace</th><th>type</th><th>event id</th><th>attempts</th><th>error</th><th>replay</th></tr></thead><tbody></tbody></table></section>
<section class="panel"><h2>Quarantine</h2><p class="muted">Payloads kept because they could not be used. After a fix, run the command shown to put them through the pipeline again.</p>
<table id="quarantine"><thead><tr><th>received</th><th>platform/namespace</th><th>route</th><th>reason</th><th>problems</th><th>request id</th><th>republish</th></tr></thead><tbody></tbody></table></section>
<section class="panel"><h2>Recent events (delivered ones for an hour)</h2>
<table id="events"><thead><tr><th>received</th><th>platform/namespace</th><th>type</th><th>participant</th><th>delivered to</th><th>pending</th><th>failed</th><th>event id</th></tr></thead><tbody></tbody></table></section>
</body></html>`;

export const OVERVIEW_CSS = `${PAGE_CSS}
td.id a{font-family:ui-monospace,monospace;font-size:12px}td.err{color:#b3142c;max-width:36em;word-break:break-word}tr.hit{background:#fff7d6}
.ok{color:#137a2e}.pending{color:#b35a00}`;

/**
 * The page's script (a file: the page's CSP allows no inline script). It reads `data.json` every
 * `refreshSeconds`, writes every value with textContent (never HTML from data), and makes each event
 * id a link that searches for it.
 */
export const OVERVIEW_SCRIPT = `'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const q = $('q');
  q.value = new URLSearchParams(location.search).get('q') || '';
  let chart;
  let timer;
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; };
  const code = (text) => { const td = el('td'); td.append(el('code', text)); return td; };
  const idCell = (id) => { const td = el('td', undefined, 'id'); const a = el('a', id); a.href = '?q=' + encodeURIComponent(id); a.addEventListener('click', (ev) => { ev.preventDefault(); q.value = id; go(); }); td.append(a); return td; };
  const fill = (table, rows, empty, cols) => {
    const body = $(table).tBodies[0];
    body.replaceChildren(...(rows.length ? rows : [(() => { const tr = el('tr'); const td = el('td', empty); td.colSpan = cols; tr.append(td); return tr; })()]));
  };
  const row = (cells) => { const tr = el('tr'); tr.append(...cells.map((c) => (c instanceof Node ? c : el('td', c)))); return tr; };
  const card = (label, value, bad) => { const d = el('div', undefined, 'card'); d.append(el('b', value, bad && value > 0 ? 'bad' : undefined), el('span', label, 'muted')); return d; };
  const hhmm = (iso) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');

  function render(d) {
    const failedBy = {}, quarantinedBy = {};
    for (const f of d.failures) failedBy[f.platform + '/' + f.namespace] = (failedBy[f.platform + '/' + f.namespace] || 0) + 1;
    for (const x of d.quarantine) quarantinedBy[x.platform + '/' + x.namespace] = (quarantinedBy[x.platform + '/' + x.namespace] || 0) + 1;
    const total = d.namespaces.reduce((a, n) => a + n.events, 0);
    $('cards').replaceChildren(card('events archived', total), card('in the last 24 h', d.namespaces.reduce((a, n) => a + n.last24h, 0)),
      card('dead letters', d.failures.length, true), card('quarantined', d.quarantine.length, true), card('pending (recent events)', d.events.reduce((a, e) => a + e.pending.length, 0)));
    fill('namespaces', d.namespaces.map((n) => { const k = n.platform + '/' + n.namespace; return row([n.platform, n.namespace, n.events, n.last24h, hhmm(n.lastReceived), el('td', failedBy[k] || 0, failedBy[k] ? 'bad' : ''), el('td', quarantinedBy[k] || 0, quarantinedBy[k] ? 'bad' : '')]); }),
      d.archive ? 'Nothing archived yet.' : 'No filesystem archive is configured, so nothing is counted.', 7);
    fill('failures', d.failures.map((f) => { const tr = row([hhmm(f.failedAt), f.sink, f.platform + '/' + f.namespace, f.type, idCell(f.eventId), f.attempts, el('td', f.error, 'err'), code(f.replay)]);
      tr.id = 'fail-' + f.sink + '-' + f.eventId; const job = el('a', 'job'); job.href = f.board; tr.cells[1].append(' (', job, ')'); return tr; }), 'No dead letters.', 8);
    fill('quarantine', d.quarantine.map((x) => row([hhmm(x.receivedat), x.platform + '/' + x.namespace, x.route || '(default)', x.reason, el('td', x.problems.join('; '), 'err'), code(x.requestid), code(x.republish)])), 'Nothing in quarantine.', 7);
    fill('events', d.events.map((e) => {
      const failed = el('td', undefined, 'bad');
      e.failed.forEach((s, i) => { const a = el('a', s); a.href = '#fail-' + s + '-' + e.id; if (i) failed.append(', '); failed.append(a); });
      return row([hhmm(e.receivedat), e.platform + '/' + e.namespace, e.type, e.participantid || '', el('td', e.delivered.join(', '), 'ok'), el('td', e.pending.join(', '), 'pending'), failed, idCell(e.id)]);
    }), q.value ? 'No recent event matches.' : 'No events in the last hour.', 8);
    if (q.value) for (const c of document.querySelectorAll('td.id a')) if (c.textContent === q.value) c.closest('tr').classList.add('hit');
    const colors = ['#2456b3', '#137a2e', '#b35a00', '#8e24aa', '#b3142c', '#00838f'];
    const data = { labels: d.hourly.hours.map((h) => h.slice(5).replace('T', ' ') + 'h'), datasets: Object.entries(d.hourly.platforms).map(([p, v], i) => ({ label: p, data: v, backgroundColor: colors[i % colors.length] })) };
    if (window.Chart) {
      if (chart) { chart.data = data; chart.update('none'); }
      else chart = new window.Chart($('hourly'), { type: 'bar', data, options: { animation: false, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } } });
    }
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString() + ' · refreshes every ' + d.refreshSeconds + ' s';
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  }

  async function go() {
    clearTimeout(timer);
    const url = new URL(location.href);
    if (q.value) url.searchParams.set('q', q.value); else url.searchParams.delete('q');
    history.replaceState(null, '', url);
    let next = 10;
    try {
      const res = await fetch('/admin/overview/data.json?q=' + encodeURIComponent(q.value), { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const d = await res.json();
      next = d.refreshSeconds;
      render(d);
    } catch (err) { $('updated').textContent = 'could not refresh: ' + err.message + ' (retrying)'; }
    timer = setTimeout(go, next * 1000);
  }
  let typing;
  q.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(go, 300); });
  go();
})();
`;
