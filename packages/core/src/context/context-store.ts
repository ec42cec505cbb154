import type { IHasher } from 'hash-wasm';
import { LRUCache } from 'lru-cache';
import type { Transport } from '../bus/transport';
import { ContextCorruptError, ContextMissingError } from '../errors';

/**
 * Content-addressed context blobs. The reference is the content's XXH3-128 hash: about 0.1 ms
 * for 800 KB here, against 0.5 ms for SHA-256 with SHA-NI and 2 ms without. It guards against
 * accidents (a chunk overwritten, a truncated read), not against someone with write access to
 * the swarm's keys, who could change a task anyway.
 */
export interface ContextStore {
  /** Stores content and returns its reference (the context version). */
  put(swarm: string, content: Buffer | string): Promise<string>;
  /** The whole content, or a typed error: never a partial read. */
  get(swarm: string, ref: string): Promise<Buffer>;
}

export interface ContextStoreOptions {
  /** Content larger than this is split into chunks of this size. */
  chunkBytes?: number;
  /** Process-local cache bound, in bytes. */
  cacheBytes?: number;
}

let hasher: Promise<IHasher> | undefined;

interface XXHash128Module {
  createXXHash128(): Promise<IHasher>;
}

export async function contextRef(content: Buffer): Promise<string> {
  // Loaded on first use: most processes (a poster, a status check) never hash a context.
  hasher ??= import('hash-wasm/dist/xxhash128.umd.min.js').then((m) => {
    // A UMD file: its exports arrive as the default export, or as named ones, by loader.
    const umd = m as Partial<XXHash128Module> & { default?: XXHash128Module };
    return (umd.default ?? (umd as XXHash128Module)).createXXHash128();
  });
  const h = await hasher;
  h.init();
  h.update(content);
  return h.digest('hex');
}

export class ChunkedContextStore implements ContextStore {
  readonly #cache: LRUCache<string, Buffer>;
  readonly #chunkBytes: number;

  constructor(
    private readonly transport: Transport,
    options: ContextStoreOptions = {},
  ) {
    this.#chunkBytes = options.chunkBytes ?? 1024 * 1024;
    this.#cache = new LRUCache<string, Buffer>({
      maxSize: options.cacheBytes ?? 256 * 1024 * 1024,
      sizeCalculation: (value) => Math.max(1, value.length),
    });
  }

  async put(swarm: string, content: Buffer | string): Promise<string> {
    const buffer = typeof content === 'string' ? Buffer.from(content) : content;
    const ref = await contextRef(buffer);
    const cacheKey = `${swarm}/${ref}`;
    if (this.#cache.has(cacheKey)) return ref;
    const chunks = Math.max(1, Math.ceil(buffer.length / this.#chunkBytes));
    const parts = new Map<string, Buffer>([
      ['size', Buffer.from(String(buffer.length))],
      ['chunks', Buffer.from(String(chunks))],
    ]);
    for (let i = 0; i < chunks; i++) {
      parts.set(`c${i}`, buffer.subarray(i * this.#chunkBytes, (i + 1) * this.#chunkBytes));
    }
    await this.transport.putBlob(swarm, ref, parts);
    // Only a buffer made here is cached at once: the caller may reuse its own, and copying 800 KB
    // costs more than the hash (0.3 ms here). A Buffer put is cached by its first get.
    if (typeof content === 'string') this.#cache.set(cacheKey, buffer);
    return ref;
  }

  async get(swarm: string, ref: string): Promise<Buffer> {
    const cacheKey = `${swarm}/${ref}`;
    const cached = this.#cache.get(cacheKey);
    if (cached) return cached;
    const parts = await this.transport.getBlob(swarm, ref);
    if (!parts) throw new ContextMissingError(ref, 'no such context in this swarm');
    const size = Number(parts.get('size')?.toString());
    const chunks = Number(parts.get('chunks')?.toString());
    if (!Number.isSafeInteger(size) || !Number.isSafeInteger(chunks))
      throw new ContextMissingError(ref, 'its header is missing or damaged');
    const pieces: Buffer[] = [];
    for (let i = 0; i < chunks; i++) {
      const piece = parts.get(`c${i}`);
      if (!piece) throw new ContextMissingError(ref, `chunk ${i} of ${chunks} is missing`);
      pieces.push(piece);
    }
    const content = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
    if (content.length !== size || (await contextRef(content)) !== ref) throw new ContextCorruptError(ref);
    this.#cache.set(cacheKey, content);
    return content;
  }
}
