/**
 * matrix.md: the kernel matrix as Markdown, its tables without the charts; kernel-upgrade.md: only what a
 * kernel upgrade changes in figures (connect()'s step, bytes per connection, churn rates), for the nightly's summary.
 */
import { markdownTable } from './markdown.ts';
import { matrixBlocks, upgradeBlocks, type Matrix, type MatrixBlock } from './matrix.ts';

export function matrixMarkdown(matrix: Matrix): string {
  return blocksMarkdown('Kernel matrix', matrixBlocks(matrix));
}

export function kernelUpgradeMarkdown(matrix: Matrix): string {
  const blocks = upgradeBlocks(matrix);
  return blocksMarkdown('What a kernel upgrade changes', blocks.length ? blocks : [{ text: 'No run timed connect(), measured memory or churned.' }]);
}

function blocksMarkdown(title: string, blocks: readonly MatrixBlock[]): string {
  const lines = [`# ${title}`, ''];
  for (const block of blocks) {
    if ('heading' in block) lines.push(`${'#'.repeat(block.level)} ${block.heading}`, '');
    else if ('text' in block) lines.push(block.text, '');
    else if ('table' in block) lines.push(...markdownTable(block.table), '');
  }
  return lines.join('\n');
}
