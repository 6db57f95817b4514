/**
 * The ports the use cases need, filled by the adapters (`src/adapters/`):
 * reading the configuration, the registry, cosign and the matrix file. The
 * use cases depend on these shapes only, never on an adapter's module.
 */
import type { DigestSource } from '../domain/drift.js'
import type {
  AttestationFinding,
  Config,
  CosignVersion,
  Digest,
  ImagePlan,
  PlannedRequirement,
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

/** Everything verify and update need from the outside world. */
export interface Ports {
  loadConfig: LoadConfig
  registry: DigestSource & TagResolver
  prepareCosign: () => Promise<CosignTools>
  matrixFile: MatrixFile
  log?: (message: string) => void
}
