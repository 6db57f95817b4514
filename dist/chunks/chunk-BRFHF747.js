import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import {
  ProvenanceError
} from "./chunk-RNJR3ALJ.js";

// src/adapters/cosign/binary.ts
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

// src/adapters/process.ts
import { spawn } from "node:child_process";
var DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
var PIPE_GRACE_MS = 2e3;
var PASSED_THROUGH = [
  "PATH",
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "NO_PROXY",
  "no_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "TMPDIR",
  "TEMP",
  "TMP",
  "SystemRoot",
  "SYSTEMROOT",
  "windir",
  "LANG",
  "LC_ALL",
  "TZ"
];
function minimalEnv(source, extra = {}) {
  const env = {};
  const secret = new Set(extra.secret ?? []);
  const wanted = (name) => !secret.has(name) && (PASSED_THROUGH.includes(name) || (extra.names ?? []).includes(name) || (extra.prefixes ?? []).some((prefix) => name.startsWith(prefix)));
  for (const [name, value] of Object.entries(source))
    if (value !== void 0 && wanted(name)) env[name] = value;
  return env;
}
function envWithout(source, drop) {
  const env = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === void 0) continue;
    if ((drop.names ?? []).includes(name)) continue;
    if ((drop.prefixes ?? []).some((prefix) => name.startsWith(prefix))) continue;
    env[name] = value;
  }
  return env;
}
var liveGroups = /* @__PURE__ */ new Set();
var handlersInstalled = false;
function killLiveGroups() {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
    }
  }
  liveGroups.clear();
}
function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killLiveGroups);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    const onSignal = () => {
      killLiveGroups();
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
function runProcess(file, args, options) {
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise((resolveRun) => {
    const stdout = [];
    const stderr = [];
    let size = 0;
    let timedOut = false;
    let settled = false;
    let exit;
    let graceTimer;
    const group = process.platform !== "win32";
    const child = spawn(file, args, {
      env: options.env,
      stdio: [options.input === void 0 ? "ignore" : "pipe", "pipe", "pipe"],
      detached: group,
      windowsHide: true
    });
    if (group && child.pid !== void 0) {
      installExitHandlers();
      liveGroups.add(child.pid);
    }
    const killGroup = () => {
      if (child.pid === void 0) return;
      try {
        if (group) process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGKILL");
      } catch {
      }
    };
    const finish = (result) => {
      if (settled) return;
      settled = true;
      if (child.pid !== void 0) liveGroups.delete(child.pid);
      clearTimeout(timer);
      clearTimeout(graceTimer);
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.stdin?.destroy();
      resolveRun({
        ...result,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8")
      });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
      finish({ exitCode: exit?.code ?? null, signal: exit?.signal ?? "SIGKILL", timedOut });
    }, options.timeoutMs);
    const collect = (sink) => (chunk) => {
      size += chunk.length;
      if (size <= maxOutput) sink.push(chunk);
    };
    child.stdout?.on("data", collect(stdout));
    child.stderr?.on("data", collect(stderr));
    if (child.stdin && options.input !== void 0) {
      child.stdin.on("error", () => void 0);
      child.stdin.end(options.input);
    }
    child.on("error", (error) => {
      finish({ exitCode: null, signal: null, timedOut: false, spawnError: error.message });
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      if (settled) return;
      graceTimer = setTimeout(() => {
        killGroup();
        finish({ exitCode: code, signal, timedOut });
      }, PIPE_GRACE_MS);
    });
    child.on("close", (code, signal) => {
      finish({ exitCode: exit?.code ?? code, signal: exit?.signal ?? signal, timedOut });
    });
  });
}

