// The dashboard page: plain DOM, no framework, no build step. Everything shown comes from Redis,
// where task data and errors are anyone's input: it reaches the page as text nodes and
// attributes only, never as HTML.

const REFRESH_MS = 2_000;
const TOPOLOGY_MS = 5_000;
/** Findings kept on the page; older ones drop off the bottom. */
const SHOWN_FINDINGS = 300;
/** Ids remembered to drop a finding sent twice (a reconnect resends a few seconds). */
const REMEMBERED_IDS = 20_000;
const SVG = 'http://www.w3.org/2000/svg';

/** An element with attributes and children; strings become text nodes. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes))
    if (value !== undefined && value !== false) node.setAttribute(name, String(value));
  node.append(...children.flat().filter((c) => c !== undefined && c !== null));
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

const $ = (id) => document.getElementById(id);

function age(ms) {
  if (!ms) return '-';
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 120_000) return `${Math.round(ms / 1_000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}

function usd(n) {
  return n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { accept: 'application/json', ...(init.headers ?? {}) },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

/** A request that changes something: the header tells the server a page of its own sent it. */
function act(path) {
  return api(path, { method: 'POST', headers: { 'x-swarm-dashboard': '1' } });
}

// ---- swarms ----

function typeTable(types) {
  if (types.length === 0) return el('p', { class: 'sub muted' }, 'no task types yet');
  const head = el(
    'tr',
    {},
    ['type', 'waiting', 'in flight', 'delayed', 'consumers', 'oldest'].map((h) => el('th', {}, h)),
  );
  const rows = types.map((t) =>
    el(
      'tr',
      { 'data-type': t.type },
      el('td', {}, t.type),
      el('td', {}, String(t.waiting)),
      el('td', {}, String(t.inFlight)),
      el('td', {}, String(t.delayed)),
      el('td', {}, String(t.consumers)),
      el('td', {}, age(t.oldestAgeMs)),
    ),
  );
  return el('table', {}, el('thead', {}, head), el('tbody', {}, rows));
}

function subscriberLines(subscribers) {
  return subscribers.map((s) =>
    el(
      'p',
      { class: 'sub', 'data-subscriber': s.name },
      `subscriber ${s.name}: `,
      s.behind === 0
        ? el('span', { class: 'uptodate' }, 'up to date')
        : el('span', { class: 'behind' }, `${s.behind}${s.atLeast ? '+' : ''} finding(s) behind`),
      el('span', { class: 'muted' }, ` (at ${s.cursor})`),
    ),
  );
}

function budgetLines(budgets) {
  return budgets.map((b) => {
    const cap = b.limitUsd === undefined ? '' : ` of ${usd(b.limitUsd)} (${usd(b.leftUsd ?? 0)} left)`;
    const tokens = b.limitTokens === undefined ? '' : ` of ${b.limitTokens} (${b.leftTokens ?? 0} left)`;
    return el(
      'p',
      { class: 'sub', 'data-budget': b.name },
      `spend ${b.name}: ${usd(b.spentUsd)}${cap}, ${b.spentTokens} tokens${tokens}`,
    );
  });
}

function swarmCard(s) {
  return el(
    'article',
    { class: 'card', 'data-swarm': s.swarm },
    el(
      'h3',
      {},
      s.swarm,
      el('span', { class: 'stat' }, `${s.findings} finding(s)`),
      el(
        'span',
        { class: `stat${s.deadLetters > 0 ? ' bad' : ''}`, 'data-dead-count': s.deadLetters },
        `${s.deadLetters} dead letter(s)`,
      ),
      s.costUsd > 0 ? el('span', { class: 'stat' }, `cost ${usd(s.costUsd)}`) : undefined,
    ),
    typeTable(s.types),
    subscriberLines(s.subscribers),
    budgetLines(s.budgets),
    s.shards.map((shard) =>
      el(
        'p',
        { class: 'sub muted' },
        `shard ${shard.id} (${shard.specialization}): context ${shard.context ?? 'none'}`,
      ),
    ),
    s.errors.map((e) =>
      el(
        'p',
        { class: 'sub behind' },
        `failing: ${e.consumer} (${e.type}) ${e.what}, ${e.failures} times: ${e.error}`,
      ),
    ),
  );
}

let overview = { swarms: [] };

