/**
 * GitHub artifact attestations (issue 13): finds the Sigstore bundles for a
 * pinned digest — OCI 1.1 referrers in the registry (the referrers API, else
 * the `sha256-<hex>` tag schema), then GitHub's attestations REST API —
 * verifies each with the real `cosign verify-blob-attestation` (identity,
 * GitHub's issuer, the trusted root; a bundle of GitHub's own instance, which
 * has no transparency-log entry, by its RFC 3161 signed timestamp), then reads
 * the certificate's GitHub extensions, the statement and the signing time
 * cosign verified and judges them (src/domain/github-signer.ts). The registry
 * is asked first; the API only when the registry holds no bundle that passes,
 * which spares the API's rate limit.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { SignedData, id_signedData } from '@peculiar/asn1-cms'
import { AsnConvert } from '@peculiar/asn1-schema'
import { PKIStatus, TimeStampResp, TSTInfo, id_ct_tstInfo } from '@peculiar/asn1-tsp'
import { Certificate, SubjectAlternativeName, id_ce_subjectAltName } from '@peculiar/asn1-x509'
import { fromBER, Utf8String } from 'asn1js'
import type { GitHubSignerVerifier } from '../../app/ports.js'
import { causeChain } from '../../domain/errors.js'
import {
  checkGitHubBundle,
  combineGitHubBundles,
  FULCIO_OIDS,
  fromRepository,
  GITHUB_ACTIONS_ISSUER,
  identityRegexpFor,
  notACandidate,
  predicateTypeUri,
  timestampToRead,
  timestampVariants,
  timeVerificationFor,
  type FoundBundle,
  type GitHubCertificateClaims,
  type GitHubSignerCheck,
  type JudgedBundle
} from '../../domain/github-signer.js'
import {
  bundleTimeEvidence,
  protojsonNames,
  trustedRootHasCtLogs
} from '../../domain/sigstore-bundle.js'
import { SIGSTORE_BUNDLE_ARTIFACT_TYPE } from '../../domain/manifest.js'
import type { Digest, GitHubSignerExpectation, ImagePlan } from '../../domain/types.js'
import type { GitHubAttestations } from '../github/attestations.js'
import type { RegistryClient } from '../registry/client.js'
import {
  bundleCertificate,
  bundleIntegratedTime,
  bundleLogIndex,
  envelopeStatement,
  verifyBundle,
  verifyBundleArguments,
  type BundleVerification
} from './sigstore-bundle.js'

/** The media type of a Sigstore bundle v0.3 layer in its referrer manifest. */
const SIGSTORE_BUNDLE_LAYER = SIGSTORE_BUNDLE_ARTIFACT_TYPE
/** Most bundles verified per signer, digest and source (each is one cosign call). */
const MAX_BUNDLES = 16
/**
 * Most bundle referrers read per digest to find MAX_BUNDLES candidates: an
 * image re-signed many times holds a referrer per signature, each passed
 * over, in front of its attestation. Read one at a time; only candidates kept.
 */
const MAX_REFERRERS_READ = 64

interface GitHubBundleVerifierOptions {
  cosignPath: string
  /** Trusted-root paths in plans are relative to this folder. */
  workspace: string
  registry: Pick<RegistryClient, 'listReferrers' | 'readArtifactLayer'>
  /** GitHub's attestations API: one client per run (its rate-limit budget is per run). */
  attestations?: Pick<GitHubAttestations, 'listBundles' | 'anonymous'>
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  log?: (message: string) => void
}

/**
 * The genTime (RFC 3339) of an RFC 3161 signed timestamp as a Sigstore bundle
 * carries it (base64 of a DER TimeStampResp, whose token is a CMS SignedData
 * over a TSTInfo; RFC 3161 §2.4.2), parsed with @peculiar/asn1-tsp and
 * asn1-cms; undefined when it is not one. Reads, verifies nothing: only for a
 * timestamp cosign has verified.
 */
function signedTimestampTime(signedTimestamp: string): string | undefined {
  try {
    const response = AsnConvert.parse(Buffer.from(signedTimestamp, 'base64'), TimeStampResp)
    const token = response.timeStampToken
    if (
      response.status.status !== PKIStatus.granted &&
      response.status.status !== PKIStatus.grantedWithMods
    )
      return
    if (!token || token.contentType !== id_signedData) return
    const signed = AsnConvert.parse(token.content, SignedData)
    const content = signed.encapContentInfo
    const der = content.eContent?.single?.buffer ?? content.eContent?.any
    if (content.eContentType !== id_ct_tstInfo || !der) return
    const genTime = AsnConvert.parse(der, TSTInfo).genTime
    return Number.isNaN(genTime.getTime()) ? undefined : genTime.toISOString()
  } catch {
    return undefined
  }
}

