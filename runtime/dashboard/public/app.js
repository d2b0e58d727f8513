// murmur dashboard page: plain JavaScript, no framework, no network access but this origin.
// /events sends one `snapshot` (the server's whole view, with each peer's height history) and then one `sample`
// per status poll. Everything shown comes from the peers' status answers; a value they do not report is "n/a".
'use strict';

const state = {
  snap: null, // last snapshot (natsUrl, intervalMs, historyLimit, …)
  peers: [], // latest peer views
  stats: [],
  channels: [],
  events: [],
  history: new Map(), // key → [[t, height|null], …]
  channel: null,
  selected: null,
  sampledAt: null,
  error: null,
  samples: 0,
};
const EVENT_LIMIT = 500;
const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#9333ea', '#ea580c', '#0d9488', '#4f46e5'];
const SVG = 'http://www.w3.org/2000/svg';

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
function s(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  return el;
}
const na = (v, f = String) => (v === null || v === undefined ? 'n/a' : f(v));
const clock = (t) => new Date(t).toLocaleTimeString([], { hour12: false });
const byId = (a, b) => a.localeCompare(b, undefined, { numeric: true });

// ---- data -------------------------------------------------------------------------------------------------

function onSnapshot(snap) {
  state.snap = snap;
  state.peers = snap.peers.map(({ history, ...p }) => p);
  state.history = new Map(snap.peers.map((p) => [p.key, p.history]));
  state.stats = snap.stats;
  state.channels = snap.channels;
  state.events = snap.events.slice(-EVENT_LIMIT);
  state.sampledAt = snap.sampledAt;
  state.error = snap.error;
  render();
}

function onSample(u) {
  state.samples++;
  state.sampledAt = u.t;
  state.error = u.error;
  if (!u.error) {
    state.peers = u.peers;
    state.stats = u.stats;
    state.channels = u.channels;
    const limit = (state.snap && state.snap.historyLimit) || 300;
    for (const [key, height] of Object.entries(u.heights)) {
      const hs = state.history.get(key) || [];
      hs.push([u.t, height]);
      if (hs.length > limit) hs.splice(0, hs.length - limit);
      state.history.set(key, hs);
    }
  }
  state.events.push(...u.events);
  if (state.events.length > EVENT_LIMIT) state.events.splice(0, state.events.length - EVENT_LIMIT);
  render();
}

function connect() {
  const conn = document.getElementById('conn');
  const es = new EventSource('/events');
  es.addEventListener('snapshot', (e) => onSnapshot(JSON.parse(e.data)));
  es.addEventListener('sample', (e) => onSample(JSON.parse(e.data)));
  es.onopen = () => {
    conn.dataset.conn = 'live';
    conn.textContent = 'live';
  };
  es.onerror = () => {
    conn.dataset.conn = 'lost';
    conn.textContent = 'dashboard server unreachable, retrying…';
  };
}

// ---- rendering ----------------------------------------------------------------------------------------------

function channelPeers() {
  return state.peers.filter((p) => p.channel === state.channel);
}

function colorOf(key) {
  const keys = state.peers.map((p) => p.key).sort(byId);
  return PALETTE[Math.max(0, keys.indexOf(key)) % PALETTE.length];
}

function render() {
  if (!state.channel || !state.channels.includes(state.channel)) state.channel = state.channels[0] || null;
  document.body.dataset.samples = String(state.samples);
  renderHeader();
  renderOrgs();
  renderChart();
  renderDetails();
  renderStats();
  renderTimeline();
}

