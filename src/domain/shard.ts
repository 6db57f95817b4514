/**
 * Sharding a run over a workflow matrix (input `shard: k/n`): each image
 * belongs to exactly one of n shards, chosen by a stable hash of its
 * reference (`repository:tag`), so adding or removing rows moves no other
 * image between shards. Pure.
 */

/** One shard of a sharded run: `index` of `count`, 1-based. */
export interface Shard {
  index: number
  count: number
}

/** The most shards a run may be split into (a workflow matrix's job limit is 256). */
export const MAX_SHARDS = 256

/**
 * 32-bit FNV-1a of the UTF-8 bytes of `text` (FNV, Fowler–Noll–Vo): small,
 * stable across platforms and releases, and spreads references evenly enough.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/** The 1-based shard (of `count`) that `reference` belongs to. */
export function shardOf(reference: string, count: number): number {
  return (fnv1a32(reference) % count) + 1
}

/** The items of `shard`, in their order; every item is in exactly one shard of a count. */
export function selectShard<T extends { reference: string }>(
  items: readonly T[],
  shard: Shard
): T[] {
  return items.filter(item => shardOf(item.reference, shard.count) === shard.index)
}