/**
 * The GitHub claims of a Fulcio certificate (DER), parsed with
 * @peculiar/asn1-x509: the SAN URI and the extensions 1.3.6.1.4.1.57264.1.9,
 * .11, .12, .14, each a DER UTF8String (Fulcio's OID registry). Throws on a
 * certificate that is not DER.
 */
function readGitHubClaims(der: Buffer): GitHubCertificateClaims {
  const certificate = AsnConvert.parse(der, Certificate)
  const claims: GitHubCertificateClaims = {}
  const names: Record<string, keyof GitHubCertificateClaims> = {
    [FULCIO_OIDS.buildSignerUri]: 'buildSignerUri',
    [FULCIO_OIDS.runnerEnvironment]: 'runnerEnvironment',
    [FULCIO_OIDS.sourceRepositoryUri]: 'sourceRepositoryUri',
    [FULCIO_OIDS.sourceRepositoryRef]: 'sourceRepositoryRef'
  }
  for (const extension of certificate.tbsCertificate.extensions ?? []) {
    const value = extension.extnValue.buffer
    if (extension.extnID === id_ce_subjectAltName) {
      const uri = AsnConvert.parse(value, SubjectAlternativeName).find(
        name => name.uniformResourceIdentifier !== undefined
      )?.uniformResourceIdentifier
      if (uri !== undefined) claims.subjectAlternativeName = uri
      continue
    }
    const key = names[extension.extnID]
    if (key === undefined) continue
    const decoded = fromBER(value)
    if (decoded.offset !== -1 && decoded.result instanceof Utf8String)
      claims[key] = decoded.result.valueBlock.value
  }
  return claims
}

/** Whether a bundle's certificate (not yet verified) names `repository` as its source. */
function attributedTo(bundle: unknown, repository: string): boolean {
  const der = bundleCertificate(bundle)
  if (!der) return false
  try {
    return fromRepository(readGitHubClaims(der), repository)
  } catch {
    return false
  }
}

export class GitHubBundleVerifier implements GitHubSignerVerifier {
  /** Whether each trusted root (by absolute path) lists a CT log; read once per run. */
  private readonly ctLogs = new Map<string, Promise<boolean>>()

  constructor(private readonly options: GitHubBundleVerifierOptions) {}

  /**
   * Whether the trusted root at `path` lists a CT log. One that cannot be
   * read or parsed counts as listing one (the SCT stays required; cosign
   * then reports the file itself).
   */
  private hasCtLogs(path: string): Promise<boolean> {
    let known = this.ctLogs.get(path)
    if (!known) {
      known = readFile(path, 'utf8').then(
        text => {
          try {
            return trustedRootHasCtLogs(JSON.parse(text) as unknown)
          } catch {
            return true
          }
        },
        () => true
      )
      this.ctLogs.set(path, known)
    }
    return known
  }

  async check(
    plan: ImagePlan,
    signer: GitHubSignerExpectation,
    digest: Digest,
    predicateType: string
  ): Promise<GitHubSignerCheck> {
    const unreadable: string[] = []
    const judged: JudgedBundle[] = []
    let attempts = 0
    // Each source has its own MAX_BUNDLES: bundles in the registry that fail
    // do not use up the API's turn. Bundles left over are not known to fail.
    const judgeAll = async (found: FoundBundle[], source: string): Promise<boolean> => {
      for (const bundle of found.slice(0, MAX_BUNDLES)) {
        attempts++
        const result = await this.judge(plan, signer, digest, predicateType, bundle)
        judged.push(result)
        if (result.result === 'verified') return true
      }
      if (found.length > MAX_BUNDLES)
        unreadable.push(
          `${source}: ${found.length - MAX_BUNDLES} more bundle(s) not checked (at most ${MAX_BUNDLES} per source)`
        )
      return false
    }
    const fromRegistry = await this.fromRegistry(plan, digest, predicateType, unreadable).catch(
      (error: unknown) => {
        unreadable.push(`registry referrers: ${causeChain(error).join(': ')}`)
        return { found: [], passedOver: 0 }
      }
    )
    if (!(await judgeAll(fromRegistry.found, 'registry referrers')) && this.options.attestations) {
      const fromApi = await this.fromApi(
        signer.repository,
        digest,
        predicateType,
        unreadable
      ).catch((error: unknown) => {
        // GitHubApiError's message says when a rate limit resets.
        unreadable.push(`GitHub attestations API: ${causeChain(error).join(': ')}`)
        return []
      })
      await judgeAll(fromApi, 'GitHub attestations API')
    }
    const verified = judged.find(j => j.result === 'verified')
    const check = combineGitHubBundles(
      verified ? [verified] : judged,
      verified ? [] : unreadable,
      attempts,
      fromRegistry.passedOver
    )
    // GitHub answers 404, not 403, for a private repository it does not show.
    if (check.result === 'absent' && this.options.attestations?.anonymous)
      check.message += `; GitHub's API was asked without a token, so only public repositories' attestations are seen: pass \`github-token\` (GITHUB_TOKEN for the command line) with \`attestations: read\``
    return check
  }

