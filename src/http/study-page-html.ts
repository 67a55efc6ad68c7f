import type { StudyDef } from '../study/types.js';
import { CLASSIFICATIONS } from '../study/classify.js';
import type { ParticipantRow } from '../study/types.js';
import { studyParts } from '../study/study-parts.js';
import type { QuarantineItem } from './study-quarantine.js';

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const href = (name: string) => `/admin/studies/${encodeURIComponent(name)}`;

const head = (
  title: string,
  scripts = '',
) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><link rel="stylesheet" href="/admin/studies/assets/study.css">${scripts}</head>`;
/** The platforms with a column of their own in the participants table (the others share one). */
const columns = () => studyParts().flatMap((p) => (p.page?.column ? [p.page.column] : []));

/** A participant's cells in the table, between the classification and what is missing. */
export function participantCells(p: ParticipantRow): string[] {
  const other = studyParts().flatMap((part) => part.page?.other?.(p) ?? []);
  return [...columns().map((c) => c.cell(p)), other.join(', ')];
}

const nav =
  '<nav><a href="/admin/overview">overview</a> · <a href="/admin/studies">studies</a> · <a href="/admin/events">recent events</a> · <a href="/admin/queues">queues and dead letters</a></nav>';

/** `/admin/studies`: the configured studies. */
export function studyListHtml(studies: readonly StudyDef[]): string {
  const items = studies
    .map(
      (s) =>
        `<li><a href="${href(s.name)}">${esc(s.name)}</a> <span class="muted">${esc(
          Object.entries(s.namespaces)
            .map(([p, n]) => `${p}/${n}`)
            .join(', '),
        )}</span></li>`,
    )
    .join('');
  return `${head('studyhook: studies')}<body><header><h1>Studies</h1>${nav}</header>
<ul class="panel">${items || '<li>No study is configured (<code>studies:</code> in the config). A namespace name also works: /admin/studies/&lt;namespace&gt;.</li>'}</ul></body></html>`;
}

/** An unknown study, for a browser. */
export function notFoundHtml(message: string): string {
  return `${head('studyhook: unknown study')}<body><header><h1>Unknown study</h1>${nav}</header><p class="panel">${esc(message)}</p></body></html>`;
}

/** `/admin/studies/<study>`: a shell the page's script fills from `data.json` and refreshes. */
export function studyPageHtml(study: StudyDef): string {
  const options = CLASSIFICATIONS.map((c) => `<option value="${esc(c)}">${esc(c)}</option>`).join(
    '',
  );
  return `${head(`studyhook: study ${study.name}`, '<script src="/admin/studies/assets/chart.js" defer></script><script src="/admin/studies/assets/study.js" defer></script>')}
<body data-study="${esc(study.name)}"><header><h1>Study ${esc(study.name)}</h1>
<p class="muted">${esc(
    Object.entries(study.namespaces)
      .map(([p, n]) => `${p}/${n}`)
      .join(' · '),
  )} · <span id="updated">reading the archive…</span></p>${nav}</header>
<section id="cards" class="cards"></section>
<section class="grid"><div class="panel"><h2>Funnel</h2><div class="chart"><canvas id="funnel" aria-label="funnel"></canvas></div></div>
<div class="panel"><h2>Events per hour, last 72 hours</h2><div class="chart"><canvas id="hourly" aria-label="events per hour"></canvas></div></div></section>
<section class="grid"><div class="panel"><h2>Last event per platform</h2><table id="last"><thead><tr><th>platform</th><th>namespace</th><th>last event received</th><th>events</th></tr></thead><tbody></tbody></table></div>
<div class="panel"><h2>Problems</h2><table id="problems"><thead><tr><th>what</th><th>count</th><th></th></tr></thead><tbody></tbody></table></div></section>
<section class="panel"><h2>Participants</h2><p class="filters"><label>classification <select id="filter"><option value="">all</option>${options}</select></label>
<label>participant <input id="search" type="search" placeholder="id contains…"></label> <span id="shown" class="muted"></span></p>
<table id="participants"><thead><tr><th>participant</th><th>classification</th>${columns()
    .map((c) => `<th>${esc(c.header)}</th>`)
    .join('')}<th>other platforms</th><th>missing</th></tr></thead><tbody></tbody></table></section>
