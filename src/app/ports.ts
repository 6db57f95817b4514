/**
 * The ports the use cases need, filled by the adapters (`src/adapters/`):
 * reading the configuration, the registry, cosign and the matrix file. The
 * use cases depend on these shapes only, never on an adapter's module.
 */
import type { DigestSource } from '../domain/drift.js'
import type { GitHubApiSubject, GitHubSignerCheck } from '../domain/github-signer.js'
import type {
  AttestationFinding,
  Config,
  CosignVersion,
  Digest,
  GitHubSignerExpectation,
  ImagePlan,
  PlannedRequirement,
  RegistryThrottle,
  RequirementFinding,
  SignatureFinding
} from '../domain/types.js'

/** The two configuration files of one run; relative paths are read from `workspace`. */
export interface ConfigFiles {
  policyPath: string
  matrixPath: string
  workspace: string
  /** The `trusted-root` input, held to the same checks as the policy's `trusted_root`. */
  trustedRootInput?: string
}

/** Both files, checked and normalised; throws ConfigError carrying every issue. */
export type LoadConfig = (files: ConfigFiles) => Promise<Config>

/** Signature and attestation checks of one pinned digest (cosign, in the adapter). */
export interface SignatureVerifier {
  verifySignature(plan: ImagePlan, digest: Digest, now: Date): Promise<SignatureFinding>
  verifyAttestation(plan: ImagePlan, digest: Digest): Promise<AttestationFinding>
  /** One attestation requirement (trust model `signers`), its conditions judged. */
  verifyRequirement(
    plan: ImagePlan,
    requirement: PlannedRequirement,
    digest: Digest,
    now: Date
  ): Promise<RequirementFinding>
}

/**
 * How the caller will use cosign: `concurrency` images checked at once, so
 * the adapter may group its calls (cosign/batch.ts) while keeping enough in
 * flight. Without it, one call per image and signer.
 */
export interface CosignUse {
  concurrency: number
  /**
   * The digests the run's `github` signers may ask GitHub's attestations API
   * about (domain `gitHubApiSubjects`), so the adapter can list an owner's
   * digests in bulk instead of one request per digest.
   */
  githubSubjects?: readonly GitHubApiSubject[]
}

/**
 * A GitHub artifact attestation signer's check of one digest (issue 13): the
 * Sigstore bundles found as registry referrers and through GitHub's
 * attestations API, each verified with `cosign verify-blob-attestation`, then
 * judged by checkGitHubBundle (src/domain/github-signer.ts). Never throws: a
 * source that cannot be read makes the result `could-not-complete`.
 */
export interface GitHubSignerVerifier {
  check(
    plan: ImagePlan,
    signer: GitHubSignerExpectation,
    digest: Digest,
    predicateType: string
  ): Promise<GitHubSignerCheck>
}

/** cosign, made ready only when an image needs it (the install is not free). */
export interface CosignTools {
  verifier: SignatureVerifier
  version: CosignVersion
}

/** What the updater needs from a registry besides the digest check. */
export interface TagResolver {
  /** What the tag points at; for an index, its platforms' manifests too. */
  resolveTag(
    registry: string,
    repositoryPath: string,
    tag: string
  ): Promise<{ digest: string; platforms?: readonly { digest: string; platform: string }[] }>
  listTags(registry: string, repositoryPath: string): Promise<string[]>
  /** The manifest's media type, or undefined when the digest does not exist. */
  inspectManifest(
    registry: string,
    repositoryPath: string,
    digest: Digest
  ): Promise<{ mediaType: string } | undefined>
  /** `os/arch[/variant]` from an image manifest's config, if it names one. */
  readPlatform(
    registry: string,
    repositoryPath: string,
    digest: Digest
  ): Promise<string | undefined>
}

/** The matrix file as text, for the updater's in-place edits (paths as in ConfigFiles). */
export interface MatrixFile {
  read(path: string, workspace: string): Promise<string>
  write(path: string, workspace: string, text: string): Promise<void>
}

/**
 * What a verified result depends on outside its plan, read by the adapter:
 * the cosign binary, key files and trusted roots (by the paths plans name).
 * A path that could not be read is absent, and its images are not cached.
 */
export interface VerdictMaterial {
  /** Identity of the cosign binary: its release and pinned SHA-256, or the file's SHA-256. */
  cosign: string
  /** `sha256:<hex>` of the DER public key in each key file, by `key_path`. */
  keyFingerprints: Record<string, string>
  /** `sha256:<hex>` of each trusted root file, by path. */
  trustedRoots: Record<string, string>
}

/** A verified result as the verification cache keeps it (see app/verdict-cache.ts). */
export interface CachedVerdict {
  /** SHA-256 of everything the verdict depends on (app/verdict-cache.ts `verdictKey`). */
  key: string
  /** RFC 3339: when cosign judged it. */
  judgedAt: string
  signature: SignatureFinding
  attestation: AttestationFinding
  /** Each attestation requirement's result (trust model `signers`). */
  requirements?: RequirementFinding[]
  /** SHA-256 of the entry's other fields, canonical JSON: a changed byte shows as corruption. */
  checksum: string
}

/** What the cache service gave back: raw entries (checked by the use case), or why none. */
export type CacheRestore =
  { ok: true; entries: unknown[]; note?: string } | { ok: false; reason: string }

/**
 * A verification cache across runs (GitHub's cache service in the action).
 * Failures are values, never exceptions: a cache problem must not change a
 * verdict or fail a step.
 */
export interface VerdictCache {
  material(plans: readonly ImagePlan[]): Promise<VerdictMaterial>
  /** SHA-256 (hex) of UTF-8 text. */
  sha256(text: string): string
  restore(): Promise<CacheRestore>
  save(entries: readonly CachedVerdict[]): Promise<{ ok: true } | { ok: false; reason: string }>
}

/**
 * Registry-aware scheduling in the registry adapter: a per-registry limit on
 * requests in flight (policy `registry_concurrency`, known only once the
 * policy is read) and a record of the registries that asked to slow down.
 */
export interface RegistrySchedule {
  setRegistryConcurrency(limit: number): void
  throttles(): RegistryThrottle[]
}

/** Everything verify and update need from the outside world. */
export interface Ports {
  loadConfig: LoadConfig
  registry: DigestSource & TagResolver
  prepareCosign: (use?: CosignUse) => Promise<CosignTools>
  matrixFile: MatrixFile
  schedule?: RegistrySchedule
  /** SHA-256 (hex) of UTF-8 text. */
  sha256: (text: string) => string
  log?: (message: string) => void
}
