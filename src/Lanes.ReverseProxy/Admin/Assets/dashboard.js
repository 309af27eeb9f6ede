// The Lanes admin page. Every value from the server reaches the page as text (textContent, attribute values),
// never as markup; no inline script or style, no eval (the page's Content-Security-Policy forbids them).
'use strict';

(function () {
  const base = document.querySelector('meta[name="lanes-base"]').getAttribute('content');
  const refreshMs = 2000;
  const svgNs = 'http://www.w3.org/2000/svg';

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined) continue;
      if (key === 'class') node.setAttribute('class', String(value));
      else node.setAttribute(key, String(value));
    }
  }

  function table(caption, headers, rows, attrs) {
    const head = el('tr', null, ...headers.map(h => el('th', { scope: 'col' }, h)));
    return el('table', attrs, caption ? el('caption', { class: 'small' }, caption) : null, el('thead', null, head), el('tbody', null, ...rows));
  }

  function badge(text, kind) {
    return el('span', { class: 'badge ' + kind }, text);
  }

  function replace(id, ...nodes) {
    document.getElementById(id).replaceChildren(...nodes);
  }

  function time(value) {
    if (!value) return '';
    const date = new Date(value);
    return isNaN(date) ? '' : date.toLocaleTimeString();
  }

  function describe(cell) {
    if (cell.outcome === 'matched') return 'served by ' + cell.served;
    if (cell.outcome === 'fallback') return 'fallback to ' + cell.served + (cell.reason ? ' (' + cell.reason + ')' : '');
    return '503 no healthy upstream';
  }

  function renderLanes(report) {
    if (report.lanes.length === 0) {
      replace('lanes', el('p', null, 'No lane is declared or observed yet.'));
      return;
    }
    const rows = report.lanes.map(lane => el('tr', { 'data-lane': lane.lane, 'data-undeclared': lane.undeclared },
      el('th', { scope: 'row' }, lane.lane),
      el('td', null, lane.declaredBy.length === 0 ? '—' : lane.declaredBy.map(d => d.cluster + ' (' + d.from + ')').join(', ')),
      el('td', { class: 'num' }, lane.observed),
      el('td', { class: 'from' }, Object.keys(lane.from).map(k => k + ' ' + lane.from[k]).join(', ')),
      el('td', null, time(lane.lastSeen)),
      el('td', null, lane.from.dropped ? badge('dropped at the entry: Trust AcceptDeclared, declared nowhere', 'flag')
        : lane.undeclared ? badge('observed, declared by no cluster', 'flag') : '')));
    const nodes = [table(null, ['Lane', 'Declared by', 'Requests seen', 'Came from', 'Last seen', 'Note'], rows, { id: 'lanes-table' })];
    if (report.observedOverflow > 0) {
      nodes.push(el('p', { class: 'small' }, report.observedOverflow + ' requests carried lanes beyond the first 256 distinct ones and are not listed.'));
    }
    replace('lanes', ...nodes);
  }

  function renderMatrix(report) {
    const laneColumns = [null, ...report.matrixLanes];
    const headers = ['Cluster', 'Policy', ...laneColumns.map(l => l === null ? '(no lane)' : l)];
    const rows = report.clusters.map(cluster => {
      if (!cluster.usesLanes) {
        return el('tr', { 'data-cluster': cluster.id },
          el('th', { scope: 'row' }, cluster.id),
          el('td', { colspan: laneColumns.length + 1 }, 'not lane-aware: every available destination is eligible'));
      }
      const cells = cluster.matrix.map(cell => el('td', {
        'data-cluster': cluster.id,
        'data-lane': cell.lane === null ? '' : cell.lane,
        'data-outcome': cell.outcome,
        'data-served': cell.served === null ? '' : cell.served,
        'data-reason': cell.reason === null ? '' : cell.reason,
        'data-status': cell.status === null ? '' : cell.status,
      },
      badge(describe(cell), cell.outcome),
      el('div', { class: 'small' }, cell.healthy + '/' + cell.total + ' healthy')));
      return el('tr', { 'data-cluster': cluster.id },
        el('th', { scope: 'row' }, cluster.id),
        el('td', null, cluster.policy, el('div', { class: 'small' }, 'baseline ' + cluster.baseline)),
        ...cells);
    });
    replace('matrix', rows.length === 0 ? el('p', null, 'No cluster yet.') : table(null, headers, rows, { id: 'matrix-table' }));
  }

  function health(value) {
    const kind = value === 'Healthy' ? 'healthy' : value === 'Unhealthy' ? 'unhealthy' : 'unknown';
    return badge(value, kind);
  }

  function renderInstances(report) {
    const rows = [];
    for (const cluster of report.clusters) {
      for (const d of cluster.destinations) {
        rows.push(el('tr', { 'data-cluster': cluster.id, 'data-destination': d.id, 'data-available': d.available, 'data-active': d.health.active, 'data-passive': d.health.passive },
          el('td', null, cluster.id),
          el('th', { scope: 'row' }, d.id),
          el('td', null, d.address),
          el('td', null, d.lane === null ? '(unlabelled)' : d.lane),
          el('td', null, d.origin),
          el('td', null, health(d.health.active)),
          el('td', null, health(d.health.passive)),
          el('td', null, d.available ? 'yes' : badge('no', 'unhealthy')),
          el('td', { class: 'num' }, d.inFlight),
          el('td', { class: 'num', 'data-failures': d.recentFailures }, d.recentFailures)));
      }
    }
    replace('instances', rows.length === 0 ? el('p', null, 'No destination yet.')
      : table(null, ['Cluster', 'Destination', 'Address', 'Lane', 'Lane from', 'Active health', 'Passive health', 'Available', 'In flight', 'Failures (1–2 min)'], rows, { id: 'instances-table' }));
  }

  function renderFailover(report) {
    const rows = report.clusters.filter(c => c.failover).map(c => el('tr', { 'data-cluster': c.id, 'data-ejections': c.failover.ejections },
      el('th', { scope: 'row' }, c.id),
      el('td', { class: 'num' }, c.failover.retries),
      el('td', null, ...(c.failover.ejected.length === 0 ? ['none'] : c.failover.ejected.map(id => badge(id, 'unhealthy')))),
      el('td', { class: 'num' }, c.failover.ejections),
      el('td', null, ...(c.failover.attempts.length === 0 ? ['none']
        : c.failover.attempts.map(a => el('div', { 'data-reason': a.reason, 'data-outcome': a.outcome }, a.reason + ' → ' + a.outcome + ': ' + a.count))))));
    replace('failover', rows.length === 0 ? el('p', null, 'No lane-aware cluster yet.')
      : table(null, ['Cluster', 'Retries', 'Ejected now', 'Ejections', 'Failed attempts (reason → what failover did)'], rows, { id: 'failover-table' }));
  }

  function renderDiscovery(report) {
    const services = report.discovery || [];
    if (services.length === 0) {
      replace('discovery', el('p', null, 'No service resolved through service discovery.'));
      return;
    }
    const rows = services.map(d => el('tr', { 'data-service': d.service, 'data-stale': d.failingSince !== null, 'data-known': d.known },
      el('th', { scope: 'row' }, d.service),
      el('td', null, d.scheme),
      el('td', null, !d.known ? badge('unknown', 'unknown') : d.failingSince !== null ? badge('stale', 'unhealthy') : badge('current', 'healthy')),
      el('td', { class: 'num' }, d.instances),
      el('td', null, time(d.refreshed)),
      el('td', null, d.failingSince === null ? '' : time(d.failingSince) + ': ' + (d.failure || ''))));
    replace('discovery', table(null, ['Service', 'Scheme', 'State', 'Instances', 'Refreshed', 'Failing since'], rows, { id: 'discovery-table' }));
  }

  function latency(l) {
    return l.p50 === null ? '' : l.p50 + ' / ' + l.p99 + ' ms';
  }

  function renderShadow(report) {
    const rules = report.shadow || [];
    if (rules.length === 0) {
      replace('shadow', el('p', null, 'No shadow rule is configured.'));
      return;
    }
    const rows = rules.map(s => el('tr', { 'data-rule': s.name, 'data-differing': s.differing },
      el('th', { scope: 'row' }, s.name),
      el('td', null, s.cluster + ' → ' + s.lane + (s.fromLane ? ' (from ' + s.fromLane + ')' : '') + ', ' + s.percent + ' %'),
      el('td', { class: 'num' }, s.mirrored),
      el('td', { class: 'num' }, s.dropped),
      el('td', { class: 'num' }, s.differing),
      el('td', null, ...(s.fields.length === 0 ? ['none'] : s.fields.map(f => el('div', { 'data-path': f.path }, f.path + ' ×' + f.count + ': ' + f.example)))),
      el('td', null, s.noise.length === 0 ? (s.secondary ? 'none yet' : 'no secondary') : s.noise.join(', ')),
      el('td', null, latency(s.primary)),
      el('td', null, latency(s.shadowLatency))));
    replace('shadow', table(null, ['Rule', 'Mirrors', 'Mirrored', 'Dropped', 'Differing', 'Fields that differ (primary → shadow)', 'Noise', 'Primary p50 / p99', 'Shadow p50 / p99'], rows, { id: 'shadow-table' }));
  }

  function chart(series) {
    const width = 180, height = 28, bar = width / series.buckets.length;
    const max = Math.max(1, ...series.buckets);
    const svg = document.createElementNS(svgNs, 'svg');
    setAttrs(svg, { class: 'chart', width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, role: 'img',
      'aria-label': series.lastFiveMinutes + ' requests in five minutes, at most ' + max + ' in 10 seconds' });
    const axis = document.createElementNS(svgNs, 'line');
    setAttrs(axis, { x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5 });
    svg.append(axis);
    series.buckets.forEach((value, i) => {
      if (value === 0) return;
      const h = Math.max(1, Math.round((value / max) * (height - 2)));
      const rect = document.createElementNS(svgNs, 'rect');
      setAttrs(rect, { class: series.outcome, x: (i * bar + 0.5).toFixed(1), y: height - 1 - h, width: Math.max(1, bar - 1).toFixed(1), height: h });
      svg.append(rect);
    });
    return svg;
  }

  function renderTraffic(report) {
    const series = report.traffic.series;
    if (series.length === 0) {
      replace('traffic', el('p', null, 'No routed request in the last five minutes.'));
      return;
    }
    const rows = series.map(s => el('tr', { 'data-service': s.service, 'data-lane': s.lane === null ? '' : s.lane, 'data-outcome': s.outcome },
      el('th', { scope: 'row' }, s.service),
      el('td', null, s.lane === null ? '(no lane)' : s.lane),
      el('td', null, badge(s.outcome, s.outcome)),
      el('td', { class: 'num', 'data-window': '1m' }, s.lastMinute),
      el('td', { class: 'num', 'data-window': '5m' }, s.lastFiveMinutes),
      el('td', null, chart(s))));
    replace('traffic', table(null, ['Service', 'Lane', 'Outcome', 'Last minute', 'Last 5 minutes', 'Last 5 minutes, 10 s buckets'], rows, { id: 'traffic-table' }));
  }

  function renderEntry(report) {
    const entry = report.entry;
    const facts = el('dl', { class: 'facts' },
      el('dt', null, 'Trust'), el('dd', { 'data-field': 'trust' }, entry.trust),
      el('dt', null, 'Default lane'), el('dd', { 'data-field': 'defaultLane' }, entry.defaultLane === null ? '(none)' : entry.defaultLane),
      el('dt', null, 'Canonical header'), el('dd', null, entry.header),
      el('dt', null, 'Aliases'), el('dd', null, entry.aliases.length === 0 ? '(none)' : entry.aliases.join(', ')));
    const rules = entry.rules.map(r => el('tr', { 'data-rule': r.index },
      el('th', { scope: 'row' }, r.index),
      el('td', null, r.lane),
      el('td', null, r.when),
      el('td', null, r.override ? 'yes' : 'no'),
      el('td', { class: 'num', 'data-hits': r.hits }, r.hits)));
    replace('entry', facts, rules.length === 0
      ? el('p', null, 'No colouring rule: lanes come from clients (under the trust mode) and the default lane.')
      : table('Colouring rules, in order; the first that matches assigns the lane', ['#', 'Lane', 'When', 'Override', 'Hits'], rules, { id: 'rules-table' }));
  }

  const status = document.getElementById('status');

  async function refresh() {
    try {
      const response = await fetch(base, { cache: 'no-store', credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      const report = await response.json();
      renderLanes(report);
      renderMatrix(report);
      renderInstances(report);
      renderFailover(report);
      renderDiscovery(report);
      renderShadow(report);
      renderTraffic(report);
      renderEntry(report);
      status.textContent = 'Updated ' + new Date().toLocaleTimeString() + ' (every 2 s)';
      status.classList.remove('stale');
      document.body.setAttribute('data-refreshes', String(Number(document.body.getAttribute('data-refreshes') || '0') + 1));
    } catch (error) {
      status.textContent = 'Refresh failed (' + error.message + '); showing the last good report.';
      status.classList.add('stale');
    } finally {
      setTimeout(refresh, refreshMs);
    }
  }

  function pairs(text, separator) {
    const result = {};
    for (const line of text.split('\n')) {
      const trimmed = line.trim();
      if (trimmed === '') continue;
      const at = trimmed.indexOf(separator);
      if (at <= 0) throw new Error('"' + trimmed.slice(0, 40) + '" is not name' + separator + 'value');
      result[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1).trim();
    }
    return result;
  }

  async function trace(event) {
    event.preventDefault();
    const error = document.getElementById('trace-error');
    const result = document.getElementById('trace-result');
    error.textContent = '';
    let body;
    try {
      body = {
        method: document.getElementById('trace-method').value,
        path: document.getElementById('trace-path').value,
        headers: pairs(document.getElementById('trace-headers').value, ':'),
        cookies: pairs(document.getElementById('trace-cookies').value, '='),
        query: pairs(document.getElementById('trace-query').value, '='),
      };
    } catch (e) {
      error.textContent = e.message;
      return;
    }
    try {
      const response = await fetch(base + '/trace', {
        method: 'POST', cache: 'no-store', credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (!response.ok) {
        error.textContent = (answer && answer.detail) || ('HTTP ' + response.status);
        result.replaceChildren();
        return;
      }
      const fields = [
        ['lane', 'Lane', answer.lane === null ? '(none)' : answer.lane],
        ['source', 'Source', answer.source],
        ['droppedLane', 'Client lane dropped', answer.droppedLane === null || answer.droppedLane === undefined ? '(none)' : answer.droppedLane + ' (Trust AcceptDeclared: declared nowhere)'],
        ['rule', 'Colouring rule', answer.rule === null ? '(none)' : '#' + answer.rule.index + ' → ' + answer.rule.lane + ' when ' + answer.rule.when],
        ['route', 'Route', answer.route === null ? '(none)' : answer.route],
        ['cluster', 'Cluster', answer.cluster === null ? '(none)' : answer.cluster],
        ['policy', 'Policy', answer.policy === null ? '(none)' : answer.policy],
        ['outcome', 'Outcome', answer.outcome],
        ['reason', 'Fallback reason', answer.reason === null ? '(none)' : answer.reason],
        ['served', 'Subset', answer.served === null ? '(none)' : answer.served],
        ['status', 'Gateway answers', answer.status === null ? 'forwarded (the upstream answers)' : answer.status],
        ['destinations', 'Destinations', answer.destinations.length === 0 ? '(none)' : answer.destinations.join(', ')],
        ['detail', 'Why', answer.detail],
      ];
      result.replaceChildren(...fields.flatMap(([key, label, value]) => [el('dt', null, label), el('dd', { 'data-field': key }, value)]));
    } catch (e) {
      error.textContent = 'Trace failed: ' + e.message;
    }
  }

  document.getElementById('trace-form').addEventListener('submit', trace);
  refresh();
})();
