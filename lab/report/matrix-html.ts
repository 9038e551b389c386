/** matrix.html: the kernel matrix as one self-contained page, its tables with their charts. */
import { escapeHtml as esc } from './escape.ts';
import { matrixBlocks, type Matrix } from './matrix.ts';
import { CHART_STYLE } from './svg-chart.ts';

export function matrixHtml(matrix: Matrix): string {
  const body = matrixBlocks(matrix)
    .map((block) => {
      if ('heading' in block) return `<h${block.level}>${esc(block.heading)}</h${block.level}>`;
      if ('text' in block) return `<p>${esc(block.text)}</p>`;
      if ('chart' in block) return `<div class="chart-block">${block.chart}</div>`;
      const [header = [], ...rows] = block.table;
      const cell = (tag: string, text: string) =>
        `<${tag}${/VERDICT|FAIL|differs|verdicts in|measured in/.test(text) ? ' class="mark"' : ''}>${esc(text)}</${tag}>`;
      return `<table><thead><tr>${header.map((h) => cell('th', h)).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => cell('td', c)).join('')}</tr>`).join('\n')}</tbody></table>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Kernel matrix</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}.mark{background:#fff3c4;font-weight:600}.chart-block{margin:.5rem 0 1.5rem}${CHART_STYLE}</style>
</head>
<body>
<h1>Kernel matrix</h1>
${body}
</body>
</html>
`;
}
