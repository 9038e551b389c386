/** matrix.md: the kernel matrix as Markdown, its tables without the charts. */
import { markdownTable } from './markdown.ts';
import { matrixBlocks, type Matrix } from './matrix.ts';

export function matrixMarkdown(matrix: Matrix): string {
  const lines = ['# Kernel matrix', ''];
  for (const block of matrixBlocks(matrix)) {
    if ('heading' in block) lines.push(`${'#'.repeat(block.level)} ${block.heading}`, '');
    else if ('text' in block) lines.push(block.text, '');
    else if ('table' in block) lines.push(...markdownTable(block.table), '');
  }
  return lines.join('\n');
}
