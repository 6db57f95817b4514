/**
 * Pure readers of what a successful cosign call printed: the JSON array of
 * `cosign verify --output json`, and the JSON Lines of DSSE envelopes of
 * `cosign verify-attestation`. cosign's exit 0 is not the end of it: `verify`
 * also accepts an attestation as a signature, and every entry must cover the
 * pinned digest.
 */
import { X509Certificate } from 'node:crypto'
import {
  expandPredicateType,
  subjectDigests,
  type VerifiedStatement
} from '../../domain/attestations.js'
import {
  acceptsCertificate,
  COSIGN_SIGN_PREDICATE_TYPE,
  type SignatureBundleClaims
} from '../../domain/cosign-bundles.js'
import type { Digest, SignerExpectation } from '../../domain/types.js'
import {
  bundleCertificate,
  bundleIntegratedTime,
  bundleKeyHint,
  bundleLogIndex,
  envelopeStatement
} from './sigstore-bundle.js'
import { bundleTimeEvidence } from '../../domain/sigstore-bundle.js'

/** `critical.type` of a signature: cosign 3 bundles, and cosign 2's simple signing. */
const SIGNATURE_TYPES: readonly string[] = [
  COSIGN_SIGN_PREDICATE_TYPE,
  'cosign container image signature'
]

type SignatureSummary =
  | {
      outcome: 'verified'
      count: number
      identity?: string
      issuer?: string
      rekorLogIndex?: number
      signedAt?: string
    }
  | { outcome: 'unsigned' | 'invalid' | 'tool-error'; count: number; message: string }

type AttestationSummary =
  | {
      outcome: 'verified'
      predicateType: string
      digest: Digest
      subjectDigest: Digest
      builderId?: string
      count: number
    }
  | {
      outcome: 'attestation-missing' | 'attestation-invalid' | 'tool-error'
      predicateType: string
      count: number
      message: string
    }

type JsonObject = Record<string, unknown>

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function stringAt(object: unknown, ...path: string[]): string | undefined {
  let current: unknown = object
  for (const key of path) {
    if (!isObject(current)) return undefined
    current = current[key]
  }
  return typeof current === 'string' && current !== '' ? current : undefined
}

function numberAt(object: unknown, ...path: string[]): number | undefined {
  let current: unknown = object
  for (const key of path) {
    if (!isObject(current)) return undefined
    current = current[key]
  }
  return typeof current === 'number' && Number.isFinite(current) ? current : undefined
}

/** Reads `cosign verify --output json` for the pinned digest. */
export function summarizeVerifyOutput(stdout: string, pinned: Digest): SignatureSummary {
  let entries: unknown
  try {
    entries = JSON.parse(stdout.trim())
  } catch {
    return {
      outcome: 'tool-error',
      count: 0,
      message: 'cosign verify printed output that is not JSON'
    }
  }
  if (!Array.isArray(entries) || !entries.every(isObject)) {
    return {
      outcome: 'tool-error',
      count: 0,
      message: 'cosign verify printed JSON that is not an array of objects'
    }
  }
  const signatures = entries.filter(entry =>
    SIGNATURE_TYPES.includes(stringAt(entry, 'critical', 'type') ?? '')
  )
  if (signatures.length === 0) {
    const types = [
      ...new Set(entries.map(entry => stringAt(entry, 'critical', 'type') ?? '(none)'))
    ]
    return {
      outcome: 'unsigned',
      count: 0,
      message:
        `cosign verify matched ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} of type ` +
        `${types.join(', ')} but no signature (an attestation is not a signature)`
    }
  }
  const elsewhere = signatures
    .map(entry => stringAt(entry, 'critical', 'image', 'docker-manifest-digest'))
    .filter(digest => digest !== pinned)
  if (elsewhere.length > 0) {
    return {
      outcome: 'invalid',
      count: 0,
      message: `signature covers ${elsewhere[0] ?? '(no digest)'}, not the pinned ${pinned}`
    }
  }
  const first = signatures[0]
  // LEGACY entries carry the certificate's subject and issuer and the Rekor
  // bundle in `optional`; NEW (bundle) entries may carry an empty object.
  const identity = stringAt(first, 'optional', 'Subject')
  const issuer = stringAt(first, 'optional', 'Issuer')
  const logIndex = numberAt(first, 'optional', 'Bundle', 'Payload', 'logIndex')
  const integratedTime = numberAt(first, 'optional', 'Bundle', 'Payload', 'integratedTime')
  return {
    outcome: 'verified',
    count: signatures.length,
    ...(identity ? { identity } : {}),
    ...(issuer ? { issuer } : {}),
    ...(logIndex !== undefined ? { rekorLogIndex: logIndex } : {}),
    ...(integratedTime !== undefined
      ? { signedAt: new Date(integratedTime * 1000).toISOString() }
      : {})
  }
}

