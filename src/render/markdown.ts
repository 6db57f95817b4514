/**
 * The one Markdown escaper of the project: text that came from a file, a
 * registry or cosign reaches GitHub Markdown (job summary, PR body) as text,
 * never as markup, links, HTML, table-cell breaks or @-mentions.
 */

const MARKDOWN_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '|': '&#124;',
  '`': '&#96;',
  '\\': '&#92;',
  '*': '&#42;',
  _: '&#95;',
  '[': '&#91;',
  ']': '&#93;',
  '~': '&#126;',
  '#': '&#35;',
  '!': '&#33;'
}

/**
 * Text safe inside a GitHub Markdown table cell, list item or HTML block: no
 * markup (punctuation as HTML entities), no cell breaks, no line breaks (each
 * run of CR/LF becomes a space), and `@` followed by a zero-width space so no
 * one is mentioned.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[&<>"|`\\*_[\]~#!]/g, c => MARKDOWN_ENTITIES[c] ?? c)
    .replace(/@/g, '@&#8203;')
}

/** Whitespace runs folded to one space; longer than `max` characters, cut with `…`. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/**
 * An inline code span (on one line, at most `max` characters) that holds any
 * text: a fence longer than any run of backticks inside, and `|` escaped
 * (GitHub splits table cells on it even in code).
 */
export function codeSpan(text: string, max: number): string {
  const flat = oneLine(text, max)
  const longestRun = Math.max(0, ...(flat.match(/`+/g) ?? []).map(run => run.length))
  const fence = '`'.repeat(longestRun + 1)
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${flat.replace(/\|/g, '\\|')}${pad}${fence}`
}
