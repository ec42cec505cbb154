// hash-wasm ships each algorithm as its own UMD file; importing just this one keeps the others
// (and their WebAssembly) out of every process that hashes a context.
declare module 'hash-wasm/dist/xxhash128.umd.min.js' {
  import type { IHasher } from 'hash-wasm';
  export function createXXHash128(): Promise<IHasher>;
}