function renderHeader() {
  const peers = channelPeers();
  const answering = peers.filter((p) => p.answering).length;
  document.getElementById('summary').textContent = state.sampledAt
    ? `${answering}/${peers.length} peers answering · last sample ${clock(state.sampledAt)}`
    : 'no sample yet';
  const err = document.getElementById('error');
  err.hidden = !state.error;
  err.textContent = state.error ? `Status poll failed: ${state.error} (showing the last answers)` : '';
  if (state.snap) document.getElementById('footer-nats').textContent = `NATS ${state.snap.natsUrl}, prefix ${state.snap.prefix}.`;
  const pick = document.getElementById('channel-pick');
  const sel = document.getElementById('channel');
  pick.hidden = state.channels.length < 2;
  if (sel.options.length !== state.channels.length || [...sel.options].some((o, i) => o.value !== state.channels[i])) {
    sel.replaceChildren(...state.channels.map((c) => h('option', { value: c, text: c })));
    sel.onchange = () => {
      state.channel = sel.value;
      render();
    };
  }
  sel.value = state.channel || '';
}

function roleBadge(p) {
  if (!p.answering) return h('span', { class: 'badge silent', text: p.row ? 'not answering' : 'never answered' });
  const role = p.row && p.row.role;
  if (role === 'leader') return h('span', { class: 'badge leader', title: 'org leader: reads blocks from the orderer', text: '★ LEADER' });
  if (role === null || role === undefined) return h('span', { class: 'badge', text: 'role n/a' });
  return h('span', { class: `badge ${role}`, text: role });
}

function renderOrgs() {
  const root = document.getElementById('orgs');
  const peers = channelPeers();
  if (!peers.length) {
    root.replaceChildren(h('p', { class: 'muted', text: state.sampledAt ? 'no peer has answered yet' : 'waiting for the first answers…' }));
    return;
  }
  const orgs = [...new Set(peers.map((p) => p.org))].sort(byId);
  root.replaceChildren(
    ...orgs.map((org) => {
      const ps = peers.filter((p) => p.org === org);
      const heights = ps.filter((p) => p.answering && p.row && p.row.height !== null).map((p) => p.row.height);
      const top = heights.length ? Math.max(...heights) : null;
      const leaders = ps.filter((p) => p.answering && p.row && p.row.role === 'leader').map((p) => p.id);
      return h(
        'div',
        { class: 'org', 'data-org': org },
        h(
          'h3',
          {},
          org,
          h('span', { class: 'muted', 'data-org-leader': leaders.join(',') }, leaders.length === 0 ? 'no leader answering' : leaders.length === 1 ? `leader ${leaders[0]}` : `${leaders.length} leaders: ${leaders.join(', ')}`),
          h('span', { class: 'muted' }, `height ${na(top)}`),
        ),
        h('div', { class: 'peers' }, ps.map((p) => peerCard(p, top))),
      );
    }),
  );
}

function peerCard(p, orgTop) {
  const r = p.row;
  const leader = p.answering && r && r.role === 'leader';
  const height = p.answering && r ? r.height : null;
  const lag = height !== null && orgTop !== null ? orgTop - height : null;
  const classes = ['peer', leader ? 'leader' : '', !p.answering ? 'silent' : '', state.selected === p.key ? 'selected' : ''].filter(Boolean).join(' ');
  const members = r && r.members;
  return h(
    'button',
    {
      class: classes,
      type: 'button',
      'data-peer': p.id,
      'data-key': p.key,
      'data-org': p.org,
      'data-role': p.answering && r && r.role ? r.role : '',
      'data-height': height === null ? '' : height,
      'data-answering': p.answering ? 'true' : 'false',
      onclick: () => {
        state.selected = p.key;
        render();
      },
    },
    h('span', { class: 'name' }, h('span', {}, p.id), roleBadge(p)),
    h(
      'span',
      { class: 'height' },
      height !== null ? String(height) : h('span', { class: 'muted', text: r && r.height !== null ? `last height ${r.height}` : 'height n/a' }),
      lag ? h('small', { class: 'lag', text: `  ${lag} behind` }) : null,
    ),
    h(
      'span',
      { class: 'facts' },
      `sync ${na(r && r.state)} · `,
      h('span', { title: members ? members.join(', ') || '(none)' : 'not reported' }, `members ${members ? members.length : 'n/a'}`),
      ' · NATS ',
      r ? h('span', { class: r.natsConnected ? 'up' : 'down', text: r.natsConnected ? 'up' : 'down' }) : 'n/a',
    ),
    h(
      'span',
      { class: 'facts' },
      r && r.role === 'follower' && p.answering ? `follows ${na(r.leaderId)}` : '',
      !p.answering ? (p.lastSeen ? `last answer ${clock(p.lastSeen)}` : 'listed in network.json') : '',
    ),
  );
}