  /**
   * Bundle referrers of the digest, each bundle read from its manifest's layer.
   * A referrer that cannot be read is noted in `unreadable` and passed over, so
   * one junk referrer (too large, not what it claims) hides no valid bundle.
   * A bundle that is not a candidate for the signer (notACandidate: a cosign
   * signature, a key-signed attestation, another predicate type) is counted
   * in `passedOver` and not judged, as the API's `predicate_type` filter
   * leaves such bundles out.
   */
  private async fromRegistry(
    plan: ImagePlan,
    digest: Digest,
    predicateType: string,
    unreadable: string[]
  ): Promise<{ found: FoundBundle[]; passedOver: number }> {
    const { registry } = this.options
    const referrers = await registry.listReferrers(plan.registry, plan.repositoryPath, digest, {
      artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE
    })
    const found: FoundBundle[] = []
    let passedOver = 0
    let read = 0
    for (const referrer of referrers) {
      if (found.length === MAX_BUNDLES || read === MAX_REFERRERS_READ) {
        unreadable.push(
          `registry referrers: ${referrers.length - read} more bundle referrer(s) not read (at most ${MAX_REFERRERS_READ} read, ${MAX_BUNDLES} candidates checked)`
        )
        break
      }
      read++
      const blob = await registry
        .readArtifactLayer(
          plan.registry,
          plan.repositoryPath,
          referrer.digest,
          SIGSTORE_BUNDLE_LAYER
        )
        .catch((error: unknown) => {
          unreadable.push(`registry referrer ${referrer.digest}: ${causeChain(error).join(': ')}`)
          return undefined
        })
      if (!blob) continue
      const json = blob.toString('utf8')
      let reason: string | undefined
      try {
        // Read by the names cosign reads (a field named twice: judged, and refused).
        const named = protojsonNames(JSON.parse(json) as unknown)
        reason = 'bundle' in named ? notACandidate(named.bundle, predicateType) : undefined
      } catch {
        reason = undefined // not JSON: judged, and refused, as such
      }
      if (reason !== undefined) {
        passedOver++
        continue
      }
      found.push({
        source: referrer.via === 'referrers-tag' ? 'referrers tag' : 'registry referrer',
        json,
        locator: referrer.digest
      })
    }
    return { found, passedOver }
  }

  /**
   * The API's bundles for the digest. An entry that cannot be read is noted
   * in `unreadable`; an entry of the owner's bulk listing is kept only when
   * its certificate names the signer's repository (routing, not trust: cosign
   * and checkGitHubBundle still judge it), as the repository's own listing
   * would have listed it.
   */
  private async fromApi(
    repository: string,
    digest: Digest,
    predicateType: string,
    unreadable: string[]
  ): Promise<FoundBundle[]> {
    const listed = await this.options.attestations!.listBundles(
      repository,
      digest,
      predicateTypeUri(predicateType)
    )
    const found: FoundBundle[] = []
    for (const entry of listed) {
      if ('problem' in entry) {
        unreadable.push(`GitHub attestations API ${entry.where}: ${entry.problem}`)
        continue
      }
      const named = protojsonNames(entry.bundle)
      if (entry.scope === 'owner' && !('bundle' in named && attributedTo(named.bundle, repository)))
        continue
      // JSON.stringify recurses: an entry nested too deep is unreadable, alone.
      let json: string
      try {
        json = JSON.stringify(entry.bundle)
      } catch (error: unknown) {
        unreadable.push(
          `GitHub attestations API ${entry.where}: cannot be written as JSON (${causeChain(error).join(': ')})`
        )
        continue
      }
      found.push({ source: 'API', json, locator: entry.where })
    }
    return found
  }