async function refreshSwarms() {
  overview = await api('/api/overview');
  const cards = overview.swarms.map(swarmCard);
  $('swarms').replaceChildren(
    ...(cards.length > 0 ? cards : [el('p', { class: 'muted' }, 'no swarms on this Redis yet')]),
  );
  $('refreshed').textContent = `updated ${clock(overview.at)}`;
  await refreshDeadLetters();
}

// ---- dead letters ----

const notices = new Map();

function letterRow(swarm, d) {
  const retry = el('button', { type: 'button', 'data-retry': d.id }, 'retry');
  retry.addEventListener('click', async () => {
    retry.disabled = true;
    try {
      await act(`/api/swarms/${encodeURIComponent(swarm)}/dead-letters/${encodeURIComponent(d.id)}/retry`);
    } catch (error) {
      notices.set(swarm, `retry ${d.id}: ${error.message}`);
    }
    await refreshSwarms();
  });
  return el(
    'div',
    { class: 'letter', 'data-dead-letter': d.id },
    el(
      'div',
      {},
      el('strong', {}, d.type),
      ` task ${d.task?.id ?? '(malformed)'} `,
      el('span', { class: 'muted' }, `dead at ${clock(d.deadAt)}: ${d.reason}`),
      el(
        'ol',
        { class: 'errors' },
        d.errors.map((e) => el('li', {}, `attempt ${e.attempt} at ${clock(e.at)}: ${e.message}`)),
      ),
    ),
    el('div', {}, d.task ? retry : undefined),
  );
}

async function refreshDeadLetters() {
  const withLetters = overview.swarms.filter((s) => s.deadLetters > 0 || notices.has(s.swarm));
  const blocks = await Promise.all(
    withLetters.map(async (s) => {
      const { deadLetters } = await api(`/api/swarms/${encodeURIComponent(s.swarm)}/dead-letters`);
      const purge = el('button', { type: 'button', class: 'danger', 'data-purge': s.swarm }, 'purge all');
      purge.addEventListener('click', async () => {
        if (!window.confirm(`Delete every dead letter of ${s.swarm}? They cannot be retried afterwards.`))
          return;
        purge.disabled = true;
        try {
          const { purged } = await act(`/api/swarms/${encodeURIComponent(s.swarm)}/dead-letters/purge`);
          notices.set(s.swarm, `purged ${purged} dead letter(s)`);
        } catch (error) {
          notices.set(s.swarm, `purge: ${error.message}`);
        }
        await refreshSwarms();
      });
      const notice = notices.get(s.swarm);
      return el(
        'div',
        { class: 'dead', 'data-dead-swarm': s.swarm },
        el(
          'h3',
          {},
          `${s.swarm}: ${deadLetters.length} dead letter(s)`,
          deadLetters.length > 0 ? purge : undefined,
        ),
        notice ? el('p', { class: 'notice' }, notice) : undefined,
        deadLetters.map((d) => letterRow(s.swarm, d)),
      );
    }),
  );
  $('dead-letters').replaceChildren(...(blocks.length > 0 ? blocks : [el('p', { class: 'muted' }, 'none')]));
}

// ---- topology ----

async function refreshTopology() {
  const { nodes, edges } = await api('/api/topology');
  const width = 520;
  const height = 340;
  const radius = nodes.length <= 1 ? 0 : Math.min(width, height) / 2 - 60;
  const place = new Map();
  nodes.forEach((n, i) => {
    const angle = (2 * Math.PI * i) / Math.max(1, nodes.length) - Math.PI / 2;
    place.set(n.id, { x: width / 2 + radius * Math.cos(angle), y: height / 2 + radius * Math.sin(angle) });
  });
  // Marker units scale with the edge's stroke (1.3, 7 of 10 units: 0.91 px each): refX 41 puts the
  // arrow's tip 28 px before the line's end, just outside the target's circle (r 26), not under it.
  const marker = svg(
    'marker',
    {
      id: 'arrow',
      viewBox: '0 0 10 10',
      refX: 41,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    },
    svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#6b7385' }),
  );
  const lines = edges
    .filter((e) => e.from !== e.to && place.has(e.from) && place.has(e.to))
    .map((e) => {
      const a = place.get(e.from);
      const b = place.get(e.to);
      const label = svg('text', { class: 'edge-label', x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 4 });
      label.textContent = e.subscriber;
      return svg(
        'g',
        { 'data-edge': `${e.from}->${e.to}` },
        svg('line', {
          class: `edge${e.seen === 'topology' ? ' topology-only' : ''}`,
          x1: a.x,
          y1: a.y,
          x2: b.x,
          y2: b.y,
          'marker-end': 'url(#arrow)',
        }),
        label,
      );
    });
  const circles = nodes.map((n) => {
    const p = place.get(n.id);
    const text = svg('text', { x: p.x, y: p.y + 4 });
    text.textContent = n.id.length > 14 ? `${n.id.slice(0, 13)}…` : n.id;
    const title = svg('title');
    title.textContent = `${n.kind} ${n.id}${n.live ? '' : ' (nothing on Redis yet)'}`;
    return svg(
      'g',
      { class: `node ${n.kind}${n.live ? '' : ' idle'}`, 'data-node': n.id },
      title,
      svg('circle', { cx: p.x, cy: p.y, r: 26 }),
      text,
    );
  });
  $('topology').replaceChildren(
    nodes.length === 0
      ? el('p', { class: 'muted' }, 'no swarms yet')
      : svg(
          'svg',
          { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'swarms and their subscriptions' },
          svg('defs', {}, marker),
          ...lines,
          ...circles,
        ),
  );
}