interface Statement {
  digest: Digest
  predicateType?: string
  subjectDigests: string[]
  builderId?: string
}

/** One line of `cosign verify-attestation` as a DSSE envelope's statement. */
function readEnvelopeLine(line: string): VerifiedStatement | string {
  let envelope: unknown
  try {
    envelope = JSON.parse(line)
  } catch {
    return 'a line is not JSON'
  }
  return envelopeStatement(envelope)
}

function readEnvelope(line: string): Statement | string {
  const read = readEnvelopeLine(line)
  if (typeof read === 'string') return read
  const { statement } = read
  // SLSA v1 names the builder in runDetails, v0.2 at the top of the predicate.
  const builderId =
    stringAt(statement, 'predicate', 'runDetails', 'builder', 'id') ??
    stringAt(statement, 'predicate', 'builder', 'id')
  const predicateType = stringAt(statement, 'predicateType')
  return {
    digest: read.digest,
    subjectDigests: subjectDigests(statement),
    ...(predicateType ? { predicateType } : {}),
    ...(builderId ? { builderId } : {})
  }
}

/**
 * Every in-toto statement `cosign verify-attestation` printed (one DSSE
 * envelope a line), each with the SHA-256 of its payload bytes (what was
 * signed: stable across re-signing); or why the output cannot be read.
 */
export function readVerifiedStatements(stdout: string): VerifiedStatement[] | { problem: string } {
  const statements: VerifiedStatement[] = []
  for (const line of stdout.split(/\r?\n/)) {
    const trimmed = line.trim()
    if (!trimmed.startsWith('{')) continue
    const read = readEnvelopeLine(trimmed)
    if (typeof read === 'string') return { problem: read }
    statements.push(read)
  }
  return statements
}

/**
 * Reads `cosign verify-attestation` output: only statements of the asked
 * predicate type whose subject is the pinned digest count.
 */
export function summarizeAttestationOutput(
  stdout: string,
  pinned: Digest,
  type: string
): AttestationSummary {
  const expected = expandPredicateType(type)
  const predicateType = expected ?? type
  const lines = stdout
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(line => line.startsWith('{'))
  const statements: Statement[] = []
  for (const line of lines) {
    const read = readEnvelope(line)
    if (typeof read === 'string') {
      return {
        outcome: 'tool-error',
        predicateType,
        count: 0,
        message: `cosign verify-attestation: ${read}`
      }
    }
    statements.push(read)
  }
  if (statements.length === 0) {
    return {
      outcome: 'tool-error',
      predicateType,
      count: 0,
      message: 'cosign verify-attestation succeeded but printed no attestation'
    }
  }
  const ofType =
    expected === undefined
      ? statements
      : statements.filter(statement => statement.predicateType === expected)
  if (ofType.length === 0) {
    const found = [...new Set(statements.map(statement => statement.predicateType ?? '(none)'))]
    return {
      outcome: 'attestation-missing',
      predicateType,
      count: 0,
      message: `no attestation of type ${predicateType}; found ${found.join(', ')}`
    }
  }
  const covering = ofType.filter(statement => statement.subjectDigests.includes(pinned))
  if (covering.length === 0) {
    return {
      outcome: 'attestation-invalid',
      predicateType,
      count: 0,
      message: `attestation subject is ${ofType[0].subjectDigests.join(', ') || '(none)'}, not the pinned ${pinned}`
    }
  }
  const first = covering[0]
  return {
    outcome: 'verified',
    predicateType: first.predicateType ?? predicateType,
    digest: first.digest,
    subjectDigest: pinned,
    ...(first.builderId ? { builderId: first.builderId } : {}),
    count: covering.length
  }
}

/** Who signed one Sigstore bundle, as `cosign download signature` prints it (one JSON a line). */
export interface BundleSigner {
  identity?: string
  issuer?: string
  rekorLogIndex?: number
  signedAt?: string
}

/** Fulcio's OIDC issuer extensions: v2 (DER UTF8String), then v1 (raw bytes). */
const ISSUER_V2_OID = [1, 3, 6, 1, 4, 1, 57264, 1, 8]
const ISSUER_V1_OID = [1, 3, 6, 1, 4, 1, 57264, 1, 1]

/** A bundle's certificate SAN and OIDC issuer, as it claims; undefined without a certificate that parses. */
function certificateSigner(bundle: unknown): Pick<BundleSigner, 'identity' | 'issuer'> | undefined {
  const der = bundleCertificate(bundle)
  if (!der) return undefined
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(der)
  } catch {
    return undefined
  }
  const identity = subjectAlternativeName(certificate.subjectAltName)
  const issuer =
    extensionText(certificate.raw, ISSUER_V2_OID, true) ??
    extensionText(certificate.raw, ISSUER_V1_OID, false)
  return { ...(identity ? { identity } : {}), ...(issuer ? { issuer } : {}) }
}

