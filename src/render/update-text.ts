/**
 * The updater's outcome for a terminal (`rocm-provenance update`): a line per
 * pin written and per digest refused, the refusal's reason in full — plain
 * text, where the pull request gets Markdown (pr-body.ts). Pure; the caller
 * makes it terminal-safe.
 */
import { shortDigest } from '../domain/decide.js'
import type { RejectedImage, UpdatedImage } from '../domain/types.js'
import { REASON_TEXT } from './pr-body.js'

export function renderUpdateText(input: {
  updated: readonly UpdatedImage[]
  rejected: readonly RejectedImage[]
}): string {
  const lines: string[] = []
  for (const image of input.updated) {
    const from = image.oldDigest ? `${shortDigest(image.oldDigest)} → ` : ''
    const signer = image.signer ? `, signed by ${image.signer}` : ''
    lines.push(
      `updated  ${image.reference}  ${from}${shortDigest(image.newDigest)}  (${REASON_TEXT[image.reason]}; ${image.trustStatus}${signer})`
    )
  }
  for (const image of input.rejected) {
    const candidate = image.newDigest ? `  ${shortDigest(image.newDigest)}` : ''
    lines.push(
      `refused  ${image.reference}${candidate}  (${REASON_TEXT[image.trigger]}; ${image.trustStatus}): ${image.reason}`
    )
  }
  if (lines.length === 0) lines.push('every pin is current and within its policy')
  return `${lines.join('\n')}\n`
}
