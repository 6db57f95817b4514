/**
 * The body of `version`'s section of a Keep a Changelog document, trimmed and
 * ending in a newline. `version` may be `4.1.0`, `v4.1.0` or `refs/tags/v4.1.0`.
 * Throws when the section is missing or empty.
 */
export function changelogSection(markdown: string, version: string): string