function niceStep(span) {
  const raw = span / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
  for (const m of [1, 2, 5, 10]) if (raw <= m * mag) return Math.max(1, m * mag);
  return 10 * mag;
}

function renderChart() {
  const root = document.getElementById('chart');
  const legend = document.getElementById('legend');
  const peers = channelPeers();
  const W = 760, H = 280, L = 48, R = 14, T = 10, B = 26;
  const series = peers.map((p) => ({ p, pts: state.history.get(p.key) || [] }));
  const all = series.flatMap((x) => x.pts);
  const ts = all.map((pt) => pt[0]);
  const hs = all.map((pt) => pt[1]).filter((v) => v !== null);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'ledger height of each peer over time' });
  if (!ts.length || !hs.length) {
    const t = s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' });
    t.textContent = hs.length || !ts.length ? 'no samples yet' : 'no peer reports a height';
    svg.append(t);
    root.replaceChildren(svg);
    legend.replaceChildren();
    return;
  }
  const tMax = Math.max(...ts);
  const tMin = Math.min(Math.min(...ts), tMax - 30_000);
  let hMin = Math.min(...hs), hMax = Math.max(...hs);
  if (hMax - hMin < 4) hMax = hMin + 4;
  const step = niceStep(hMax - hMin);
  hMin = Math.floor(hMin / step) * step;
  hMax = Math.ceil(hMax / step) * step;
  const x = (t) => L + ((t - tMin) / Math.max(1, tMax - tMin)) * (W - L - R);
  const y = (v) => T + (1 - (v - hMin) / Math.max(1, hMax - hMin)) * (H - T - B);
  for (let v = hMin; v <= hMax; v += step) {
    svg.append(s('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    const lab = s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' });
    lab.textContent = String(v);
    svg.append(lab);
  }
  const spanS = (tMax - tMin) / 1000;
  const tStep = [10, 30, 60, 120, 300, 600].find((st) => spanS / st <= 6) || 600;
  for (let ago = 0; ago <= spanS; ago += tStep) {
    const xx = x(tMax - ago * 1000);
    svg.append(s('line', { class: 'grid', x1: xx, x2: xx, y1: T, y2: H - B }));
    const lab = s('text', { x: xx, y: H - 8, 'text-anchor': 'middle' });
    lab.textContent = ago === 0 ? 'now' : `−${ago >= 60 && ago % 60 === 0 ? `${ago / 60} min` : `${ago} s`}`;
    svg.append(lab);
  }
  svg.append(s('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }), s('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
  // Leaders first (thick), so the thinner lines of peers at the same height stay visible on top.
  const isLeader = (p) => (p.answering && p.row && p.row.role === 'leader' ? 0 : 1);
  series.sort((a, b) => isLeader(a.p) - isLeader(b.p));
  for (const { p, pts } of series) {
    let d = '';
    let pen = false;
    for (const [t, v] of pts) {
      if (v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)} ${y(v).toFixed(1)}`;
      pen = true;
    }
    if (!d) continue;
    const leader = p.answering && p.row && p.row.role === 'leader';
    svg.append(
      s('path', {
        d,
        fill: 'none',
        stroke: colorOf(p.key),
        'stroke-width': leader ? 3 : 1.6,
        'stroke-dasharray': p.answering ? null : '4 3',
        'stroke-linejoin': 'round',
        'data-series': p.id,
      }),
    );
  }
  root.replaceChildren(svg);
  legend.replaceChildren(
    ...peers.map((p) => {
      const sw = h('span', { class: 'sw' });
      sw.style.background = colorOf(p.key);
      const height = p.answering && p.row ? p.row.height : null;
      return h('span', {}, sw, `${p.id} ${na(height)}`);
    }),
  );
}

function roleText(r) {
  switch (r.role) {
    case 'leader':
      return 'leader';
    case 'follower':
      return r.leaderId ? `follower of ${r.leaderId}` : 'follower (leader unknown)';
    case 'candidate':
      return 'candidate';
    case 'standby':
      return 'standby (never leads)';
    default:
      return null;
  }
}

const MACHINE_HELP = {
  election: 'the election machine (machines/election.machine.ts): static.*, or dynamic.startup / electing / leading.declaring / following',
  stateTransfer: 'the state-transfer machine (machines/state-transfer.machine.ts): synced, syncing.*; n/a when state transfer is off',
  deliver: 'the deliver machine (machines/deliver.machine.ts): idle, active.session.connecting / streaming, active.backoff, gaveUp',
};

// One machine's current state value as the peer's live actor reports it (status `machines`).
function machineRow(label, key, p) {
  const m = p.row && p.row.machines;
  const v = p.answering && m ? m[key] : null;
  const title = MACHINE_HELP[key];
  return h(
    'tr',
    {},
    h('th', { text: label, title }),
    v === null || v === undefined
      ? h('td', { class: 'na', 'data-machine': key, text: p.answering ? 'n/a' : 'unknown (not answering)', title: m ? 'this machine is not running' : 'not reported by the peer' })
      : h('td', { 'data-machine': key, title }, h('code', { class: 'machine', text: v })),
  );
}

const ms = (v) => (v === null || v === undefined ? 'n/a' : `${v} ms`);

function row(label, value, title) {
  return h('tr', {}, h('th', { text: label }), value === null || value === undefined ? h('td', { class: 'na', text: 'n/a', title: title || 'not reported by the peer' }) : h('td', {}, value));
}

function renderDetails() {
  const root = document.getElementById('details');
  const title = document.getElementById('details-title');
  const p = state.peers.find((x) => x.key === state.selected);
  if (!p) {
    title.textContent = '(select a peer)';
    root.replaceChildren(h('p', { class: 'muted', text: "Click a peer to see its machines' current states." }));
    return;
  }
  title.textContent = `${p.id} · ${p.org} · ${p.channel}`;
  const r = p.row;
  if (!r) {
    root.replaceChildren(h('p', { class: 'muted', text: 'Listed in network.json but has not answered status since the dashboard started.' }));
    return;
  }
  const c = r.counters || {};
  const rejected = Object.entries(c.rejected || {});
  const b = r.blocks && r.blocks.window > 0 ? r.blocks : null;
  const bySource = b && b.copiesBySource;
  root.replaceChildren(
    h(
      'table',
      { 'data-details': p.id },
      row('peer', p.answering ? 'running (answers status)' : `not answering since ${clock(p.lastSeen)}`),
      machineRow('election machine', 'election', p),
      machineRow('state-transfer machine', 'stateTransfer', p),
      machineRow('deliver machine', 'deliver', p),
      row('role', p.answering ? roleText(r) : 'unknown (not answering)'),
      row(
        'block latency p50 / p99',
        b && (b.latencyP50Ms !== null || b.latencyP99Ms !== null) ? `${ms(b.latencyP50Ms)} / ${ms(b.latencyP99Ms)} over its last ${b.window} blocks` : null,
        'orderer timestamp → commit; needs blocks committed since the peer started',
      ),
      row(
        'copies per block',
        b && b.copiesPerBlock !== null
          ? `${b.copiesPerBlock.toFixed(2)}${bySource ? ` (orderer ${bySource.orderer.toFixed(2)}, push ${bySource.push.toFixed(2)}, pull ${bySource.pull.toFixed(2)}, state transfer ${bySource.stateTransfer.toFixed(2)})` : ''}`
          : null,
        'payload copies received per committed block; needs blocks committed since the peer started',
      ),
      row('height', r.height === null ? null : `${r.height}${r.tipHash ? ` · tip ${r.tipHash.slice(0, 16)}…` : ''}`),
      row('members (alive, self excluded)', r.members ? (r.members.length ? r.members.join(', ') : 'none') : null),
      row('NATS', r.natsConnected ? 'connected' : 'disconnected'),
      row('pid', r.pid),
      row('operations', r.opsUrl),
      row('blocks from orderer / push / pull / state transfer', [c.blocksFromOrderer, c.blocksByPush, c.blocksByPull, c.blocksByStateTransfer].map((v) => na(v)).join(' / ')),
      row('duplicates', c.duplicates),
      row('rejected', rejected.length ? rejected.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'),
    ),
    h(
      'p',
      { class: 'note' },
      "Machine states are the live actors' current state values, as the peer's status answer reports them each second. ",
      'For every transition of the full actor tree, start the peer with ',
      h('code', { text: 'murmur peer start --inspect' }),
      ' and open its inspection relay.',
    ),
  );
}

function renderStats() {
  const root = document.getElementById('stats');
  const st = state.stats.find((x) => x.channel === state.channel);
  if (!st) {
    root.replaceChildren(h('p', { class: 'muted', text: 'no data yet' }));
    return;
  }
  const rej = Object.entries(st.rejected).sort((a, b) => b[1] - a[1]);
  const b = st.blocksBySource;
  const lat = st.latencyMs;
  root.replaceChildren(
    h(
      'table',
      { 'data-stats': st.channel },
      row(
        'block latency p50 / p99 (slowest peer)',
        lat ? h('span', { 'data-latency-p50': na(lat.p50), 'data-latency-p99': na(lat.p99), title: `largest p50 and largest p99 over ${lat.peers} peers' recent blocks` }, `${ms(lat.p50)} / ${ms(lat.p99)}`) : null,
        'no answering peer reports block latency yet (it needs blocks committed since it started)',
      ),
      row(
        'copies per block',
        st.copiesPerBlock === null ? null : h('span', { 'data-copies': st.copiesPerBlock, title: `over the recent blocks of ${st.copiesPeers} peers; 1.00 = each peer got each block once` }, st.copiesPerBlock.toFixed(2)),
        'no answering peer reports copies yet',
      ),
      row('blocks committed: orderer', b.orderer),
      row('blocks committed: push', b.push),
      row('blocks committed: pull', b.pull),
      row('blocks committed: state transfer', b.stateTransfer),
      row('duplicates received', st.duplicates),
      row('rejected messages by reason', rej.length ? h('span', { 'data-rejected': '' }, rej.map(([k, n]) => `${k}: ${n}`).join(' · ')) : 'none'),
    ),
    h('p', { class: 'note', text: "Latency and copies: over each answering peer's last (up to 256) committed blocks. Block counts: sums over the peers answering now, since each of them started." }),
  );
}

function renderTimeline() {
  const root = document.getElementById('timeline');
  const evs = state.events.filter((e) => e.channel === null || e.channel === state.channel).slice(-200).reverse();
  root.replaceChildren(
    ...(evs.length
      ? evs.map((e) => h('li', { 'data-kind': e.kind, 'data-event-peer': e.peer || null }, h('span', { class: 'muted', text: clock(e.t) }), h('span', { class: 'kind', text: e.kind }), h('span', { text: e.text })))
      : [h('li', {}, h('span'), h('span'), h('span', { class: 'muted', text: 'nothing yet' }))]),
  );
}

connect();
