/**
 * What the user reads: the job summary (GitHub Markdown) and the same facts as
 * plain text for a terminal. Pure. Everything that comes from files or
 * registries is escaped before it reaches Markdown.
 */
import { formatLocation } from '../domain/errors.js'
import { shortDigest, TRUST_ORDER } from '../domain/decide.js'
import { describeSigner } from '../domain/signers.js'
import type { ImageResult, RunResult, TrustStatus } from '../domain/types.js'
import { escapeMarkdown } from './markdown.js'

const TRUST_ICON: Record<TrustStatus, string> = {
  valid: '✅',
  unsigned: '➖',
  invalid: '❌',
  expired: '⌛',
  unknown: '❓'
}

const DECISION_ICON = { pass: '✅', warn: '⚠️', fail: '❌' } as const

function trustCounts(run: RunResult): string {
  const counts = new Map<TrustStatus, number>()
  for (const image of run.images) {
    counts.set(image.decision.trustStatus, (counts.get(image.decision.trustStatus) ?? 0) + 1)
  }
  const parts = [...TRUST_ORDER]
    .reverse()
    .filter(trust => counts.has(trust))
    .map(trust => `${counts.get(trust)} ${trust}`)
  const noun = run.images.length === 1 ? 'image' : 'images'
  return parts.length > 0
    ? `${run.images.length} ${noun}: ${parts.join(', ')}`
    : 'no images checked'
}

function overallLine(run: RunResult): string {
  return `${run.decision.toUpperCase()} (exit ${run.exitCode}), trust ${run.trustStatus} — ${trustCounts(run)}`
}

/**
 * What the run says about itself beyond the images, one line each: its shard,
 * the verification cache, registries that throttled it (not yet escaped).
 */
export function runNotes(run: RunResult): string[] {
  const notes: string[] = []
  if (run.shard) {
    notes.push(
      `shard ${run.shard.index} of ${run.shard.count}: this report lists only this shard's images`
    )
  }
  const cache = run.cache
  if (cache && cache.status !== 'disabled') {
    const counts = `${cache.hits} result${cache.hits === 1 ? '' : 's'} reused, ${cache.saved} saved`
    notes.push(
      cache.status === 'used'
        ? `verification cache: ${counts}${cache.note ? `; ${cache.note}` : ''}`
        : `verification cache unavailable: ${cache.note ?? 'no reason given'}`
    )
  }
  for (const throttle of run.throttles ?? []) {
    notes.push(
      `throttled: ${throttle.registry} asked to slow down ${throttle.responses} time${throttle.responses === 1 ? '' : 's'} from ${throttle.firstAt}; its requests waited ${(throttle.waitedMs / 1000).toFixed(1)} s in all`
    )
  }
  return notes
}

/** The facts of one image as short strings, shared by both renderings (not yet escaped). */
interface ImageCells {
  trust: TrustStatus
  reference: string
  digest: string
  drift: string
  age: string
  signer: string
  logIndex: string
  attestation: string
  code: string
}

/** Longest text a table cell keeps whole; a job summary is about 1,000 px wide. */
const MAX_CELL = 40

/**
 * A long signer (a certificate identity URL, an identity pattern) as its
 * longest tail that starts after a `/` and fits (`…/workflows/release.yml@refs/tags/v6.4.4`):
 * unbroken it would push the other columns out of sight. The whole text is in
 * the image's details.
 */
export function compactCell(text: string): string {
  if (text.length <= MAX_CELL) return text
  // `invalid (<expected signer>)`: keep the outcome, shorten the signer.
  const outcome = /^([a-z][a-z-]*) \((.*)\)$/.exec(text)
  if (outcome) return `${outcome[1]} (${compactCell(outcome[2])})`
  for (let slash = text.indexOf('/'); slash >= 0; slash = text.indexOf('/', slash + 1)) {
    const tail = text.slice(slash + 1)
    if (tail.length > 0 && tail.length <= MAX_CELL - 2) return `…/${tail}`
  }
  return `${text.slice(0, MAX_CELL - 1)}…`
}

