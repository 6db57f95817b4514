import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);

// src/domain/errors.ts
var ProvenanceError = class extends Error {
  code;
  constructor(code, message, options) {
    super(message, options);
    this.name = "ProvenanceError";
    this.code = code;
  }
};
var ConfigError = class extends ProvenanceError {
  issues;
  constructor(issues, options) {
    super("CONFIG_INVALID", formatConfigIssues(issues), options);
    this.name = "ConfigError";
    this.issues = issues;
  }
};
var InputError = class extends ProvenanceError {
  constructor(message, options) {
    super("INPUT_INVALID", message, options);
    this.name = "InputError";
  }
};
function formatLocation(location) {
  if (!location) return "";
  return `${location.file}:${location.line}:${location.column}`;
}
function formatConfigIssues(issues, kind = "problem") {
  const lines = issues.map((issue) => {
    const where = formatLocation(issue.location);
    return where ? `${where}: ${issue.message}` : issue.message;
  });
  const noun = issues.length === 1 ? kind : `${kind}s`;
  return `configuration has ${issues.length} ${noun}:
${lines.map((l) => `  ${l}`).join("\n")}`;
}
function causeChain(error) {
  const chain = [];
  let current = error;
  const seen = /* @__PURE__ */ new Set();
  while (current !== void 0 && current !== null && !seen.has(current)) {
    seen.add(current);
    if (current instanceof Error) {
      const code = current.code;
      const prefixed = typeof code === "string" && !current.message.startsWith(code);
      chain.push(prefixed ? `${code}: ${current.message}` : current.message);
      current = current.cause;
    } else {
      chain.push(String(current));
      break;
    }
  }
  return chain;
}
var RegistryError = class extends ProvenanceError {
  /** HTTP status, when the registry answered. */
  status;
  retryable;
  /** Milliseconds the registry asked us to wait (`Retry-After`), if it did. */
  retryAfterMs;
  constructor(code, message, options = {}) {
    super(code, message, { cause: options.cause });
    this.name = "RegistryError";
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
};
function describeRegistryError(error) {
  if (error instanceof RegistryError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export {
  ProvenanceError,
  ConfigError,
  InputError,
  formatLocation,
  formatConfigIssues,
  causeChain,
  RegistryError,
  describeRegistryError
};
