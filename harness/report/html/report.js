/* mtprobe's HTML report (docs/reports.md).
 *
 * The page carries two JSON documents: #mtp-report, the report without the
 * bulky parts (enough for the header and the matrix), and #mtp-blobs, one
 * blob per result and per case holding everything else, gzip + base64.  The
 * matrix is drawn from the first; a blob is parsed and inflated only when
 * its cell is opened, so a report of thousands of results opens at once.
 *
 * No network, no libraries: the file opens from file:// as it is.
 * window.mtpReport exposes the state for tests (tests/report/). */
'use strict';
(function () {
  const SEVERITY = ['pass', 'acceptable', 'wrong-error', 'xfail', 'unsupported', 'error', 'xpass', 'fail', 'hang',
    'crash'];
  const SYMBOL = {
    pass: '\u2713', acceptable: 'A', 'wrong-error': 'W', xfail: 'x', unsupported: 'U', error: 'E',
    xpass: 'X', fail: 'F', hang: 'H', crash: 'C',
  };
  const MEANING = {
    pass: 'pass', acceptable: 'acceptable (an allowed alternative)',
    'wrong-error': 'wrong error (rejected as expected, for another reason; fails only with --strict)',
    xfail: 'expected failure (known, recorded)',
    unsupported: 'unsupported by the implementation', error: 'harness error (not counted against the implementation)',
    xpass: 'passed although expected to fail', fail: 'fail', hang: 'hang (no end before the timeout)',
    crash: 'crash',
  };
  const BAD = new Set(['fail', 'hang', 'crash', 'xpass']);
  const LEVELS = ['MUST', 'SHOULD', 'RECOMMENDED', 'MAY', 'INFO', 'none'];

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const esc = (s) => String(s === undefined || s === null ? '' : s)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const worst = (a, b) => (SEVERITY.indexOf(a) >= SEVERITY.indexOf(b) ? a : b);
  const sym = (v) => `<span class="sym v-${esc(v)}">${esc(SYMBOL[v] || '?')}</span>`;
  const levelBadge = (l) => (l ? `<span class="lvl lvl-${esc(l)}">${esc(l)}</span>` : '');

  const report = JSON.parse($('#mtp-report').textContent);
  const results = report.results || [];
  const runs = report.runs || [];

  /* --- the model the page draws ------------------------------------------ */

  const caseIndex = new Map();
  const cases = [];
  for (const c of report.cases || []) {
    if (!caseIndex.has(c.id)) { caseIndex.set(c.id, cases.length); cases.push(c); }
  }
  for (const r of results) {   /* a result whose case the catalogue lacks still gets a row */
    if (!caseIndex.has(r.case)) {
      caseIndex.set(r.case, cases.length);
      cases.push({ id: r.case, title: r.case, area: 'other', requirement: r.requirement, level: r.level });
    }
  }
  const areas = [];
  const areaTitle = new Map();
  for (const a of report.areas || []) { if (!areaTitle.has(a.id)) { areaTitle.set(a.id, a.title || a.id); areas.push(a.id); } }
  for (const c of cases) {
    const a = c.area || 'other';
    if (!areaTitle.has(a)) { areaTitle.set(a, a); areas.push(a); }
  }

  /* Columns: implementation (run) x transport, in the runs' order. */
  const columns = [];
  const colIndex = new Map();
  for (const run of runs) {
    const seen = new Set(results.filter((r) => r.run === run.id).map((r) => r.transport || ''));
    const order = (run.transports || []).filter((t) => seen.has(t));
    for (const t of seen) if (!order.includes(t)) order.push(t);
    for (const t of order) {
      colIndex.set(run.id + '\u001f' + t, columns.length);
      columns.push({ run: run.id, transport: t });
    }
  }
  const hasTransports = columns.some((c) => c.transport !== '');

  /* cells[caseIdx][colIdx] = indices of results (repeats) */
  const cells = cases.map(() => new Array(columns.length));
  results.forEach((r, i) => {
    const ci = caseIndex.get(r.case);
    let col = colIndex.get(r.run + '\u001f' + (r.transport || ''));
    if (col === undefined) { col = columns.length; colIndex.set(r.run + '\u001f' + (r.transport || ''), col); columns.push({ run: r.run, transport: r.transport || '' }); }
    (cells[ci][col] = cells[ci][col] || []).push(i);
  });
  const cellVerdict = (list) => list.reduce((v, i) => worst(results[i].verdict, v), 'pass');
  const levelOf = (c) => c.level || 'none';
  const rowRank = cases.map((c, ci) => {
    let rank = 2;
    for (const list of cells[ci]) {
      if (!list) continue;
      if (BAD.has(cellVerdict(list))) rank = Math.min(rank, levelOf(c) === 'MUST' ? 0 : 1);
    }
    return rank;
  });

  const counts = {};
  for (const v of SEVERITY) counts[v] = 0;
  for (const r of results) counts[r.verdict] = (counts[r.verdict] || 0) + 1;

  /* --- blobs, inflated on demand ----------------------------------------- */

  let blobs = null;
  const blobCache = new Map();
  /* A blob is JSON text (it starts with '{') or gzip in base64 (which has no '{'). */
  async function inflate(text) {
    if (text[0] === '{') return JSON.parse(text);
    const bin = atob(text);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return JSON.parse(await new Response(stream).text());
  }
  /* The whole result (or case): its light part and its blob together. */
  function blob(kind, i) {
    if (!blobs) blobs = JSON.parse($('#mtp-blobs').textContent);
    const key = kind + i;
    const light = kind === 'results' ? results[i] : cases[i];
    if (!blobCache.has(key)) blobCache.set(key, inflate(blobs[kind][i]).then((rest) => Object.assign({}, light, rest)));
    return blobCache.get(key);
  }

  /* --- header ------------------------------------------------------------ */

  function fmtDuration(s) {
    if (typeof s !== 'number') return '';
    return s >= 90 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`;
  }

  function runsTable() {
    /* An implementation named by its command alone shows under "command". */
    const implOf = (run) => {
      const o = run.options || {};
      return run.implementation && run.implementation !== o.cmd && run.implementation !== run.command ? run.implementation : '';
    };
    const showImpl = runs.some(implOf);
    const showVer = runs.some((run) => run.implementation_version);
    const rows = runs.map((run) => {
      const s = run.summary || {};
      const o = run.options || {};
      const tally = SEVERITY.filter((v) => s[v]).map((v) => `${sym(v)}\u00a0${s[v]}`).join(' ');
      return `<tr><td><b>${esc(run.id)}</b></td>${showImpl ? `<td>${esc(implOf(run))}</td>` : ''}
        ${showVer ? `<td>${esc(run.implementation_version || '')}</td>` : ''}<td>${esc((run.transports || []).join(', '))}</td>
        <td>${esc(o.seed !== undefined ? o.seed : '')}</td><td>${esc(run.started || '')}</td>
        <td>${esc(fmtDuration(run.duration_s))}</td><td>${tally}</td>
        <td class="cmd mono" title="${esc(o.cmd || run.command)}">${esc(o.cmd || run.command || '')}</td></tr>`;
    }).join('');
    return `<table class="runs"><thead><tr><th>column</th>${showImpl ? '<th>implementation</th>' : ''}
      ${showVer ? '<th>version</th>' : ''}<th>transports</th><th>seed</th><th>started</th><th>took</th><th>results</th>
      <th>command</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  function failureList(level) {
    const items = [];
    results.forEach((r, i) => {
      const c = cases[caseIndex.get(r.case)];
      if (BAD.has(r.verdict) && (r.level || c.level) === level) items.push(i);
    });
    return items;
  }

  function failuresBlock() {
    const must = failureList('MUST');
    const should = failureList('SHOULD').concat(failureList('RECOMMENDED'));
    const li = (i) => {
      const r = results[i];
      const c = cases[caseIndex.get(r.case)];
      return `<li><a data-open="${i}">${sym(r.verdict)} <code>${esc(r.case)}</code></a> ${esc(r.run)}${r.transport ? ' / ' + esc(r.transport) : ''}
        ${r.repeat ? ' (repeat ' + esc(r.repeat) + ')' : ''} \u2014 ${esc(c.requirement || '')} ${esc(c.title || '')}</li>`;
    };
    let html = `<div class="failures" id="must-failures"><h2>MUST failures: ${must.length}</h2>`;
    html += must.length ? `<ol>${must.map(li).join('')}</ol>` : '<p class="none">No MUST requirement failed.</p>';
    if (should.length) html += `<h2>SHOULD / RECOMMENDED failures: ${should.length}</h2><ol>${should.map(li).join('')}</ol>`;
    return html + '</div>';
  }

  function fuzzTable() {
    if (report.kind !== 'fuzz') return '';
    const rows = results.map((r, i) => {
      const f = r.fuzz || {};
      return `<tr><td><a data-open="${i}">${esc(r.case)}</a></td><td>${esc(r.run)}</td><td>${esc(f.execs)}</td>
        <td>${esc(f.execs_per_s)}</td><td>${esc(f.edges)}</td><td>${esc(f.features)}</td><td>${esc(f.corpus_size)}</td>
        <td>${esc((f.findings || []).length)}</td></tr>`;
    }).join('');
    return `<table class="fuzz"><thead><tr><th>target</th><th>run</th><th>execs</th><th>exec/s</th><th>edges</th>
      <th>features</th><th>corpus</th><th>findings</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  function header() {
    const chips = SEVERITY.slice().reverse().map((v) =>
      `<span class="chip${counts[v] ? '' : ' zero'}" data-verdict="${v}" data-count="${counts[v]}" title="${esc(MEANING[v])}: show only these">${sym(v)}${esc(v)} <b>${counts[v]}</b></span>`).join('');
    const kindTitle = { kat: 'known-answer vectors', 'check-client': 'client conformance', 'check-server': 'server conformance', fuzz: 'fuzz campaign' };
    return `<header class="top">
      <h1>mtprobe: ${esc(kindTitle[report.kind] || report.kind)}</h1>
      <div class="meta">mtprobe ${esc(report.version)} \u00b7 ${esc(report.kind)} \u00b7 ${esc(report.started)} \u00b7
        ${cases.length} cases \u00b7 ${results.length} results \u00b7 ${runs.length} implementation${runs.length === 1 ? '' : 's'}
        \u00b7 took ${esc(fmtDuration(report.duration_s))}</div>
      ${runsTable()}
      <div class="totals" id="totals">${chips}</div>
      ${fuzzTable()}
      ${failuresBlock()}
    </header>`;
  }

  /* --- controls ---------------------------------------------------------- */

  const state = { levels: new Set(LEVELS), verdicts: new Set(SEVERITY), area: '', search: '', order: 'failures' };

  function controls() {
    const presentLevels = LEVELS.filter((l) => cases.some((c) => levelOf(c) === l));
    const lv = presentLevels.map((l) => `<label><input type="checkbox" name="level" value="${l}" checked> ${l === 'none' ? 'no level' : levelBadge(l)}</label>`).join('');
    const vd = SEVERITY.filter((v) => counts[v]).map((v) => `<label><input type="checkbox" name="verdict" value="${v}" checked> ${sym(v)}</label>`).join('');
    const ar = areas.map((a) => `<option value="${esc(a)}">${esc(areaTitle.get(a))}</option>`).join('');
    return `<div class="controls" id="controls">
      <fieldset id="f-level"><legend>Level</legend>${lv}</fieldset>
      <fieldset id="f-verdict"><legend>Verdict</legend>${vd}</fieldset>
      <label>Area <select id="f-area"><option value="">all</option>${ar}</select></label>
      <label>Order <select id="f-order"><option value="failures">MUST failures first</option><option value="catalogue">catalogue</option></select></label>
      <input type="search" id="f-search" placeholder="search case id or requirement" aria-label="search by case id">
      <span class="count" id="rowcount"></span>
    </div>
    <div class="legend">${SEVERITY.map((v) => `${sym(v)}${esc(v)}`).join(' ')}</div>`;
  }

  /* --- the matrix -------------------------------------------------------- */

  function matrix() {
    const byRun = [];
    for (const col of columns) {
      const last = byRun[byRun.length - 1];
      if (last && last.run === col.run) last.n++; else byRun.push({ run: col.run, n: 1 });
    }
    let head = `<thead><tr><th class="rowhead" rowspan="${hasTransports ? 2 : 1}">case</th>
      <th class="rowhead" rowspan="${hasTransports ? 2 : 1}">requirement</th><th class="rowhead" rowspan="${hasTransports ? 2 : 1}">title</th>`;
    head += byRun.map((g) => `<th colspan="${g.n}" class="run">${esc(g.run)}</th>`).join('') + '</tr>';
    if (hasTransports) head += '<tr class="transports">' + columns.map((c) => `<th>${esc(c.transport || '\u2014')}</th>`).join('') + '</tr>';
    head += '</thead>';
    const parts = [];
    const ncols = 3 + columns.length;
    for (const a of areas) {
      let rows = cases.map((c, ci) => ci).filter((ci) => (cases[ci].area || 'other') === a && cells[ci].some(Boolean));
      if (!rows.length) continue;
      if (state.order === 'failures') rows = rows.slice().sort((x, y) => rowRank[x] - rowRank[y] || x - y);
      let bad = 0;
      for (const ci of rows) if (rowRank[ci] < 2) bad++;
      parts.push(`<tbody data-area="${esc(a)}"><tr class="area"><th colspan="${ncols}">${esc(areaTitle.get(a))}
        <span class="acount">${rows.length} cases${bad ? ', ' + bad + ' failing' : ''}</span></th></tr>`);
      for (const ci of rows) {
        const c = cases[ci];
        let tds = '';
        for (let k = 0; k < columns.length; k++) {
          const list = cells[ci][k];
          if (!list) { tds += '<td class="c none">\u00b7</td>'; continue; }
          const v = cellVerdict(list);
          const rep = list.length > 1 ? `<sup>${list.length}</sup>` : '';
          tds += `<td class="c v-${v}" data-v="${v}" data-cell="${ci}:${k}" tabindex="0" title="${esc(v)}: ${esc(c.id)} \u2014 ${esc(columns[k].run)} ${esc(columns[k].transport)}">${SYMBOL[v]}${rep}</td>`;
        }
        const req = c.requirement || (c.requirements || []).join(' ');
        parts.push(`<tr class="case" data-ci="${ci}" data-level="${esc(levelOf(c))}"><td class="id">${esc(c.id)}</td>
          <td class="req">${levelBadge(c.level)}${esc(req)}</td><td class="title" title="${esc(c.title)}">${esc(c.title)}</td>${tds}</tr>`);
      }
      parts.push('</tbody>');
    }
    if (!parts.length) return '<p class="empty">This report has no results.</p>';
    return `<table class="matrix" id="matrix">${head}${parts.join('')}</table>`;
  }

  function applyFilters() {
    const q = state.search.trim().toLowerCase();
    let shown = 0;
    for (const tb of $$('#matrix tbody')) {
      let any = false;
      const areaOk = !state.area || tb.dataset.area === state.area;
      for (const tr of tb.rows) {
        if (!tr.classList.contains('case')) continue;
        const c = cases[+tr.dataset.ci];
        let ok = areaOk && state.levels.has(levelOf(c));
        if (ok && q) ok = c.id.toLowerCase().includes(q) || String(c.requirement || '').toLowerCase().includes(q);
        let vmatch = false;
        for (const td of tr.cells) {
          if (!td.dataset.v) continue;
          const m = state.verdicts.has(td.dataset.v);
          td.classList.toggle('dim', !m);
          vmatch = vmatch || m;
        }
        ok = ok && vmatch;
        tr.classList.toggle('hidden', !ok);
        if (ok) { any = true; shown++; }
      }
      tb.classList.toggle('hidden', !any);
    }
    const total = $$('#matrix tr.case').length;
    const rc = $('#rowcount');
    rc.textContent = `showing ${shown} of ${total} cases`;
    rc.dataset.shown = shown;
    for (const chip of $$('#totals .chip')) {
      chip.classList.toggle('active', state.verdicts.size === 1 && state.verdicts.has(chip.dataset.verdict));
    }
  }

  function redrawMatrix() {
    $('#matrix-wrap').innerHTML = matrix();
    applyFilters();
  }

  function wireControls() {
    $('#controls').addEventListener('change', (e) => {
      const t = e.target;
      if (t.name === 'level') t.checked ? state.levels.add(t.value) : state.levels.delete(t.value);
      else if (t.name === 'verdict') t.checked ? state.verdicts.add(t.value) : state.verdicts.delete(t.value);
      else if (t.id === 'f-area') state.area = t.value;
      else if (t.id === 'f-order') { state.order = t.value; redrawMatrix(); return; }
      applyFilters();
    });
    $('#f-search').addEventListener('input', (e) => { state.search = e.target.value; applyFilters(); });
    $('#totals').addEventListener('click', (e) => {
      const chip = e.target.closest('.chip');
      if (!chip) return;
      const v = chip.dataset.verdict;
      const only = state.verdicts.size === 1 && state.verdicts.has(v);
      state.verdicts = only ? new Set(SEVERITY) : new Set([v]);
      for (const box of $$('#f-verdict input')) box.checked = state.verdicts.has(box.value);
      applyFilters();
    });
    document.addEventListener('click', (e) => {
      const cell = e.target.closest('td.c[data-cell]');
      if (cell) { openCell(cell.dataset.cell); return; }
      const link = e.target.closest('[data-open]');
      if (link) { e.preventDefault(); openResult(+link.dataset.open); return; }
      if (e.target.closest('button.close')) closeDetail();
    });
    document.addEventListener('keydown', (e) => {
      const cell = e.target.matches && e.target.matches('td.c[data-cell]') ? e.target : null;
      if (e.key === 'Escape') closeDetail();
      else if (cell && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); openCell(cell.dataset.cell); }
      else if (cell && e.key.startsWith('Arrow')) { e.preventDefault(); moveFocus(cell, e.key); }
    });
  }

  /* Arrow keys walk the visible cells. */
  function moveFocus(cell, key) {
    const row = cell.parentElement;
    const col = Array.prototype.indexOf.call(row.cells, cell);
    let target = null;
    if (key === 'ArrowLeft' || key === 'ArrowRight') {
      const step = key === 'ArrowLeft' ? -1 : 1;
      for (let k = col + step; k >= 0 && k < row.cells.length && !target; k += step) {
        if (row.cells[k].matches('td.c[data-cell]')) target = row.cells[k];
      }
    } else {
      const rows = $$('#matrix tr.case:not(.hidden)').filter((tr) => !tr.parentElement.classList.contains('hidden'));
      const i = rows.indexOf(row) + (key === 'ArrowUp' ? -1 : 1);
      if (i >= 0 && i < rows.length) {
        const c = rows[i].cells[col];
        if (c && c.matches('td.c[data-cell]')) target = c;
      }
    }
    if (target) target.focus();
  }

  /* --- the case drawer --------------------------------------------------- */

  function openCell(key) {
    const [ci, k] = key.split(':').map(Number);
    const list = cells[ci][k] || [];
    if (!list.length) return;
    /* With repeats, the worst one first. */
    const v = cellVerdict(list);
    openResult(list.find((i) => results[i].verdict === v), list);
  }

  function closeDetail() {
    const d = $('#detail');
    if (d.hidden) return;
    d.hidden = true;
    d.innerHTML = '';
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  }

  let openSeq = 0;
  async function openResult(i, siblings) {
    const r = results[i];
    if (!r) return;
    const ci = caseIndex.get(r.case);
    const list = siblings || cells[ci][colIndex.get(r.run + '\u001f' + (r.transport || ''))] || [i];
    const d = $('#detail');
    const seq = ++openSeq;
    d.hidden = false;
    d.dataset.result = i;
    d.dataset.state = 'loading';
    d.innerHTML = `<div class="dhead">${sym(r.verdict)}<h2>${esc(r.case)}</h2><button class="close" title="close (Esc)">\u00d7</button></div><p class="loading">Decoding&hellip;</p>`;
    history.replaceState(null, '', '#r=' + i);
    try {
      const [full, cfull] = await Promise.all([blob('results', i), blob('cases', ci).catch(() => cases[ci])]);
      if (seq !== openSeq) return;
      d.innerHTML = detailHtml(i, full, cfull || cases[ci], list);
      d.dataset.state = 'open';
      d.scrollTop = 0;
    } catch (err) {
      if (seq !== openSeq) return;
      const why = typeof DecompressionStream === 'undefined' ? 'this browser has no DecompressionStream' : String(err);
      d.innerHTML += `<p class="error">Cannot decode this result's details: ${esc(why)}. They are in report.json.</p>`;
      d.dataset.state = 'error';
    }
  }

  function kv(rows) {
    return '<table class="kv">' + rows.filter((x) => x[1] !== undefined && x[1] !== null && x[1] !== '')
      .map(([k, v, raw]) => `<tr><th>${esc(k)}</th><td>${raw ? v : esc(v)}</td></tr>`).join('') + '</table>';
  }
  const asText = (v) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2));
  const link = (u) => (/^https?:\/\//.test(u || '') ? `<a href="${esc(u)}" target="_blank" rel="noopener noreferrer">${esc(u)}</a>` : esc(u));

  function detailHtml(i, r, c, siblings) {
    const run = runs.find((x) => x.id === r.run) || {};
    let h = `<div class="dhead"><span class="badge v-${esc(r.verdict)}">${esc(SYMBOL[r.verdict])} ${esc(r.verdict)}</span>
      <h2>${esc(r.case)}</h2><button class="close" title="close (Esc)">\u00d7</button></div>`;
    if (siblings.length > 1) {
      h += '<div class="tabs">' + siblings.map((j) => `<button data-open="${j}" class="${j === i ? 'on' : ''}">repeat ${esc(results[j].repeat)} ${sym(results[j].verdict)}</button>`).join('') + '</div>';
    }
    h += `<p class="ctitle">${esc(c.title || '')}</p>`;
    const level = r.level || c.level;
    const req = r.requirement || c.requirement || (c.requirements || []).join(', ');
    const spec = c.spec && typeof c.spec === 'object' && !Array.isArray(c.spec) ? c.spec : null;
    if (level || req || c.spec) {
      h += '<h3>Requirement</h3>';
      h += `<p>${levelBadge(level)} <b>${esc(req || '')}</b>${spec && spec.section ? ' \u00b7 ' + esc(spec.section) : ''}
        ${spec && spec.url ? ' \u00b7 ' + link(spec.url) : ''}${Array.isArray(c.spec) ? ' \u00b7 ' + c.spec.map(link).join(', ') : ''}</p>`;
      if (spec && spec.quote) h += `<blockquote class="quote">${esc(spec.quote)}</blockquote>`;
    }
    if (c.op) {   /* a known-answer vector: its file and where the values come from */
      const file = (report.suites || []).find((x) => x.name === c.group) || {};
      h += '<h3>Vector</h3>' + kv([['file', c.group], ['about', file.title], ['source', file.source],
        ['operation', c.op], ['expected result', c.result], ['flags', (c.flags || []).join(', ')]]);
    }
    if (c.note) h += `<p class="note"><i>${esc(c.note)}</i></p>`;
    h += '<h3>Run</h3>' + kv([
      ['implementation', `${esc(run.implementation || r.run)}${run.implementation_version ? ' ' + esc(run.implementation_version) : ''} <span class="tag">${esc(r.run)}</span>`, true],
      ['transport', r.transport],
      ['repeat', r.repeat],
      ['verdict', `${sym(r.verdict)} ${esc(r.verdict)}${r.raw_verdict ? ' (judged ' + esc(r.raw_verdict) + ')' : ''} \u2014 ${esc(MEANING[r.verdict] || '')}`, true],
      ['duration', typeof r.duration_ms === 'number' ? `${r.duration_ms} ms` : ''],
      ['expect', c.expect],
      ['hostile message', c.hostile],
    ]);
    if (r.expectation) {
      h += '<h3>Expected failure</h3>' + kv([['reason', r.expectation.reason], ['source', link(r.expectation.ref), true]]);
    }
    if (r.message && r.expected === undefined) h += `<h3>Message</h3><pre>${esc(r.message)}</pre>`;
    if (r.expected !== undefined || r.observed !== undefined) {
      h += `<h3>Expected vs observed</h3><div class="eo"><div class="expected"><h4>expected</h4>${esc(asText(r.expected))}</div>
        <div class="observed"><h4>observed</h4>${esc(asText(r.observed))}${r.message && r.expected !== undefined ? '\n\n' + esc(r.message) : ''}</div></div>`;
    }
    if (r.request !== undefined) h += `<h3>Request</h3><pre>${esc(asText(r.request))}</pre>`;
    if (r.fuzz) h += fuzzDetail(r.fuzz);
    if (Array.isArray(r.wire)) h += wireHtml(r.wire, r.marks || [], c);
    if (r.client) h += processHtml('Client', r.client);
    if (r.server) h += processHtml('Server', r.server);
    if (r.server_log) h += `<details><summary>Mock DC log</summary><pre>${esc(r.server_log)}</pre></details>`;
    if (c.scenario) h += `<details><summary>Scenario of the mock DC</summary><pre>${esc(JSON.stringify(c.scenario, null, 2))}</pre></details>`;
    return h;
  }

  function processHtml(title, p) {
    let h = `<h3>${esc(title)}</h3>` + kv([
      ['command', p.command],
      ['exit', p.exit], ['signal', p.signal || ''], ['timed out', p.timed_out ? 'yes' : ''],
      ['elapsed', typeof p.elapsed_ms === 'number' ? `${p.elapsed_ms} ms` : ''],
      ['line error', p.line_error],
    ]);
    if (p.line) h += `<details><summary>its JSON line</summary><pre>${esc(JSON.stringify(p.line, null, 2))}</pre></details>`;
    if (p.stderr_tail) h += `<details><summary>stderr (tail)</summary><pre>${esc(p.stderr_tail)}</pre></details>`;
    return h;
  }

  function fuzzDetail(f) {
    let h = '<h3>Fuzzing</h3>' + kv([
      ['engine', f.engine], ['seconds', f.seconds], ['execs', f.execs], ['exec/s', f.execs_per_s],
      ['edges', f.edges], ['features', f.features], ['corpus', f.corpus_size !== undefined ? `${f.corpus_size} inputs${f.corpus_bytes !== undefined ? ', ' + f.corpus_bytes + ' bytes' : ''}` : ''],
      ['peak RSS', f.rss_mb !== undefined ? `${f.rss_mb} MB` : ''],
    ]);
    for (const x of f.findings || []) {
      h += `<h3>Finding: ${esc(x.kind)}</h3>` + kv([['artifact', x.artifact], ['size', x.size], ['summary', x.summary]]);
      if (x.stack) h += `<pre>${esc((x.stack || []).join('\n'))}</pre>`;
    }
    return h;
  }

  /* --- the wire log ------------------------------------------------------ */

  function evText(e) {
    switch (e.ev) {
      case 'start': return 'mock DC started';
      case 'end': return 'mock DC stopped';
      case 'open': return `connection opened from ${e.peer || '?'} (dc ${e.dc})`;
      case 'transport': return `transport: ${e.transport}${e.obfuscated ? ' (obfuscated)' : ''}${e.dc_field !== undefined ? ', dc field ' + e.dc_field : ''}`;
      case 'close': return `connection closed by ${e.by || '?'}${e.reason ? ': ' + e.reason : ''}${e.text ? ' \u2014 ' + e.text : ''}${e.sent_error ? ' (sent ' + e.sent_error + ')' : ''}`;
      case 'quick_ack': return `quick ack ${e.dir || ''} ${e.token || ''}`;
      case 'transport_error': return `transport error ${e.code} (${e.dir || ''})`;
      case 'bad_packet': return `bad packet (${e.what || ''}): ${e.reason || ''} ${e.text || ''}`;
      case 'unknown_key': return `packet for an unknown key ${e.auth_key_id || ''}`;
      case 'key': return `auth key ${e.auth_key_id} made${e.temp ? ' (temporary)' : ''}${e.retries ? ', ' + e.retries + ' dh_gen_retry' : ''}${e.rsa ? ', ' + e.rsa : ''}`;
      case 'session': return `session: ${e.what}${e.code !== undefined ? ' ' + e.code : ''}${e.reason ? ' (' + e.reason + ')' : ''}${e.text ? ' \u2014 ' + e.text : ''}`;
      case 'rpc': return `rpc ${e.method || '?'} \u2192 ${e.answer || ''}${e.error_message ? ' ' + e.error_code + ' ' + e.error_message : ''}${e.decode_error ? ' (decode error: ' + e.decode_error + ')' : ''}`;
      case 'rule': return `scenario rule fired: ${e.do || ''}${e.at ? ' at ' + e.at : ''}${e.match ? ' on ' + (typeof e.match === 'string' ? e.match : JSON.stringify(e.match)) : ''}`;
      default: {
        const { t, ev, conn, ...rest } = e;
        return `${ev}: ${JSON.stringify(rest)}`;
      }
    }
  }

  function hexDump(hex) {
    const lines = [];
    for (let off = 0; off < hex.length; off += 32) {
      const chunk = hex.slice(off, off + 32).replace(/(..)/g, '$1 ').trim();
      lines.push(`${(off / 2).toString(16).padStart(4, '0')}  ${chunk}`);
    }
    return lines.join('\n');
  }

  /* The mutated message: the mock DC names what it did in the event's "hostile";
   * the judge marks the message it judged by as "hostile" too. */
  function wireHtml(wire, marks, c) {
    const why = new Map();
    for (const m of marks) {
      if (!why.has(m.event)) why.set(m.event, []);
      why.get(m.event).push(m.why);
    }
    const t0 = wire.length && typeof wire[0].t === 'number' ? wire[0].t : 0;
    const nmsg = wire.filter((e) => e.ev === 'msg').length;
    let h = `<h3>Wire log <span class="tag">${wire.length} events, ${nmsg} messages</span></h3>`;
    if (!wire.length) return h + '<p>The mock DC logged nothing.</p>';
    h += '<table class="wire"><thead><tr><th>#</th><th>t ms</th><th>conn</th><th>dir</th><th>what</th></tr></thead><tbody>';
    wire.forEach((e, k) => {
      const cls = [e.ev === 'msg' ? 'msg ' + (e.dir || '') : 'ev ' + (e.dir || '')];
      const hostile = e.hostile || (why.get(k) || []).includes('hostile');
      if (hostile) cls.push('hostile');
      if (why.has(k)) cls.push('marked');
      const marksHtml = (why.get(k) || []).map((w) => `<span class="mark">${esc(w)}</span>`).join('');
      const dir = e.dir === 'c2s' ? 'client \u2192' : e.dir === 's2c' ? '\u2190 server' : '';
      let what;
      if (e.ev === 'msg') {
        const ids = [e.enc ? 'encrypted' : 'plain', e.msg_id ? 'msg_id ' + e.msg_id : '', e.seqno !== undefined ? 'seqno ' + e.seqno : '',
          e.len !== undefined ? e.len + ' B' : ''].filter(Boolean).join(' \u00b7 ');
        what = `<span class="ctor">${esc(e.ctor || '?')}</span><span class="ids">${esc(ids)}</span>${marksHtml}`;
        if (e.body || e.body_omitted) what += `<button class="hexbtn" data-hex="${k}">hex</button>`;
        if (e.malformed) what += `<span class="mark">malformed: ${esc(e.malformed)}</span>`;
        if (e.hostile) what += `<div class="hostile-note">hostile: ${esc(typeof e.hostile === 'string' ? e.hostile : JSON.stringify(e.hostile))}</div>`;
        else if (hostile) what += `<div class="hostile-note">hostile: the ${esc(c.hostile || e.ctor)} this case made wrong on purpose${c.title ? ' (' + esc(c.title) + ')' : ''}</div>`;
        if (e.tl) what += `<code class="tl">${esc(e.tl)}</code>`;
        what += `<div class="hexbox" data-hexbox="${k}"></div>`;
      } else {
        what = esc(evText(e)) + marksHtml;
      }
      h += `<tr class="${cls.join(' ')}" data-event="${k}"><td class="n">${k}</td><td class="t">+${esc(typeof e.t === 'number' ? e.t - t0 : '')}</td>
        <td class="conn">${esc(e.conn !== undefined ? e.conn : '')}</td><td class="dir">${dir}</td><td class="what">${what}</td></tr>`;
    });
    return h + '</tbody></table>';
  }

  document.addEventListener('click', async (e) => {
    const btn = e.target.closest('button.hexbtn');
    if (!btn) return;
    const d = $('#detail');
    const full = await blob('results', +d.dataset.result);
    const ev = full.wire[+btn.dataset.hex];
    const box = $(`[data-hexbox="${btn.dataset.hex}"]`, d);
    if (box.firstChild) { box.innerHTML = ''; return; }
    box.innerHTML = ev.body ? `<pre class="hex">${esc(hexDump(ev.body))}</pre>`
      : `<pre class="hex">(${esc(ev.body_omitted)} bytes: left out of this page to keep it small; report.json has them)</pre>`;
  });

  /* --- start ------------------------------------------------------------- */

  const app = $('#app');
  app.innerHTML = header() + controls() + '<main id="matrix-wrap"></main>';
  $('#matrix-wrap').innerHTML = matrix();
  applyFilters();
  wireControls();
  /* The matrix header sticks below the controls bar, whatever its height. */
  const stick = () => document.documentElement.style.setProperty('--controls-h', $('#controls').offsetHeight + 'px');
  stick();
  window.addEventListener('resize', stick);
  const m = /^#r=(\d+)$/.exec(location.hash);
  if (m) openResult(+m[1]);

  window.mtpReport = { report, cases, columns, cells, state, openResult, openCell, applyFilters, blob, firstScreenMs: null };
  requestAnimationFrame(() => requestAnimationFrame(() => {
    window.mtpReport.firstScreenMs = performance.now();
    document.body.dataset.firstScreenMs = window.mtpReport.firstScreenMs.toFixed(1);
    document.body.dataset.ready = '1';
  }));
})();