/**
 * Text a browser may wrap after each `/` and `@` (a zero-width space):
 * references and identities have no spaces, and an unbroken one widens its
 * column until the last columns scroll out of sight.
 */
function breakable(text: string): string {
  return text.replace(/([/@])/g, '$1\u200b')
}

/** `2 of 2 (release-2026, images-ci)`: distinct signers counted of those required, and who. */
function signerCount(image: ImageResult): string {
  const { signature } = image.findings
  const counted = (signature.signers ?? []).filter(s => s.counted).map(s => s.name)
  const required = signature.threshold?.required ?? 1
  return `${counted.length} of ${required}${counted.length > 0 ? ` (${counted.join(', ')})` : ''}`
}

function imageCells(image: ImageResult): ImageCells {
  const { findings, decision } = image
  const { digest, age, signature, attestation } = findings
  const drift =
    digest.status === 'drift'
      ? `drift → ${shortDigest(digest.currentDigest)}`
      : digest.status === 'match'
        ? 'none'
        : digest.status
  const ageText =
    age.ageDays !== undefined
      ? `${age.ageDays}/${age.ttlDays} d${age.stale ? ' (stale)' : ''}`
      : `?/${age.ttlDays} d`
  const signer =
    findings.plan.trustModel === 'signers' && signature.threshold
      ? signerCount(image)
      : signature.outcome === 'verified'
        ? (describeSigner(signature, { shorten: shortDigest }) ?? 'verified')
        : signature.outcome === 'skipped'
          ? '—'
          : `${signature.outcome}${signature.expected ? ` (${signature.expected})` : ''}`
  const cached = findings.cache?.status === 'hit' ? ` (cached ${findings.cache.judgedAt})` : ''
  return {
    trust: decision.trustStatus,
    reference: findings.plan.reference,
    digest: shortDigest(digest.pinnedDigest),
    drift,
    age: ageText,
    signer: `${signer}${cached}`,
    logIndex: signature.rekorLogIndex !== undefined ? String(signature.rekorLogIndex) : '—',
    attestation:
      attestation.mode === 'none'
        ? '—'
        : findings.requirements
          ? `${attestation.mode}: ${findings.requirements.filter(r => r.result === 'met').length} of ${findings.requirements.length} met`
          : `${attestation.mode}: ${attestation.outcome}`,
    code: String(decision.code)
  }
}

/**
 * GitHub drops a job summary over 1 MiB entirely (per step): the rendering
 * stays below this, with room for the Markdown GitHub adds around it.
 */
const MAX_SUMMARY_BYTES = 900 * 1024
/** Table rows and decision paths shown at most; the report has every one. */
export const MAX_SUMMARY_ROWS = 1000
const MAX_SUMMARY_DETAILS = 200
/** Kept free for the "N more" lines. */
const SUMMARY_RESERVE_BYTES = 4 * 1024

const utf8 = new TextEncoder()
const byteLength = (text: string): number => utf8.encode(text).length

/** The "N more, see the report" line of a capped list. */
export function moreLine(omitted: number, noun: string): string {
  return `… ${omitted} more ${noun}, see the report`
}

/**
 * Takes `items` in order while they fit the byte budget and the count cap,
 * then one "N more" line. `budget.left` is decreased by what is taken.
 */
function within(
  items: string[],
  budget: { left: number },
  maxCount: number,
  noun: string,
  format: (line: string) => string
): string[] {
  const taken: string[] = []
  for (const item of items) {
    const size = byteLength(item) + 1
    if (taken.length >= maxCount || size > budget.left - SUMMARY_RESERVE_BYTES) break
    taken.push(item)
    budget.left -= size
  }
  if (taken.length < items.length) {
    const line = format(moreLine(items.length - taken.length, noun))
    taken.push(line)
    budget.left -= byteLength(line) + 1
  }
  return taken
}