/** A bundle's first log entry's index and integrated time, as it claims. */
function logEntrySigner(bundle: unknown): Pick<BundleSigner, 'rekorLogIndex' | 'signedAt'> {
  const logIndex = bundleLogIndex(bundle)
  const signedAt = bundleIntegratedTime(bundle)
  return {
    ...(logIndex !== undefined ? { rekorLogIndex: logIndex } : {}),
    ...(signedAt !== undefined ? { signedAt } : {})
  }
}

/** Each line of `cosign download signature` that is a JSON object, with its text. */
function downloadedBundles(stdout: string): { json: string; bundle: JsonObject }[] {
  const bundles: { json: string; bundle: JsonObject }[] = []
  for (const line of stdout.split(/\r?\n/)) {
    const json = line.trim()
    if (!json.startsWith('{')) continue
    try {
      const bundle: unknown = JSON.parse(json)
      if (isObject(bundle)) bundles.push({ json, bundle })
    } catch {
      continue
    }
  }
  return bundles
}

/** One stored bundle of `cosign download signature`: its text, and what it claims. */
export interface StoredSignatureBundle {
  json: string
  claims: SignatureBundleClaims
  /** Who signed it and when, as its certificate (if any) and first log entry say. */
  signer: BundleSigner
}

/**
 * Every bundle `cosign download signature` printed (one JSON a line), with
 * what it claims (src/domain/cosign-bundles.ts): its statement's predicate
 * type and subjects, log entries, key hint or certificate identity and
 * issuer, and log time. Verifies nothing; lines that are not JSON objects
 * are passed over.
 */
export function readSignatureBundles(stdout: string): StoredSignatureBundle[] {
  return downloadedBundles(stdout).map(({ json, bundle }) => {
    const signer: BundleSigner = { ...certificateSigner(bundle), ...logEntrySigner(bundle) }
    const read = envelopeStatement(bundle.dsseEnvelope)
    const statement = typeof read === 'string' ? undefined : read.statement
    const predicateType = stringAt(statement, 'predicateType')
    const keyFingerprint = bundleKeyHint(bundle)
    return {
      json,
      signer,
      claims: {
        ...(predicateType !== undefined && { predicateType }),
        subjectDigests: subjectDigests(statement),
        tlogEntries: bundleTimeEvidence(bundle).tlogEntries,
        ...(keyFingerprint !== undefined && { keyFingerprint }),
        ...(signer.identity !== undefined && { identity: signer.identity }),
        ...(signer.issuer !== undefined && { issuer: signer.issuer }),
        ...(signer.signedAt !== undefined && { signedAt: signer.signedAt })
      }
    }
  })
}

/** The first bundle signer the keyless expectation accepts (as cosign matches: RE2, unanchored). */
export function pickBundleSigner(
  signers: BundleSigner[],
  expected: SignerExpectation & { kind: 'keyless' }
): BundleSigner | undefined {
  return signers.find(signer => acceptsCertificate(expected, signer.identity, signer.issuer))
}

/** `URI:https://…` or `email:…` from Node's subjectAltName text. */
function subjectAlternativeName(text: string | undefined): string | undefined {
  const match = /(?:^|, )(?:URI|email):([^,]+)/.exec(text ?? '')
  return match?.[1]
}

function encodeOid(oid: number[]): Buffer {
  const bytes = [40 * oid[0] + oid[1]]
  for (const arc of oid.slice(2)) {
    const groups = [arc & 0x7f]
    for (let rest = arc >>> 7; rest > 0; rest >>>= 7) groups.unshift((rest & 0x7f) | 0x80)
    bytes.push(...groups)
  }
  return Buffer.from([0x06, bytes.length, ...bytes])
}

/** One DER TLV at `offset`: its tag, and where its content starts and ends. */
function readTlv(
  der: Buffer,
  offset: number
): { tag: number; start: number; end: number } | undefined {
  if (offset + 2 > der.length) return undefined
  const tag = der[offset]
  let length = der[offset + 1]
  let start = offset + 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 3 || start + count > der.length) return undefined
    length = 0
    for (let i = 0; i < count; i++) length = (length << 8) | der[start + i]
    start += count
  }
  return start + length <= der.length ? { tag, start, end: start + length } : undefined
}

/** The text of a certificate extension: OID, optional critical flag, OCTET STRING value. */
function extensionText(der: Buffer, oid: number[], derEncoded: boolean): string | undefined {
  const at = der.indexOf(encodeOid(oid))
  if (at < 0) return undefined
  let next = readTlv(der, at + encodeOid(oid).length)
  if (next?.tag === 0x01) next = readTlv(der, next.end)
  if (next?.tag !== 0x04) return undefined
  if (!derEncoded) return der.subarray(next.start, next.end).toString('utf8')
  const inner = readTlv(der, next.start)
  return inner && inner.tag === 0x0c
    ? der.subarray(inner.start, inner.end).toString('utf8')
    : undefined
}
