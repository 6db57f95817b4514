// Types of the snappyjs package (Snappy block format, pure JavaScript), which ships none.
declare module 'snappyjs' {
  /** Decompresses a Snappy block; throws when it is not one or exceeds `maxLength` bytes. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(input: T, maxLength?: number): T
  export function compress<T extends Uint8Array | ArrayBuffer>(input: T): T
}