  /** One bundle: cosign verifies it, then its certificate and statement are judged. */
  private async judge(
    plan: ImagePlan,
    signer: GitHubSignerExpectation,
    digest: Digest,
    predicateType: string,
    found: FoundBundle
  ): Promise<JudgedBundle> {
    const where = { source: found.source, locator: found.locator }
    let parsed: unknown
    try {
      parsed = JSON.parse(found.json) as unknown
    } catch {
      return { ...where, result: 'invalid', message: 'the bundle is not JSON' }
    }
    // Every field by the name cosign reads it by, and cosign given that very
    // document: what is read here (timestamps, log entries, certificate,
    // statement) is what cosign verified.
    const named = protojsonNames(parsed)
    if ('problem' in named) return { ...where, result: 'invalid', message: named.problem }
    const evidence = bundleTimeEvidence(named.bundle)
    const trustedRoot = plan.policy.trustedRoot
      ? {
          given: true as const,
          hasCtLogs: await this.hasCtLogs(resolve(this.options.workspace, plan.policy.trustedRoot))
        }
      : { given: false as const }
    const time = timeVerificationFor(evidence, trustedRoot)
    if ('problem' in time) return { ...where, result: 'invalid', message: time.problem }
    // Several signed timestamps: each alone, until one verifies (its time is read).
    const variants = timestampVariants(named.bundle, evidence)
    if ('problem' in variants) return { ...where, result: 'invalid', message: variants.problem }
    let bundle: unknown
    let refused: { result: 'invalid' | 'could-not-complete'; message: string } | undefined
    for (const variant of variants.bundles) {
      const json = JSON.stringify(variant)
      const run = await this.runCosign(plan, signer, digest, predicateType, json, time.args)
      if (run.result === 'ok') {
        bundle = variant
        break
      }
      if (refused === undefined || run.result === 'could-not-complete') refused = run
    }
    if (bundle === undefined) return { ...where, ...refused! }
    const der = bundleCertificate(bundle)
    const statement = envelopeStatement((bundle as { dsseEnvelope?: unknown } | null)?.dsseEnvelope)
    if (!der) return { ...where, result: 'invalid', message: 'the bundle has no certificate' }
    if (typeof statement === 'string')
      return { ...where, result: 'invalid', message: `the bundle's statement: ${statement}` }
    let claims: GitHubCertificateClaims
    try {
      claims = readGitHubClaims(der)
    } catch (error: unknown) {
      return {
        ...where,
        result: 'invalid',
        message: `the certificate cannot be read: ${causeChain(error).join(': ')}`
      }
    }
    const problem = checkGitHubBundle(signer, claims, statement.statement, digest, predicateType)
    if (problem) return { ...where, result: 'invalid', message: problem }
    // Only now that cosign verified the bundle: the log's time, else the timestamp's.
    const logged = evidence.tlogEntries > 0 ? bundleIntegratedTime(bundle) : undefined
    const logIndex = evidence.tlogEntries > 0 ? bundleLogIndex(bundle) : undefined
    const timestamp = timestampToRead(bundleTimeEvidence(bundle))
    const stamped = timestamp !== undefined ? signedTimestampTime(timestamp) : undefined
    const signedAt = logged ?? stamped
    return {
      ...where,
      result: 'verified',
      statement,
      claims,
      ...(signedAt !== undefined && {
        signedAt,
        signedAtSource: logged !== undefined ? ('tlog' as const) : ('tsa' as const)
      }),
      ...(logIndex !== undefined && { rekorLogIndex: logIndex })
    }
  }

  /**
   * The arguments of `cosign verify-blob-attestation` for one bundle file.
   * The repository is not given as `--certificate-github-workflow-repository`:
   * cosign compares that (the deprecated extension 1.3.6.1.4.1.57264.1.5) with
   * case, where GitHub names have none; checkGitHubBundle checks the Source
   * Repository URI (.12) without case once cosign has verified the certificate.
   * `timeArgs`: how the signing time is verified (timeVerificationFor).
   */
  static arguments(
    plan: ImagePlan,
    signer: GitHubSignerExpectation,
    digest: Digest,
    predicateType: string,
    bundlePath: string,
    workspace: string,
    timeArgs: readonly string[] = []
  ): string[] {
    return verifyBundleArguments({
      bundlePath,
      digest,
      predicateType: predicateTypeUri(predicateType),
      signerArgs: [
        '--certificate-identity-regexp',
        identityRegexpFor(signer),
        '--certificate-oidc-issuer',
        GITHUB_ACTIONS_ISSUER
      ],
      timeArgs,
      ...(plan.policy.trustedRoot && { trustedRoot: resolve(workspace, plan.policy.trustedRoot) })
    })
  }

  private runCosign(
    plan: ImagePlan,
    signer: GitHubSignerExpectation,
    digest: Digest,
    predicateType: string,
    json: string,
    timeArgs: readonly string[]
  ): Promise<BundleVerification> {
    return verifyBundle({
      cosignPath: this.options.cosignPath,
      ...(this.options.env !== undefined && { env: this.options.env }),
      ...(this.options.timeoutMs !== undefined && { timeoutMs: this.options.timeoutMs }),
      json,
      args: bundlePath =>
        GitHubBundleVerifier.arguments(
          plan,
          signer,
          digest,
          predicateType,
          bundlePath,
          this.options.workspace,
          timeArgs
        )
    })
  }
}