/** Images worst first (highest exit code), keeping the matrix order among equals. */
function worstFirst(images: ImageResult[]): ImageResult[] {
  return images
    .map((image, index) => ({ image, index }))
    .sort((a, b) => b.image.decision.code - a.image.decision.code || a.index - b.index)
    .map(({ image }) => image)
}

/**
 * The job summary: overall line, configuration problems, errors, a table row
 * and a decision path per image. Bounded (MAX_SUMMARY_BYTES, MAX_SUMMARY_ROWS,
 * MAX_SUMMARY_DETAILS): a list that does not fit ends with "N more, see the
 * report", and then shows the worst images first.
 */
export function renderJobSummary(run: RunResult): string {
  const lines: string[] = [
    '## ROCm image provenance',
    '',
    `${DECISION_ICON[run.decision]} **${escapeMarkdown(overallLine(run))}**`,
    ''
  ]
  const notes = runNotes(run)
  if (notes.length > 0) lines.push(...notes.map(note => `- ${escapeMarkdown(note)}`), '')
  if (run.preferredReason !== undefined)
    lines.push(
      `Preferred image (\`image\` output): ${run.preferredImage ? `<code>${escapeMarkdown(run.preferredImage)}</code>` : 'none'} — ${escapeMarkdown(run.preferredReason)}`,
      ''
    )
  const budget = { left: MAX_SUMMARY_BYTES - byteLength(lines.join('\n')) }
  const item = (line: string): string => `- ${escapeMarkdown(line)}`
  if (run.configIssues.length > 0) {
    const issues = run.configIssues.map(issue => {
      const where = formatLocation(issue.location)
      return `- ${where ? `<code>${escapeMarkdown(where)}</code>: ` : ''}${escapeMarkdown(issue.message)}`
    })
    lines.push(
      '**Configuration problems** (exit 4):',
      '',
      ...within(issues, budget, Number.MAX_SAFE_INTEGER, 'configuration problems', item),
      ''
    )
  }
  if ((run.configWarnings ?? []).length > 0) {
    const warnings = (run.configWarnings ?? []).map(warning => {
      const where = formatLocation(warning.location)
      return `- ${where ? `<code>${escapeMarkdown(where)}</code>: ` : ''}${escapeMarkdown(warning.message)}`
    })
    lines.push(
      '**Configuration warnings**:',
      '',
      ...within(warnings, budget, Number.MAX_SAFE_INTEGER, 'configuration warnings', item),
      ''
    )
  }
  if (run.errors.length > 0) {
    const errors = run.errors.map(item)
    lines.push(
      '**Errors**:',
      '',
      ...within(errors, budget, Number.MAX_SAFE_INTEGER, 'errors', item),
      ''
    )
  }
  if (run.images.length > 0) {
    const rowsFit =
      run.images.length <= MAX_SUMMARY_ROWS && run.images.length <= MAX_SUMMARY_DETAILS
    const images = rowsFit ? run.images : worstFirst(run.images)
    // At most six columns: a job summary is about 1,000 px wide; the log
    // index and each signer and requirement are in the image's details.
    lines.push(
      '| status | image | pin (drift, age/TTL) | signers | attestations | code |',
      '|---|---|---|---|---|---|'
    )
    const rows = images.map(image => {
      const c = imageCells(image)
      const drift = c.drift === 'none' ? '' : `, ${escapeMarkdown(c.drift)}`
      const cells = [
        `${TRUST_ICON[c.trust]} ${c.trust}`,
        breakable(escapeMarkdown(c.reference)),
        `<code>${escapeMarkdown(c.digest)}</code>${drift}, ${escapeMarkdown(c.age)}`,
        breakable(escapeMarkdown(compactCell(c.signer))),
        escapeMarkdown(c.attestation),
        c.code
      ]
      return `| ${cells.join(' | ')} |`
    })
    // Rows get at most two thirds of what is left; the decision paths the rest.
    const rowBudget = { left: Math.floor((budget.left * 2) / 3) }
    const spent = rowBudget.left
    lines.push(
      ...within(rows, rowBudget, MAX_SUMMARY_ROWS, 'images', line => `| ${escapeMarkdown(line)} |`)
    )
    budget.left -= spent - rowBudget.left
    lines.push('')
    const details = images.map(image => {
      const { decision, findings } = image
      const c = imageCells(image)
      return [
        '<details>',
        `<summary>${escapeMarkdown(findings.plan.reference)}: exit ${decision.code}, ${decision.trustStatus}</summary>`,
        '',
        ...(compactCell(c.signer) !== c.signer ? [`Signer: ${escapeMarkdown(c.signer)}`, ''] : []),
        ...(c.logIndex !== '—' ? [`Rekor log index ${escapeMarkdown(c.logIndex)}`, ''] : []),
        ...decision.path.map((step, i) => `${i + 1}. ${escapeMarkdown(step)}`),
        '',
        `<code>${escapeMarkdown(decision.policyDecision)}</code>`,
        ...findings.errors.map(error => `- error: ${escapeMarkdown(error)}`),
        ...(findings.cache?.status === 'ignored'
          ? [`- cache: entry not used — ${escapeMarkdown(findings.cache.reason)}`]
          : []),
        '',
        '</details>',
        ''
      ].join('\n')
    })
    lines.push(
      ...within(
        details,
        budget,
        MAX_SUMMARY_DETAILS,
        'decision paths',
        line => `${escapeMarkdown(line)}\n`
      )
    )
  }
  return `${lines.join('\n').trimEnd()}\n`
}