</body></html>`;
}

/** The study's quarantined payloads, newest first. */
export function quarantineHtml(study: string, items: readonly QuarantineItem[]): string {
  const rows = items
    .map(
      (q) =>
        `<tr><td>${esc(q.receivedat)}</td><td>${esc(q.platform)}/${esc(q.namespace)}</td><td>${esc(q.route)}</td><td>${esc(q.reason)}</td><td>${esc(q.problems.join('; '))}</td><td><code>${esc(q.where)}</code></td></tr>`,
    )
    .join('\n');
  return `${head(`studyhook: quarantine of ${study}`)}<body><header><h1>Quarantine of study <a href="${href(study)}">${esc(study)}</a></h1>${nav}
<p class="muted">Payloads kept because they could not be used. <code>studyhook quarantine list --namespace NS</code> lists them, <code>studyhook quarantine republish</code> runs them through the pipeline again after a fix.</p></header>
<table class="panel"><thead><tr><th>received</th><th>platform/namespace</th><th>route</th><th>reason</th><th>problems</th><th>record</th></tr></thead><tbody>${rows || '<tr><td colspan="6">Nothing in quarantine.</td></tr>'}</tbody></table></body></html>`;
}

export const PAGE_CSS = `body{font:14px system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#fff;padding:12px 24px;border-bottom:1px solid #dde}h1{margin:0 0 4px;font-size:20px}h2{font-size:15px;margin:0 0 8px}
nav a,a{color:#2456b3}.muted{color:#667}section{margin:16px 24px}.panel{background:#fff;border:1px solid #dde;border-radius:6px;padding:12px 16px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}.chart{position:relative;height:260px}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:#fff;border:1px solid #dde;border-radius:6px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:24px}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}
.c-complete{color:#137a2e}.c-incomplete{color:#b35a00}.c-no-data,.c-data-without-submission{color:#b3142c}.c-returned-timed-out{color:#667}
.bad{color:#b3142c;font-weight:600}.filters label{margin-right:16px}code{font-size:12px}`;

/**
 * The page's script (a file, so the page needs no inline script under its CSP): reads `data.json`,
 * draws the charts with Chart.js and the tables with textContent (never HTML from data), and reads
 * again every `refreshSeconds`. Built on first use: the platforms' colours come from their study parts.
 */
export const pageScript = (): string =>
  (script ??= `'use strict';
(function () {
  var url = location.pathname.replace(/\\/$/, '') + '/data.json';
  var charts = {};
  var data = null;
  var COLORS = { ${studyParts()
    .flatMap((p) => (p.page ? [`${p.platform}: '${p.page.color}'`] : []))
    .join(', ')} };
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
  function row(tbody, cells) { var tr = el('tr'); cells.forEach(function (c) { tr.appendChild(c instanceof Node ? c : el('td', c)); }); tbody.appendChild(tr); return tr; }
  function td(node) { var t = el('td'); t.appendChild(node); return t; }
  function link(text, href) { var a = el('a', text); a.href = href; return a; }
  function ago(iso) { if (!iso) return 'never'; var s = Math.round((Date.now() - Date.parse(iso)) / 1000); if (s < 120) return s + ' s ago'; if (s < 7200) return Math.round(s / 60) + ' min ago'; if (s < 172800) return Math.round(s / 3600) + ' h ago'; return Math.round(s / 86400) + ' days ago'; }
  function chart(id, config) { if (charts[id]) { charts[id].data = config.data; charts[id].update('none'); return; } charts[id] = new Chart(document.getElementById(id), config); }
  function classKey(c) { return 'c-' + c.replace(/[^a-z]+/g, '-'); }

  function cards(d) {
    var s = d.summary;
    var box = document.getElementById('cards'); box.textContent = '';
    var card = function (n, label, cls) { var c = el('div', null, 'card'); c.appendChild(el('b', n.toLocaleString('en-US'), cls)); c.appendChild(el('span', label)); box.appendChild(c); };
    card(s.participants, 'participants');
    Object.keys(s.classifications).forEach(function (k) { card(s.classifications[k], k, classKey(k)); });
    d.cards.forEach(function (c) { card(c[0], c[1]); });
  }

  function funnel(d) {
    chart('funnel', { type: 'bar', data: { labels: d.funnel.map(function (f) { return f[0]; }), datasets: [{ label: 'count', data: d.funnel.map(function (f) { return f[1]; }),
      backgroundColor: d.funnel.map(function (f) { return COLORS[f[2]] || '#444'; }) }] },
      options: { indexAxis: 'y', animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } });
  }

  function hourly(d) {
    var end = new Date(d.computedAt); end.setUTCMinutes(0, 0, 0);
    var hours = []; for (var i = 71; i >= 0; i--) hours.push(new Date(end.getTime() - i * 3600000).toISOString().slice(0, 13));
    var platforms = Object.keys(d.summary.namespaces);
    var datasets = platforms.map(function (p) {
      var by = {}; d.hourly.forEach(function (h) { if (h.platform === p) by[h.hour] = h.events; });
      return { label: p, data: hours.map(function (h) { return by[h] || 0; }), borderColor: COLORS[p] || '#444', backgroundColor: COLORS[p] || '#444', pointRadius: 0, tension: 0.2 };
    });
    chart('hourly', { type: 'line', data: { labels: hours.map(function (h) { return h.slice(5).replace('T', ' ') + 'h'; }), datasets: datasets },
      options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxTicksLimit: 12 } } } } });
  }

  function last(s) {
    var tb = document.querySelector('#last tbody'); tb.textContent = '';
    Object.keys(s.namespaces).forEach(function (p) {
      var at = s.lastEvent[p] || null;
      row(tb, [p, s.namespaces[p], el('td', at ? at + ' (' + ago(at) + ')' : 'never', at && Date.now() - Date.parse(at) < 86400000 ? '' : 'bad'), (s.events[p] || 0).toLocaleString('en-US')]);
    });
  }

  function problems(d) {
    var tb = document.querySelector('#problems tbody'); tb.textContent = '';
    var q = 0; Object.keys(d.summary.quarantined).forEach(function (p) { q += d.summary.quarantined[p]; });
    row(tb, ['quarantined payloads', el('td', q, q ? 'bad' : ''), td(link('show', location.pathname.replace(/\\/$/, '') + '/quarantine'))]);
    Object.keys(d.deadLetters).forEach(function (sink) {
      var n = d.deadLetters[sink];
      row(tb, ['dead letters of sink ' + sink, el('td', n, n ? 'bad' : ''), td(link('show', '/admin/queues/queue/sink-' + encodeURIComponent(sink) + '?status=failed'))]);
    });
    row(tb, ['archive lines skipped (torn or corrupt)', el('td', d.summary.badLineCount, d.summary.badLineCount ? 'bad' : ''), '']);
  }

  function participants(d) {
    var f = document.getElementById('filter').value; var q = document.getElementById('search').value.trim().toLowerCase();
    var rows = d.participants.filter(function (p, i) { p.cells = d.cells[i]; return (!f || p.classification === f) && (!q || p.participant.toLowerCase().indexOf(q) >= 0); });
    var tb = document.querySelector('#participants tbody'); tb.textContent = '';
    rows.slice(0, 500).forEach(function (p) {
      row(tb, [p.participant, el('td', p.classification, classKey(p.classification))].concat(p.cells, [p.missing.join('; ')]));
    });
    document.getElementById('shown').textContent = (rows.length > 500 ? 'first 500 of ' : '') + rows.length + ' of ' + d.participants.length + ' participant(s)';
  }

  function render() {
    cards(data); funnel(data); hourly(data); last(data.summary); problems(data); participants(data);
    var upd = document.getElementById('updated');
    upd.textContent = 'read from the archive at ' + data.computedAt + '; refreshes every ' + data.refreshSeconds + ' s' + (data.error ? '; the last reading failed: ' + data.error : '');
    upd.className = data.error ? 'bad' : '';
  }

  function load() {
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) return r.json().then(function (e) { throw new Error(e.message || r.statusText); });
      return r.json();
    }).then(function (d) { data = d; render(); }, function (err) { document.getElementById('updated').textContent = 'could not read the study: ' + err.message; });
  }
  document.getElementById('filter').addEventListener('change', function () { if (data) participants(data); });
  document.getElementById('search').addEventListener('input', function () { if (data) participants(data); });
  load();
  setInterval(load, 30000);
})();
`);
let script: string | undefined;
