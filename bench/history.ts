// The history of benchmark runs as one SVG: speed relative to decoding (left axis) and peak memory
// at 40 frames (right axis) per run, with the targets as dashed lines. Plain SVG, no plotting library.

export interface BenchRecord {
  date: string;
  commit: string;
  machine: { cpus: number; cpu: string; memoryGb: number; node: string };
  stack: Record<string, unknown>;
  figures: {
    depthmapVsDecode: number;
    pyramidVsDecode: number;
    rss: Record<string, { frames10: number; frames40: number }>;
    [key: string]: unknown;
  };
  targets: {
    depthmapVsDecode: number;
    pyramidVsDecode: number;
    rss40Vs10: number;
    rss40Mb: number;
    [key: string]: number;
  };
  pass: Record<string, boolean>;
}

const WIDTH = 820;
const HEIGHT = 430;
const PAD = { left: 60, right: 80, top: 56, bottom: 140 };

export function historySvg(records: BenchRecord[], targets: BenchRecord['targets']): string {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const n = Math.max(records.length, 1);
  const x = (i: number) => PAD.left + (n === 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const ratios = records.flatMap((r) => [r.figures.depthmapVsDecode, r.figures.pyramidVsDecode]);
  const ratioMax = Math.ceil(Math.max(targets.pyramidVsDecode * 1.2, ...ratios));
  const rssValues = records.map((r) => Math.max(...Object.values(r.figures.rss).map((v) => v.frames40)));
  const rssMax = Math.ceil(Math.max(targets.rss40Mb * 1.2, ...rssValues) / 100) * 100;
  const yRatio = (v: number) => PAD.top + plotH - (v / ratioMax) * plotH;
  const yRss = (v: number) => PAD.top + plotH - (v / rssMax) * plotH;
  const line = (values: number[], y: (v: number) => number, colour: string) =>
    values.length === 0
      ? ''
      : `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>` +
        values
          .map(
            (v, i) =>
              `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${colour}"><title>${v}</title></circle>`,
          )
          .join('');
  const target = (v: number, y: (v: number) => number, colour: string, label: string) =>
    `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="${colour}" stroke-dasharray="6 4" opacity="0.7"/>` +
    `<text x="${PAD.left + 4}" y="${y(v) - 4}" fill="${colour}" font-size="11">${label}</text>`;
  const ticks = Array.from({ length: ratioMax + 1 }, (_, v) => v)
    .map(
      (v) => `<text x="${PAD.left - 8}" y="${yRatio(v) + 4}" text-anchor="end" font-size="11">${v}×</text>`,
    )
    .join('');
  const rssTicks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (f) =>
        `<text x="${PAD.left + plotW + 8}" y="${yRss(f * rssMax) + 4}" font-size="11">${Math.round(f * rssMax)} MB</text>`,
    )
    .join('');
  const labels = records
    .map(
      (r, i) =>
        `<text transform="translate(${x(i)},${PAD.top + plotH + 14}) rotate(90)" text-anchor="start" font-size="10">${r.date.slice(5, 16).replace('T', ' ')} ${r.commit}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${PAD.left}" y="20" font-size="14" font-weight="bold">stackscope bench: 12 MP × 20 frames, whole process</text>
<text x="${PAD.left}" y="38" font-size="11">left: time ÷ sharp decoding the frames · right: peak RSS</text>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" stroke="#333"/>
<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${PAD.left + plotW}" y2="${PAD.top + plotH}" stroke="#333"/>
${ticks}${rssTicks}
${target(targets.depthmapVsDecode, yRatio, '#1f77b4', `depthmap target ${targets.depthmapVsDecode}×`)}
${target(targets.pyramidVsDecode, yRatio, '#d62728', `pyramid target ${targets.pyramidVsDecode}×`)}
${target(targets.rss40Mb, yRss, '#2ca02c', `peak RSS target ${targets.rss40Mb} MB`)}
${line(
  records.map((r) => r.figures.depthmapVsDecode),
  yRatio,
  '#1f77b4',
)}
${line(
  records.map((r) => r.figures.pyramidVsDecode),
  yRatio,
  '#d62728',
)}
${line(rssValues, yRss, '#2ca02c')}
${labels}
<text x="${PAD.left + plotW}" y="38" text-anchor="end" font-size="11"><tspan fill="#1f77b4">● depthmap</tspan> <tspan fill="#d62728">● pyramid</tspan> <tspan fill="#2ca02c">● peak RSS, 40 frames</tspan></text>
</svg>
`;
}