// ---- live findings ----

const seen = new Set();
const seenOrder = [];
let lastEventId;

function showFinding(f, fresh) {
  const key = `${f.swarm} ${f.id}`;
  if (seen.has(key)) return;
  seen.add(key);
  seenOrder.push(key);
  if (seenOrder.length > REMEMBERED_IDS) seen.delete(seenOrder.shift());
  const item = el(
    'li',
    {
      class: fresh ? 'new' : undefined,
      'data-finding-id': f.id,
      'data-swarm': f.swarm,
      'data-task-id': f.taskId,
    },
    el('span', { class: 'meta' }, clock(f.createdAt)),
    el('span', { class: 'meta' }, `${f.swarm} · ${f.type}`),
    el(
      'span',
      { class: 'summary' },
      f.summary,
      (f.tags ?? []).map((t) => el('span', { class: 'tag' }, t)),
    ),
  );
  const list = $('findings');
  // Newest first, by stream id within the page's order of arrival.
  list.prepend(item);
  while (list.children.length > SHOWN_FINDINGS) list.lastElementChild.remove();
  $('findings-count').textContent = `(${seen.size} received)`;
}

/**
 * The swarm's findings came faster than the dashboard sends them live: it skipped from `after` to
 * `before` and sends a sample each second until the swarm slows down.
 */
function showGap(gap) {
  const item = el(
    'li',
    { class: 'gap', 'data-gap-swarm': gap.swarm },
    el('span', { class: 'meta' }, clock(Date.now())),
    el('span', { class: 'meta' }, gap.swarm),
    el(
      'span',
      { class: 'summary' },
      'findings are coming faster than this page shows them: some were skipped. Every one: ',
      el('code', {}, `swarm findings ${gap.swarm} --from ${gap.after}`),
    ),
  );
  const list = $('findings');
  list.prepend(item);
  while (list.children.length > SHOWN_FINDINGS) list.lastElementChild.remove();
}

function setConnection(state) {
  const badge = $('connection');
  badge.dataset.state = state;
  badge.textContent = state;
}

function connectFindings() {
  // A stream that failed for good (the server answered with an error) is opened anew by hand,
  // naming the last id in the query: a new EventSource sends no Last-Event-ID of its own.
  const url = lastEventId
    ? `/api/findings/stream?lastEventId=${encodeURIComponent(lastEventId)}`
    : '/api/findings/stream';
  const source = new EventSource(url);
  let live = false;
  source.addEventListener('finding', (event) => {
    lastEventId = event.lastEventId;
    showFinding(JSON.parse(event.data), live);
  });
  source.addEventListener('gap', (event) => showGap(JSON.parse(event.data)));
  source.addEventListener('live', () => {
    live = true;
    setConnection('live');
  });
  source.addEventListener('error', () => {
    live = false;
    setConnection('reconnecting');
    if (source.readyState === EventSource.CLOSED) setTimeout(connectFindings, 1_000);
  });
}

function every(ms, work) {
  const run = () =>
    work()
      .catch((error) => {
        $('refreshed').textContent = `refresh failed: ${error.message}`;
      })
      .finally(() => setTimeout(run, ms));
  run();
}

connectFindings();
every(REFRESH_MS, refreshSwarms);
every(TOPOLOGY_MS, refreshTopology);