/** Flattens text that came from outside so it cannot break the layout or send terminal controls. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\r\n]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

function pad(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map(row => row[column].length)))
  return rows.map(row =>
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd()
  )
}

export function renderTextSummary(run: RunResult): string {
  const lines = [`rocm-provenance: ${overallLine(run)}`]
  if (run.preferredReason !== undefined)
    lines.push(`  preferred: ${plain(`${run.preferredImage ?? 'none'} — ${run.preferredReason}`)}`)
  for (const issue of run.configIssues) {
    const where = formatLocation(issue.location)
    lines.push(`  config: ${plain(where ? `${where}: ${issue.message}` : issue.message)}`)
  }
  for (const warning of run.configWarnings ?? []) {
    const where = formatLocation(warning.location)
    lines.push(
      `  config warning: ${plain(where ? `${where}: ${warning.message}` : warning.message)}`
    )
  }
  for (const error of run.errors) lines.push(`  error: ${plain(error)}`)
  for (const note of runNotes(run)) lines.push(`  note: ${plain(note)}`)
  if (run.images.length > 0) {
    const header = [
      'STATUS',
      'IMAGE',
      'DIGEST',
      'DRIFT',
      'AGE/TTL',
      'SIGNER',
      'LOG',
      'ATTESTATION',
      'CODE'
    ]
    const rows = run.images.map(image => {
      const c = imageCells(image)
      return [
        c.trust,
        c.reference,
        c.digest,
        c.drift,
        c.age,
        c.signer,
        c.logIndex,
        c.attestation,
        c.code
      ].map(plain)
    })
    lines.push('', ...pad([header, ...rows]))
    for (const image of run.images) {
      lines.push('', `${plain(image.findings.plan.reference)} (${image.decision.policyDecision}):`)
      lines.push(...image.decision.path.map((step, i) => `  ${i + 1}. ${plain(step)}`))
      lines.push(...image.findings.errors.map(error => `  error: ${plain(error)}`))
      if (image.findings.cache?.status === 'ignored')
        lines.push(`  cache: entry not used — ${plain(image.findings.cache.reason)}`)
    }
  }
  return `${lines.join('\n')}\n`
}
