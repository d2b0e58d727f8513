// The control-traffic curve as a PNG (issue 21: "plot the curve, linked from the README"): an SVG line chart of
// bytes received per peer per second against the number of peers, murmur's profile beside the fabric profile,
// idle and at 10 blocks/s, rendered by Debian's headless Chromium (playwright-core drives /usr/bin/chromium, as
// the dashboard test does). No Chromium: no PNG, and the caller says so.
//   node --import tsx bench/lib/control-plot.ts [RESULTS.json] [OUT.png]   (default: bench/results/latest.json)
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ControlTraffic } from './control-traffic.ts';

const CHROMIUM = '/usr/bin/chromium';
const W = 720;
const H = 420;
const M = { left: 70, right: 170, top: 30, bottom: 50 };

const SERIES = [
  { profile: 'fabric', load: 'busy', label: 'fabric profile, 10 blocks/s', color: '#b2182b', dash: '' },
  { profile: 'fabric', load: 'idle', label: 'fabric profile, idle', color: '#ef8a62', dash: '6 4' },
  { profile: 'murmur', load: 'busy', label: 'murmur, 10 blocks/s', color: '#2166ac', dash: '' },
  { profile: 'murmur', load: 'idle', label: 'murmur, idle', color: '#67a9cf', dash: '6 4' },
] as const;

/** The chart as SVG text (x: peers, y: KB per peer per second, both linear). */
export function controlSvg(data: ControlTraffic): string {
  const sizes = Object.keys(data).map(Number).sort((a, b) => a - b);
  const kb = (n: number, p: 'murmur' | 'fabric', l: 'idle' | 'busy') => data[String(n)]![p][l] / 1024;
  const maxX = Math.max(...sizes);
  const maxY = Math.max(...sizes.flatMap((n) => SERIES.map((s) => kb(n, s.profile, s.load))));
  const niceY = Math.ceil(maxY / 50) * 50;
  const x = (n: number) => M.left + (n / maxX) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / niceY) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  for (let v = 0; v <= niceY; v += niceY / 5) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end" font-size="12">${v}</text>`);
  }
  for (const n of sizes) parts.push(`<text x="${x(n)}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="12">${n}</text>`);
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle" font-size="13">peers (3 orgs)</text>`);
  parts.push(`<text x="16" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 16 ${(M.top + H - M.bottom) / 2})">control KB received per peer per second</text>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/><line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  SERIES.forEach((s, i) => {
    const pts = sizes.map((n) => `${x(n).toFixed(1)},${y(kb(n, s.profile, s.load)).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2.5" stroke-dasharray="${s.dash}"/>`);
    for (const n of sizes) parts.push(`<circle cx="${x(n)}" cy="${y(kb(n, s.profile, s.load))}" r="3" fill="${s.color}"/>`);
    const ly = M.top + 10 + i * 22;
    parts.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2.5" stroke-dasharray="${s.dash}"/>`);
    parts.push(`<text x="${W - M.right + 42}" y="${ly + 4}" font-size="11">${s.label}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">${parts.join('')}</svg>`;
}

/** Renders the chart to `out` with headless Chromium; false (nothing written) when Chromium is absent. */
export async function plotControlTraffic(data: ControlTraffic, out: string): Promise<boolean> {
  if (!existsSync(CHROMIUM)) return false;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: W, height: H } });
    await page.setContent(`<html><body style="margin:0">${controlSvg(data)}</body></html>`);
    await page.screenshot({ path: out, clip: { x: 0, y: 0, width: W, height: H } });
    return true;
  } finally {
    await browser.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? 'bench/results/latest.json';
  const out = process.argv[3] ?? 'bench/results/control-traffic.png';
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { control_bytes_per_peer_s?: ControlTraffic } & ControlTraffic;
  const data = raw.control_bytes_per_peer_s ?? raw;
  console.log((await plotControlTraffic(data, out)) ? `wrote ${out}` : `no ${CHROMIUM}: no PNG`);
}
