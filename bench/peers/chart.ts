/** A horizontal bar chart of ratios to node:http, as a standalone SVG. */
export interface Bar {
  label: string;
  value: number;
  group: 'limit' | 'tsgi' | 'node peer' | 'starlette';
}

const COLORS: Record<Bar['group'], string> = { limit: '#6b7280', tsgi: '#2563eb', 'node peer': '#f59e0b', starlette: '#10b981' };
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChart(title: string, sections: { heading: string; bars: Bar[] }[]): string {
  const labelWidth = 330;
  const plotWidth = 460;
  const row = 20;
  const max = Math.max(1, ...sections.flatMap((s) => s.bars.map((b) => b.value)));
  const scale = plotWidth / (Math.ceil(max * 10) / 10);
  const parts: string[] = [];
  let y = 44;
  for (const section of sections) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${escape(section.heading)}</text>`);
    y += 10;
    for (const bar of section.bars) {
      const width = Math.max(1, bar.value * scale);
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escape(bar.label)}</text>`,
        `<rect x="${labelWidth}" y="${y + 3}" width="${width.toFixed(1)}" height="${row - 6}" fill="${COLORS[bar.group]}"/>`,
        `<text x="${(labelWidth + width + 6).toFixed(1)}" y="${y + 14}">${bar.value < 0.01 ? bar.value.toFixed(4) : bar.value.toFixed(2)}</text>`,
      );
      y += row;
    }
    y += 18;
  }
  const oneX = labelWidth + scale;
  const legend = (Object.entries(COLORS) as [Bar['group'], string][]).map(([group, color], i) =>
    `<rect x="${10 + i * 120}" y="${y}" width="12" height="12" fill="${color}"/><text x="${28 + i * 120}" y="${y + 11}">${escape(group)}</text>`);
  parts.push(...legend);
  y += 22;
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 70}" height="${height}" font-family="sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="10" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<line x1="${oneX}" y1="34" x2="${oneX}" y2="${height - 10}" stroke="#9ca3af" stroke-dasharray="4 3"/>`,
    `<text x="${oneX + 4}" y="${height - 12}" fill="#6b7280">node:http = 1.0</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