// src/adapters/cosign/binary.ts
var CosignInstallError = class extends ProvenanceError {
  constructor(code, message, options) {
    super(code, message, options);
    this.name = "CosignInstallError";
  }
};
var VERSION_TIMEOUT_MS = 3e4;
var ASSETS = {
  "linux/x64": "cosign-linux-amd64",
  "linux/arm64": "cosign-linux-arm64",
  "linux/arm": "cosign-linux-arm",
  "darwin/x64": "cosign-darwin-amd64",
  "darwin/arm64": "cosign-darwin-arm64",
  "win32/x64": "cosign-windows-amd64.exe"
};
function cosignAssetName(platform, arch) {
  const asset = ASSETS[`${platform}/${arch}`];
  if (!asset) {
    throw new CosignInstallError(
      "COSIGN_UNSUPPORTED_PLATFORM",
      `cosign is not published for ${platform}/${arch}; supported: ${Object.keys(ASSETS).join(", ")}. Install cosign yourself and pass its path as cosign-path.`
    );
  }
  return asset;
}
async function sha256File(path) {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const file = await open(path, "r");
  try {
    for (; ; ) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}
async function readCosignVersion(cosignPath) {
  const fail = (message, cause) => {
    throw new CosignInstallError("COSIGN_VERSION_UNREADABLE", message, { cause });
  };
  const run = await runProcess(cosignPath, ["version", "--json"], {
    env: minimalEnv(process.env, { names: ["HOME"] }),
    timeoutMs: VERSION_TIMEOUT_MS,
    maxOutputBytes: 1024 * 1024
  });
  if (run.spawnError !== void 0 && /ENOENT/.test(run.spawnError))
    fail(
      `cosign is not found at \`${cosignPath}\`: install cosign or give its path (--cosign-path; the action installs it itself)`,
      new Error(run.spawnError)
    );
  if (run.spawnError !== void 0 || run.exitCode !== 0 || run.timedOut)
    fail(
      `\`${cosignPath} version --json\` failed`,
      new Error(
        run.spawnError ?? (run.timedOut ? `no answer within ${VERSION_TIMEOUT_MS} ms` : `exit ${run.exitCode ?? run.signal}: ${run.stderr.trim().slice(0, 300)}`)
      )
    );
  let parsed;
  try {
    parsed = JSON.parse(run.stdout);
  } catch (parseError) {
    return fail(`\`${cosignPath} version --json\` printed something that is not JSON`, parseError);
  }
  const fields = parsed;
  if (typeof parsed !== "object" || parsed === null || typeof fields.gitVersion !== "string")
    return fail(`\`${cosignPath} version --json\` printed no gitVersion`);
  return {
    gitVersion: fields.gitVersion,
    ...typeof fields.goVersion === "string" ? { goVersion: fields.goVersion } : {},
    ...typeof fields.platform === "string" ? { platform: fields.platform } : {},
    path: cosignPath
  };
}

// src/adapters/cosign/checksums.ts
var DEFAULT_COSIGN_VERSION = "v3.0.6";
var DEFAULT_COSIGN_RELEASE_URL = "https://github.com/sigstore/cosign/releases/download";
var COSIGN_SHA256 = {
  "v3.0.6": {
    "cosign-linux-amd64": "c956e5dfcac53d52bcf058360d579472f0c1d2d9b69f55209e256fe7783f4c74",
    "cosign-linux-arm64": "bedac92e8c3729864e13d4a17048007cfafa79d5deca993a43a90ffe018ef2b8",
    "cosign-linux-arm": "67bd25d32daff5664caf51208c95defcb2ad7ac1296f394fa677bb8bacee62f5",
    "cosign-darwin-amd64": "4c3e7af8372d3ca3296e62fa56f23fcbb5721cc6ac1827900d398f110d7cd280",
    "cosign-darwin-arm64": "5fadd012ae6381a6a29ff86a7d39aa873878852f1073fc90b15995961ecfb084",
    "cosign-windows-amd64.exe": "9b85a88ebff2d9dd30ff4984a6f61f2cedc232dd87d81fa7f2ff3c0ed96c241c"
  }
};
function pinnedCosignSha256(version, asset) {
  return COSIGN_SHA256[normalizeCosignVersion(version)]?.[asset];
}
function normalizeCosignVersion(version) {
  const trimmed = version.trim();
  return /^\d/.test(trimmed) ? `v${trimmed}` : trimmed;
}

export {
  minimalEnv,
  envWithout,
  runProcess,
  CosignInstallError,
  cosignAssetName,
  sha256File,
  readCosignVersion,
  DEFAULT_COSIGN_VERSION,
  DEFAULT_COSIGN_RELEASE_URL,
  pinnedCosignSha256,
  normalizeCosignVersion
};
